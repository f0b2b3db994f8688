"""Trace routes: GET /traces and GET /traces/{id} (SDK 0.2.0/0.3.0 `client.intake.traces`)."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from intake_service.api.deps import Telemetry, Workspace
from intake_service.api.responses import BAD_REQUEST, NOT_FOUND, UNAVAILABLE
from intake_service.domain import traces
from intake_service.domain.span_filters import Mode
from intake_service.models.generated import Trace, TracesPage

router = APIRouter(tags=["traces"])


@router.get(
    "/traces",
    response_model=TracesPage,
    response_model_exclude_none=True,
    responses={**BAD_REQUEST, **UNAVAILABLE},
    operation_id="list-traces-apis-intake-v-2-workspaces-workspace-traces-get",
    summary="List Traces",
)
async def list_traces(
    workspace: Workspace,
    request: Request,
    telemetry: Telemetry,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=1000)] = 100,
    sort: Annotated[str, Query()] = "-started_at",
    mode: Annotated[Mode, Query()] = "preview",
) -> TracesPage:
    return await traces.list_traces(
        telemetry, workspace, request.query_params.multi_items(), page=page, page_size=page_size, sort=sort, mode=mode
    )


@router.get(
    "/traces/{id}",
    response_model=Trace,
    response_model_exclude_none=True,
    responses={**NOT_FOUND, **UNAVAILABLE},
    operation_id="get-trace-apis-intake-v-2-workspaces-workspace-traces-id-get",
    summary="Get Trace",
)
async def get_trace(
    workspace: Workspace,
    trace_id: Annotated[str, Path(alias="id")],
    telemetry: Telemetry,
    mode: Annotated[Mode, Query()] = "detailed",
) -> Trace:
    return await traces.get_trace(telemetry, workspace, trace_id, mode)
