"""Evaluator-result routes: record one, list them, read one. Rules live in domain.evaluator_results."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from intake_service.api.deps import Caller, Experiments, Telemetry, Workspace, reject_undeclared_params
from intake_service.api.responses import BAD_REQUEST, NOT_FOUND, UNAVAILABLE
from intake_service.domain import evaluator_results as domain
from intake_service.models.generated import EvaluatorResult, EvaluatorResultInput, EvaluatorResultsPage

router = APIRouter(prefix="/evaluator-results")


@router.post(
    "",
    status_code=201,
    response_model=EvaluatorResult,
    responses={**BAD_REQUEST, **UNAVAILABLE},
    tags=["sessions", "evaluator-results"],
    operation_id="create-evaluator-result-apis-intake-v-2-workspaces-workspace-evaluator-results-post",
    summary="Create Evaluator Result",
)
async def create_evaluator_result(
    workspace: Workspace, body: EvaluatorResultInput, repo: Experiments, telemetry: Telemetry, caller: Caller
) -> EvaluatorResult:
    return await domain.record_evaluator_result(repo, telemetry, workspace, body, caller.name)


@router.get(
    "",
    response_model=EvaluatorResultsPage,
    responses=UNAVAILABLE,
    tags=["evaluator-results"],
    operation_id="list-evaluator-results-apis-intake-v-2-workspaces-workspace-evaluator-results-get",
    summary="List Evaluator Results",
)
async def list_evaluator_results(
    workspace: Workspace,
    request: Request,
    telemetry: Telemetry,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=1000)] = 100,
    sort: Annotated[str, Query()] = "-created_at",
    session_id: Annotated[str | None, Query(alias="filter[session_id]")] = None,
    span_id: Annotated[str | None, Query(alias="filter[span_id]")] = None,
    name: Annotated[str | None, Query(alias="filter[name]")] = None,
    data_type: Annotated[str | None, Query(alias="filter[data_type]")] = None,
    value_gte: Annotated[float | None, Query(alias="filter[value][$gte]")] = None,
    value_lte: Annotated[float | None, Query(alias="filter[value][$lte]")] = None,
    created_gte: Annotated[str | None, Query(alias="filter[created_at][$gte]")] = None,
    created_lte: Annotated[str | None, Query(alias="filter[created_at][$lte]")] = None,
) -> EvaluatorResultsPage:
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
    tags=["evaluator-results"],
    operation_id="get-evaluator-result-apis-intake-v-2-workspaces-workspace-evaluator-results-evaluator-result-id-get",
    summary="Get Evaluator Result",
)
async def get_evaluator_result(
    workspace: Workspace,
    evaluator_result_id: Annotated[str, Path(min_length=1, max_length=255)],
    telemetry: Telemetry,
) -> EvaluatorResult:
    return await domain.get_result(telemetry, workspace, evaluator_result_id)
