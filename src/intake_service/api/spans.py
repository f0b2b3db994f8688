"""Span routes: GET /spans, /spans/groups, /spans/{span_id}, /spans/{span_id}/evaluator-results
(SDK 0.2.0/0.3.0 `client.intake.spans`)."""

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
from intake_service.domain import spans
from intake_service.models.generated import EvaluatorResult, Span, SpanGroupsPage, SpansPage

router = APIRouter(tags=["traces"])
SpanId = Annotated[str, Path(description="The span's id.")]


# What spans.parse_group_by takes: one or both fields, each once, empty keys skipped.
GROUP_BY = {"pattern": r"^[\s,]*(trace_id([\s,]*,[\s,]*session_id)?|session_id([\s,]*,[\s,]*trace_id)?)[\s,]*$"}


@router.get(
    "/spans",
    response_model=SpansPage,
    response_model_exclude_none=True,
    responses={**BAD_REQUEST, **UNAVAILABLE},
    operation_id="list-spans-apis-intake-v-2-workspaces-workspace-spans-get",
    summary="List Spans",
)
async def list_spans(
    workspace: Workspace,
    request: Request,
    telemetry: Telemetry,
    page: PageNumber = 1,
    page_size: PageSize = SPAN_READ_PAGE_SIZE,
    sort: Annotated[str, single_sort("started_at")] = "-started_at",
    mode: ViewMode = "detailed",
) -> SpansPage:
    """One page of the workspace's spans (filter[...] by session_id, trace_id, parent_span_id, evaluation_name
    or evaluation_id, test_case_name or test_case_id, source, kind, status, model, agent_name, provider,
    started_at), newest first."""
    return await spans.list_spans(
        telemetry, workspace, request.query_params.multi_items(), page=page, page_size=page_size, sort=sort, mode=mode
    )


# Declared before /spans/{span_id}, which would otherwise take "groups" as a span id.
@router.get(
    "/spans/groups",
    response_model=SpanGroupsPage,
    responses={**BAD_REQUEST, **UNAVAILABLE},
    operation_id="list-span-groups-apis-intake-v-2-workspaces-workspace-spans-groups-get",
    summary="List Span Groups",
)
async def list_span_groups(
    workspace: Workspace,
    request: Request,
    telemetry: Telemetry,
    by: Annotated[str, Query(description="trace_id, session_id, or both comma-separated.", json_schema_extra=GROUP_BY)],
    page: PageNumber = 1,
    page_size: PageSize = SPAN_READ_PAGE_SIZE,
    sort: Annotated[str, single_sort("span_count", "started_at")] = "-span_count",
) -> SpanGroupsPage:
    """Spans grouped by trace, session or both, with each group's span count and earliest start."""
    return await spans.span_groups(
        telemetry, workspace, request.query_params.multi_items(), by=by, page=page, page_size=page_size, sort=sort
    )


@router.get(
    "/spans/{span_id}",
    response_model=Span,
    response_model_exclude_none=True,
    responses={**NOT_FOUND, **UNAVAILABLE},
    operation_id="get-span-apis-intake-v-2-workspaces-workspace-spans-span-id-get",
    summary="Get Span",
)
async def get_span(workspace: Workspace, span_id: SpanId, telemetry: Telemetry) -> Span:
    """One span, with its attributes."""
    return await spans.get_span(telemetry, workspace, span_id)


@router.get(
    "/spans/{span_id}/evaluator-results",
    response_model=list[EvaluatorResult],
    responses={**UNAVAILABLE},
    operation_id="list-span-evaluator-results-apis-intake-v-2-workspaces-workspace-spans-span-id-evaluator-results-get",
    summary="List Span Evaluator Results",
)
async def list_span_evaluator_results(
    workspace: Workspace, span_id: SpanId, telemetry: Telemetry
) -> list[EvaluatorResult]:
    """The evaluator results recorded on one span."""
    return await spans.span_evaluator_results(telemetry, workspace, span_id)
