"""Annotation routes: create, get, list, delete (SDK 0.2.0/0.3.0 `client.intake.annotations`)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from intake_service.api.deps import Caller, Telemetry, Workspace
from intake_service.api.responses import BAD_REQUEST, NOT_FOUND, UNAVAILABLE
from intake_service.domain import annotations
from intake_service.models.generated import Annotation, AnnotationInput, AnnotationsPage

router = APIRouter(tags=["annotations"])


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
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=1000)] = 100,
    sort: Annotated[str, Query()] = "-created_at",
) -> AnnotationsPage:
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
async def get_annotation(workspace: Workspace, annotation_id: str, telemetry: Telemetry) -> Annotation:
    return await annotations.get_annotation(telemetry, workspace, annotation_id)


@router.delete(
    "/annotations/{annotation_id}",
    status_code=204,
    response_class=Response,
    responses={**NOT_FOUND, **UNAVAILABLE},
    operation_id="delete-annotation-apis-intake-v-2-workspaces-workspace-annotations-annotation-id-delete",
    summary="Delete Annotation",
)
async def delete_annotation(workspace: Workspace, annotation_id: str, telemetry: Telemetry) -> Response:
    await annotations.delete_annotation(telemetry, workspace, annotation_id)
    return Response(status_code=204)
