"""Evaluation routes (SDK 0.3.0 `/evaluations`): HTTP in, HTTP out; rules in domain.evaluations(_list)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.api.deps import (
    Caller,
    ExperimentName,
    PageNumber,
    PageSize,
    Session,
    Telemetry,
    ViewMode,
    Workspace,
    multi_sort_pattern,
    reject_undeclared_params,
)
from intake_service.api.export import FormatParam, all_pages, export_format, export_responses, stream
from intake_service.api.responses import BAD_REQUEST, CONFLICT, NOT_FOUND, TOO_LARGE, UNAVAILABLE, OffLoopJsonRoute
from intake_service.domain import evaluation_list, evaluation_sessions
from intake_service.domain import evaluations as domain
from intake_service.domain.evaluation_rollups import COUNTS, STATISTICS
from intake_service.domain.evaluation_sessions import SESSION_SORTS
from intake_service.domain.listing import COLUMN_SORTS
from intake_service.domain.paging import reject_unknown_params
from intake_service.domain.rollup_metrics import STATS
from intake_service.domain.span_filters import STATUSES
from intake_service.models.generated import (
    EvaluationPatchRequest,
    EvaluationRequest,
    EvaluationResponse,
    EvaluationResponsesPage,
    EvaluationSessionsPage,
)
from intake_service.store.postgres.evaluations import EvaluationRepository

router = APIRouter(prefix="/evaluations", tags=["evaluations"], route_class=OffLoopJsonRoute)
LIST_PARAMS = {"page", "page_size", "sort", "filter", "format"}
_STAT = "|".join(STATS)
# The list's sort keys as the document states them: columns and rollup paths (evaluation_list.parse_sort_keys).
LIST_SORT = multi_sort_pattern(
    "|".join((*COLUMN_SORTS, *COUNTS)) + rf"|({'|'.join(STATISTICS)})\.({_STAT})|evaluators\.[^,\x00]+\.({_STAT})"
)


async def _repository(session: Session) -> EvaluationRepository:
    return EvaluationRepository(session)


Evaluations = Annotated[EvaluationRepository, Depends(_repository)]


def _answer(response: Response, result: tuple[EvaluationResponse, bool]) -> EvaluationResponse:
    body, available = result
    if not available:
        response.headers["X-Intake-Rollups"] = "unavailable"
    return body


@router.post(
    "",
    status_code=201,
    response_model=EvaluationResponse,
    responses={**BAD_REQUEST, **CONFLICT},
    operation_id="create-evaluation-apis-intake-v-2-workspaces-workspace-evaluations-post",
    summary="Create Evaluation",
)
async def create_evaluation(
    workspace: Workspace,
    body: EvaluationRequest,
    repo: Evaluations,
    telemetry: Telemetry,
    caller: Caller,
    response: Response,
) -> EvaluationResponse:
    """Create an evaluation (a run of an agent on a dataset) in at least one experiment group; a live name is a 409."""
    return _answer(response, await domain.create(repo, telemetry, workspace, body, caller.name))


@router.get(
    "",
    response_model=EvaluationResponsesPage,
    responses={
        **export_responses(
            EvaluationResponsesPage,
            "id,name,dataset_name,run_count,test_case_count,cost_usd.mean,aggregate_scores.accuracy.mean\n"
            "exp-01J5,nightly-2026-01-05,gsm8k,240,120,0.0042,0.81\n",
            '{"id": "exp-01J5", "name": "nightly-2026-01-05", "dataset_name": "gsm8k", "test_case_count": 120}\n',
        ),
        **BAD_REQUEST,
        **TOO_LARGE,
        **UNAVAILABLE,
    },
    operation_id="list-evaluations-apis-intake-v-2-workspaces-workspace-evaluations-get",
    summary="List Evaluations",
)
async def list_evaluations(
    workspace: Workspace,
    request: Request,
    repo: Evaluations,
    telemetry: Telemetry,
    response: Response,
    page: Annotated[int, Query(ge=1, description="Page number.")] = 1,
    page_size: Annotated[int, Query(ge=1, le=1000, description="Page size.")] = 100,
    sort: Annotated[
        str | None,
        Query(
            description="Comma-separated sort keys (columns or rollup paths), '-' for descending.",
            json_schema_extra=LIST_SORT,
        ),
    ] = None,
    filter: Annotated[
        str | None,
        Query(
            min_length=1,
            description="A JSON filter object; filter[field][$op]=value is accepted too.",
            json_schema_extra={"pattern": r"^\s*\{"},
        ),
    ] = None,
    format: FormatParam = None,
) -> EvaluationResponsesPage | Response:
    """One page of the workspace's evaluations with their 0.3.0 rollups (per test case, then across test cases).
    As CSV or NDJSON (format= or Accept), every evaluation the filter selects, in the same order."""
    reject_unknown_params(request.query_params.multi_items(), LIST_PARAMS, bracket_filters=True)
    if (wanted := export_format(request, format)) != "json":

        async def fetch(session: AsyncSession, number: int, size: int) -> EvaluationResponsesPage:
            batch, _ = await evaluation_list.list_page(
                EvaluationRepository(session), telemetry, workspace, request.query_params,
                page=number, page_size=size, sort=sort,
            )  # fmt: skip
            return batch

        return stream(await all_pages(request, repo.session, fetch), wanted)
    page_body, available = await evaluation_list.list_page(
        repo, telemetry, workspace, request.query_params, page=page, page_size=page_size, sort=sort
    )
    if not available:
        response.headers["X-Intake-Rollups"] = "unavailable"
    return page_body


@router.get(
    "/{name}",
    response_model=EvaluationResponse,
    responses={**NOT_FOUND},
    operation_id="get-evaluation-apis-intake-v-2-workspaces-workspace-evaluations-name-get",
    summary="Get Evaluation",
)
async def get_evaluation(
    workspace: Workspace, name: ExperimentName, repo: Evaluations, telemetry: Telemetry, response: Response
) -> EvaluationResponse:
    """One live evaluation by name, with its rollups."""
    return _answer(response, await domain.get(repo, telemetry, workspace, name))


@router.put(
    "/{name}",
    response_model=EvaluationResponse,
    responses={**BAD_REQUEST, **NOT_FOUND, **CONFLICT},
    operation_id="update-evaluation-apis-intake-v-2-workspaces-workspace-evaluations-name-put",
    summary="Update Evaluation",
)
async def update_evaluation(
    workspace: Workspace,
    name: ExperimentName,
    body: EvaluationRequest,
    repo: Evaluations,
    telemetry: Telemetry,
    response: Response,
) -> EvaluationResponse:
    """Full replacement; name, dataset_name and dataset_version cannot change (409)."""
    return _answer(response, await domain.replace(repo, telemetry, workspace, name, body))


@router.patch(
    "/{name}",
    response_model=EvaluationResponse,
    responses={**BAD_REQUEST, **NOT_FOUND},
    operation_id="patch-evaluation-apis-intake-v-2-workspaces-workspace-evaluations-name-patch",
    summary="Patch Evaluation",
)
async def patch_evaluation(
    workspace: Workspace,
    name: ExperimentName,
    body: EvaluationPatchRequest,
    repo: Evaluations,
    telemetry: Telemetry,
    response: Response,
) -> EvaluationResponse:
    """Change only the fields present in the body; experiment_ids replaces the membership."""
    return _answer(response, await domain.patch(repo, telemetry, workspace, name, body))


@router.delete(
    "/{name}",
    status_code=204,
    response_class=Response,
    responses={**NOT_FOUND},
    operation_id="delete-evaluation-apis-intake-v-2-workspaces-workspace-evaluations-name-delete",
    summary="Delete Evaluation",
)
async def delete_evaluation(workspace: Workspace, name: ExperimentName, repo: Evaluations) -> Response:
    """Soft delete: the evaluation is renamed <name>-deleted-<UTC time>, so its name is free again."""
    await domain.delete(repo, workspace, name)
    return Response(status_code=204)


@router.post(
    "/{name}/pin",
    response_model=EvaluationResponse,
    responses={**NOT_FOUND},
    operation_id="pin-evaluation-apis-intake-v-2-workspaces-workspace-evaluations-name-pin-post",
    summary="Pin Evaluation",
)
async def pin_evaluation(
    workspace: Workspace, name: ExperimentName, repo: Evaluations, telemetry: Telemetry, response: Response
) -> EvaluationResponse:
    """Pin the evaluation (pinning again refreshes pinned_at); pinned rows list first when no sort is given."""
    return _answer(response, await domain.set_pin(repo, telemetry, workspace, name, pinned=True))


@router.delete(
    "/{name}/pin",
    response_model=EvaluationResponse,
    responses={**NOT_FOUND},
    operation_id="unpin-evaluation-apis-intake-v-2-workspaces-workspace-evaluations-name-pin-delete",
    summary="Unpin Evaluation",
)
async def unpin_evaluation(
    workspace: Workspace, name: ExperimentName, repo: Evaluations, telemetry: Telemetry, response: Response
) -> EvaluationResponse:
    """Unpin the evaluation."""
    return _answer(response, await domain.set_pin(repo, telemetry, workspace, name, pinned=False))


@router.get(
    "/{name}/sessions",
    response_model=EvaluationSessionsPage,
    responses={
        **export_responses(
            EvaluationSessionsPage,
            "evaluation_name,session_id,test_case_id,started_at,latency_ms,status,cost_total_usd,"
            "evaluator_scores.accuracy\nbaseline,run-0007,q-17,2026-01-05T09:00:00Z,2500.0,success,0.0042,1.0\n",
            '{"evaluation_name": "baseline", "session_id": "run-0007", "test_case_id": "q-17", '
            '"cost_total_usd": 0.0042}\n',
        ),
        **BAD_REQUEST,
        **NOT_FOUND,
        **UNAVAILABLE,
    },
    operation_id="list-evaluation-sessions-apis-intake-v-2-workspaces-workspace-evaluations-name-sessions-get",
    summary="List Evaluation Sessions",
)
async def list_evaluation_sessions(
    workspace: Workspace,
    name: ExperimentName,
    request: Request,
    repo: Evaluations,
    telemetry: Telemetry,
    page: PageNumber = 1,
    page_size: PageSize = 100,
    mode: ViewMode = "detailed",
    sort: Annotated[
        str | None,
        Query(
            description=f"Comma-separated keys, '-' for descending: {', '.join(SESSION_SORTS)}.",
            json_schema_extra=multi_sort_pattern("|".join(SESSION_SORTS)),
        ),
    ] = None,
    test_case_name: Annotated[
        str | None,
        Query(alias="filter[test_case_name]", description="Sessions of this test case (SDK 0.4+ spelling)."),
    ] = None,
    test_case_id: Annotated[
        str | None, Query(alias="filter[test_case_id]", description="Sessions of this test case (SDK 0.3.0).")
    ] = None,
    status: Annotated[
        str | None,
        Query(alias="filter[status]", description="Sessions with this status.", json_schema_extra={"enum": STATUSES}),
    ] = None,
    format: FormatParam = None,
) -> EvaluationSessionsPage | Response:
    """One page of the evaluation's sessions in the mode asked for, sorted by one or more keys. As CSV
    or NDJSON (format= or Accept), every session the filter selects, in the same order."""
    reject_undeclared_params(request)

    async def fetch(session: AsyncSession, number: int, size: int) -> EvaluationSessionsPage:
        return await evaluation_sessions.list_sessions(
            EvaluationRepository(session), telemetry, workspace, name,
            page=number, page_size=size, mode=mode, sort=sort,
            test_case_name=test_case_name, test_case_id=test_case_id, status=status,
        )  # fmt: skip

    if (wanted := export_format(request, format)) != "json":
        return stream(await all_pages(request, repo.session, fetch), wanted)
    return await fetch(repo.session, page, page_size)
