"""Artifact routes: register or upload, list, download."""

from typing import Annotated
from urllib.parse import quote

from fastapi import Query, Response

from intake_service.api.workbench.routing import CurrentViewer, Ref, WorkbenchStores, errors, workbench_router
from intake_service.domain.workbench import tracking
from intake_service.models.workbench import ArtifactList, ArtifactRequest, ArtifactResult

router = workbench_router()


@router.post(
    "/{id:ref}/artifacts",
    response_model=ArtifactResult,
    responses=errors(400, 404, 413, 503),
    operation_id="workbench-add-artifact",
    summary="Register (s3_key) or upload (content_base64, at most 25 MiB) an artifact",
)
async def add_artifact(
    id: Ref, body: ArtifactRequest, stores: WorkbenchStores, viewer: CurrentViewer
) -> ArtifactResult:
    """Either s3_key (a reference the service records) or content_base64 (bytes the service stores)."""
    return await tracking.add_artifact(stores, viewer, id, body)


@router.get(
    "/{id:ref}/artifacts",
    response_model=ArtifactList,
    responses=errors(400, 404),
    operation_id="workbench-list-artifacts",
    summary="List a run's artifacts",
)
async def list_artifacts(id: Ref, stores: WorkbenchStores, viewer: CurrentViewer) -> ArtifactList:
    """The artifacts of a run (an experiment id: its latest run)."""
    return await tracking.list_artifacts(stores, viewer, id)


@router.get(
    "/{id:ref}/artifacts/content",
    response_class=Response,
    responses={
        200: {
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}, "example": "a,b\n1,2\n"}},
            "description": "The artifact's bytes, with the content type it was stored with",
            "headers": {"X-Artifact-SHA256": {"schema": {"type": "string"}, "description": "sha256 of the bytes"}},
        },
        **errors(400, 404, 503),
    },
    operation_id="workbench-download-artifact",
    summary="Download an uploaded artifact with its content type",
)
async def download_artifact(
    id: Ref,
    stores: WorkbenchStores,
    viewer: CurrentViewer,
    path: Annotated[str, Query(min_length=1, max_length=1024, description="The artifact's path within the run.")],
) -> Response:
    """The stored bytes of an uploaded artifact, with its content type and sha256 (ETag)."""
    content = await tracking.artifact_content(stores, viewer, id, path)
    headers = {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(content.name, safe='')}"}
    if content.sha256:
        headers |= {"ETag": f'"{content.sha256}"', "X-Artifact-SHA256": content.sha256}
    return Response(content.data, media_type=content.content_type, headers=headers)
