"""Evaluator-result routes: record one, list them, read one. Rules live in domain.evaluator_results."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request

from intake_service.api.deps import (
    SPAN_READ_PAGE_SIZE,
    Caller,
    Experiments,
    PageNumber,
    PageSize,
    Telemetry,
    Workspace,
    reject_undeclared_params,
)
from intake_service.api.responses import BAD_REQUEST, NOT_FOUND, UNAVAILABLE, OffLoopJsonRoute
from intake_service.domain import evaluator_results as domain
from intake_service.models.generated import EvaluatorResult, EvaluatorResultInput, EvaluatorResultsPage

router = APIRouter(prefix="/evaluator-results", tags=["evaluator-results"], route_class=OffLoopJsonRoute)
DataType = Literal["NUMERIC", "BOOLEAN", "CATEGORICAL", "TEXT"]
# Times the telemetry store holds: RFC 3339 in the years 1900-2299.
MOMENT: dict[str, Any] = {"json_schema_extra": {"format": "date-time", "pattern": "^(19[0-9]{2}|2[0-2][0-9]{2})-"}}


@router.post(
    "",
    status_code=201,
    response_model=EvaluatorResult,
    responses={**BAD_REQUEST, **UNAVAILABLE},
    operation_id="create-evaluator-result-apis-intake-v-2-workspaces-workspace-evaluator-results-post",
    summary="Create Evaluator Result",
)
async def create_evaluator_result(
    workspace: Workspace, body: EvaluatorResultInput, repo: Experiments, telemetry: Telemetry, caller: Caller
) -> EvaluatorResult:
    """Record one evaluator's verdict on a session (or one of its spans). A result for the same session,
    span and evaluator name replaces the earlier one."""
    return await domain.record_evaluator_result(repo, telemetry, workspace, body, caller.name)


@router.get(
    "",
    response_model=EvaluatorResultsPage,
    responses=UNAVAILABLE,
    operation_id="list-evaluator-results-apis-intake-v-2-workspaces-workspace-evaluator-results-get",
    summary="List Evaluator Results",
)
async def list_evaluator_results(
    workspace: Workspace,
    request: Request,
    telemetry: Telemetry,
    page: PageNumber = 1,
    page_size: PageSize = SPAN_READ_PAGE_SIZE,
    sort: Annotated[
        str,
        Query(
            description=f"One of {', '.join(domain.RESULT_SORTS)}; '-' first for descending.",
            json_schema_extra={"enum": [f"{sign}{f}" for f in domain.RESULT_SORTS for sign in ("", "-")]},
        ),
    ] = "-created_at",
    session_id: Annotated[str | None, Query(alias="filter[session_id]", description="Results of this session.")] = None,
    span_id: Annotated[str | None, Query(alias="filter[span_id]", description="Results on this span.")] = None,
    name: Annotated[str | None, Query(alias="filter[name]", description="Results of this evaluator.")] = None,
    data_type: Annotated[DataType | None, Query(alias="filter[data_type]", description="Results of this type.")] = None,
    value_gte: Annotated[float | None, Query(alias="filter[value][$gte]", description="value at least this.")] = None,
    value_lte: Annotated[float | None, Query(alias="filter[value][$lte]", description="value at most this.")] = None,
    created_gte: Annotated[
        str | None, Query(alias="filter[created_at][$gte]", description="Created at or after (RFC 3339).", **MOMENT)
    ] = None,
    created_lte: Annotated[
        str | None, Query(alias="filter[created_at][$lte]", description="Created at or before (RFC 3339).", **MOMENT)
    ] = None,
) -> EvaluatorResultsPage:
    """One page of the workspace's evaluator results, newest first unless sorted otherwise."""
    reject_undeclared_params(request)
    return await domain.list_results(
        telemetry, workspace,
        page=page, page_size=page_size, sort=sort,
        session_id=session_id, span_id=span_id, name=name, data_type=data_type,
        value_gte=value_gte, value_lte=value_lte, created_gte=created_gte, created_lte=created_lte,
    )  # fmt: skip


@router.get(
    "/{evaluator_result_id}",
    response_model=EvaluatorResult,
    responses={**NOT_FOUND, **UNAVAILABLE},
    operation_id="get-evaluator-result-apis-intake-v-2-workspaces-workspace-evaluator-results-evaluator-result-id-get",
    summary="Get Evaluator Result",
)
async def get_evaluator_result(
    workspace: Workspace,
    evaluator_result_id: Annotated[str, Path(min_length=1, max_length=255, description="The result's id.")],
    telemetry: Telemetry,
) -> EvaluatorResult:
    """One evaluator result by its id."""
    return await domain.get_result(telemetry, workspace, evaluator_result_id)
