"""Annotation routes: create, get, list, delete (SDK 0.2.0/0.3.0 `client.intake.annotations`)."""

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from intake_service.api.deps import SPAN_READ_PAGE_SIZE, Caller, PageNumber, PageSize, Telemetry, Workspace, single_sort
from intake_service.api.responses import BAD_REQUEST, NOT_FOUND, UNAVAILABLE, OffLoopJsonRoute
from intake_service.domain import annotations
from intake_service.models.generated import Annotation, AnnotationInput, AnnotationsPage

AnnotationId = Annotated[str, Path(description="The annotation's id.")]
router = APIRouter(tags=["annotations"], route_class=OffLoopJsonRoute)


@router.post(
    "/annotations",
    status_code=201,
    response_model=Annotation,
    response_model_exclude_none=True,
    responses={**UNAVAILABLE},
    operation_id="create-annotation-apis-intake-v-2-workspaces-workspace-annotations-post",
    summary="Create Annotation",
)
async def create_annotation(
    workspace: Workspace, body: AnnotationInput, telemetry: Telemetry, caller: Caller
) -> Annotation:
    """Record a person's annotation (a label, score or note) on a session, trace or span."""
    return await annotations.create_annotation(telemetry, workspace, body, caller.name)


@router.get(
    "/annotations",
    response_model=AnnotationsPage,
    response_model_exclude_none=True,
    responses={**BAD_REQUEST, **UNAVAILABLE},
    operation_id="list-annotations-apis-intake-v-2-workspaces-workspace-annotations-get",
    summary="List Annotations",
)
async def list_annotations(
    workspace: Workspace,
    request: Request,
    telemetry: Telemetry,
    page: PageNumber = 1,
    page_size: PageSize = SPAN_READ_PAGE_SIZE,
    sort: Annotated[str, single_sort("created_at")] = "-created_at",
) -> AnnotationsPage:
    """One page of the workspace's annotations, newest first."""
    return await annotations.list_annotations(
        telemetry, workspace, request.query_params.multi_items(), page=page, page_size=page_size, sort=sort
    )


@router.get(
    "/annotations/{annotation_id}",
    response_model=Annotation,
    response_model_exclude_none=True,
    responses={**NOT_FOUND, **UNAVAILABLE},
    operation_id="get-annotation-apis-intake-v-2-workspaces-workspace-annotations-annotation-id-get",
    summary="Get Annotation",
)
async def get_annotation(workspace: Workspace, annotation_id: AnnotationId, telemetry: Telemetry) -> Annotation:
    """One annotation by its id."""
    return await annotations.get_annotation(telemetry, workspace, annotation_id)


@router.delete(
    "/annotations/{annotation_id}",
    status_code=204,
    response_class=Response,
    responses={**NOT_FOUND, **UNAVAILABLE},
    operation_id="delete-annotation-apis-intake-v-2-workspaces-workspace-annotations-annotation-id-delete",
    summary="Delete Annotation",
)
async def delete_annotation(workspace: Workspace, annotation_id: AnnotationId, telemetry: Telemetry) -> Response:
    """Delete an annotation; reading it afterwards answers 404."""
    await annotations.delete_annotation(telemetry, workspace, annotation_id)
    return Response(status_code=204)
