"""Trace routes: GET /traces and GET /traces/{id} (SDK 0.2.0/0.3.0 `client.intake.traces`), and
GET /traces/metrics (SDK 0.4+)."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from intake_service.api.deps import (
    SPAN_READ_PAGE_SIZE,
    PageNumber,
    PageSize,
    Telemetry,
    ViewMode,
    Workspace,
    single_sort,
)
from intake_service.api.responses import BAD_REQUEST, NOT_FOUND, UNAVAILABLE
from intake_service.domain import trace_metrics, traces
from intake_service.models.generated import Trace, TraceMetrics, TracesPage

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
    page: PageNumber = 1,
    page_size: PageSize = SPAN_READ_PAGE_SIZE,
    sort: Annotated[str, single_sort("started_at")] = "-started_at",
    mode: ViewMode = "preview",
) -> TracesPage:
    """One page of the workspace's traces (filter[...] by id, session_id, status, started_at, evaluation_id,
    test_case_id), newest first."""
    return await traces.list_traces(
        telemetry, workspace, request.query_params.multi_items(), page=page, page_size=page_size, sort=sort, mode=mode
    )


@router.get(
    "/traces/metrics",
    response_model=TraceMetrics,
    response_model_exclude_none=True,
    responses={**BAD_REQUEST, **UNAVAILABLE},
    operation_id="get-trace-metrics-apis-intake-v-2-workspaces-workspace-traces-metrics-get",
    summary="Get Trace Metrics",
)
async def get_trace_metrics(
    workspace: Workspace,
    request: Request,
    telemetry: Telemetry,
    bucket: Annotated[
        trace_metrics.Bucket,
        Query(description="The bucket width; total puts the whole range in one row (without bucket_start)."),
    ] = "day",
    timezone: Annotated[
        str, Query(description="The IANA time zone the buckets are aligned to, e.g. America/Los_Angeles.")
    ] = "UTC",
) -> TraceMetrics:
    """Time-bucketed rollups (runs, failed runs, tokens, cost, latency) of the traces the filter[...] selects
    (as GET /traces takes them); the last 7 days unless filter[started_at][$gte] says otherwise."""
    return await trace_metrics.trace_metrics(
        telemetry, workspace, request.query_params.multi_items(), bucket=bucket, timezone=timezone
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
    trace_id: Annotated[str, Path(alias="id", description="The trace's id.")],
    telemetry: Telemetry,
    mode: ViewMode = "detailed",
) -> Trace:
    """One trace with its rollups of tokens, cost and spans."""
    return await traces.get_trace(telemetry, workspace, trace_id, mode)
