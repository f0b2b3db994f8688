"""Experiment routes: HTTP in, HTTP out. Rules live in domain.experiments."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.api.deps import Caller, ExperimentName, Experiments, PageNumber, PageSize, Telemetry, Workspace
from intake_service.api.export import FormatParam, all_pages, export_format, export_responses, stream
from intake_service.api.responses import (
    CONFLICT,
    NOT_FOUND,
    UNAVAILABLE,
    OffLoopJsonRoute,
    json_response,
    rollup_header,
)
from intake_service.domain import experiments as domain
from intake_service.domain.filters import (
    BOOL_FIELDS,
    DATETIME_FIELDS,
    MAX_FILTER_CONDITIONS,
    MAX_FILTER_DEPTH,
    OPS_BY_KIND,
    STRING_FIELDS,
)
from intake_service.domain.listing import COLUMN_SORTS, parse_list_query
from intake_service.domain.paging import reject_unknown_params
from intake_service.domain.rollup_metrics import METRICS, STATS
from intake_service.models.generated import ExperimentRequest, ExperimentResponse, ExperimentResponsesPage
from intake_service.store.postgres.experiments import ExperimentRepository

router = APIRouter(prefix="/experiments", tags=["experiments"], route_class=OffLoopJsonRoute)
LIST_PARAMS = {"page", "page_size", "sort", "pinned_first", "filter", "format"}
ROLLUPS = tuple(metric.path_form for metric in METRICS)
# Written from the list grammar's own tables (domain.listing), so the document cannot drift from it.
SORT_HELP = (
    f"One field, '-' first for descending: {', '.join((*COLUMN_SORTS, *ROLLUPS))} "
    f"(<stat> is one of {', '.join(STATS)})."
)
_STAT = f"({'|'.join(STATS)})"
SORT_PATTERN = rf"^-?({'|'.join(COLUMN_SORTS)}|run_count|(cost_usd|latency_ms)\.{_STAT}|evaluators\..+\.{_STAT})$"
FILTER_HELP = (
    'A JSON object, e.g. {"dataset_name": "gsm8k", "evaluators.accuracy.mean": {"$gte": 0.8}}, or the bracket '
    "form filter[field]=value and filter[field][$op]=value. Fields and their operators: "
    f"{', '.join(STRING_FIELDS)} ({' '.join(OPS_BY_KIND['string'])}); "
    f"{', '.join(DATETIME_FIELDS)} ({' '.join(OPS_BY_KIND['datetime'])}); "
    f"{', '.join(BOOL_FIELDS)} ({' '.join(OPS_BY_KIND['bool'])}); "
    f"metadata.<key> ({' '.join(OPS_BY_KIND['metadata'])}); "
    f"{', '.join(ROLLUPS)} ({' '.join(OPS_BY_KIND['rollup'])}). "
    f"Combine with $and, $or (lists) and $not; at most {MAX_FILTER_DEPTH} levels and {MAX_FILTER_CONDITIONS} "
    "conditions. A bare value means $eq."
)


@router.post(
    "",
    status_code=201,
    response_model=ExperimentResponse,
    responses={**CONFLICT},
    operation_id="create-experiment-apis-intake-v-2-workspaces-workspace-experiments-post",
    summary="Create Experiment",
)
async def create_experiment(
    workspace: Workspace,
    body: ExperimentRequest,
    repo: Experiments,
    telemetry: Telemetry,
    caller: Caller,
    response: Response,
) -> ExperimentResponse:
    """Create an experiment: a workspace-unique name and its dataset. 409 when the name is taken."""
    return rollup_header(response, await domain.create(repo, telemetry, workspace, body, caller.name))


@router.get(
    "",
    response_model=ExperimentResponsesPage,
    responses={
        **export_responses(
            ExperimentResponsesPage,
            "id,name,workspace,dataset_name,run_count,cost_usd.mean,latency_ms.p95,aggregate_scores.accuracy.mean\n"
            "exp-01J5,exp-a,default,gsm8k,120,0.0042,2300.0,0.81\n",
            '{"id": "exp-01J5", "name": "exp-a", "workspace": "default", "dataset_name": "gsm8k", "run_count": 120}\n',
        ),
        **UNAVAILABLE,
    },
    operation_id="list-experiments-apis-intake-v-2-workspaces-workspace-experiments-get",
    summary="List Experiments",
)
async def list_experiments(
    workspace: Workspace,
    request: Request,
    repo: Experiments,
    telemetry: Telemetry,
    response: Response,
    page: PageNumber = 1,
    page_size: PageSize = 100,
    sort: Annotated[str, Query(description=SORT_HELP, json_schema_extra={"pattern": SORT_PATTERN})] = "-created_at",
    pinned_first: Annotated[bool, Query(description="Pinned experiments first, most recently pinned first.")] = True,
    filter: Annotated[
        str | None, Query(min_length=1, description=FILTER_HELP, json_schema_extra={"pattern": r"^\s*\{"})
    ] = None,
    format: FormatParam = None,
) -> ExperimentResponsesPage | Response:
    """One page of the workspace's experiments with their rollups (runs, cost, latency, evaluator
    statistics), sorted and filtered. Each query parameter may be given once (the $in and $nin
    bracket filters may repeat). As CSV or NDJSON (format= or Accept), every experiment the filter
    selects, in the same order."""
    reject_unknown_params(request.query_params.multi_items(), LIST_PARAMS, bracket_filters=True)
    if (wanted := export_format(request, format)) != "json":

        async def fetch(session: AsyncSession, number: int, size: int) -> ExperimentResponsesPage:
            query = parse_list_query(
                request.query_params, page=number, page_size=size, sort=sort, pinned_first=pinned_first
            )
            return (await domain.list_page(ExperimentRepository(session), telemetry, workspace, query))[0]

        return stream(await all_pages(request, repo.session, fetch), wanted)
    query = parse_list_query(request.query_params, page=page, page_size=page_size, sort=sort, pinned_first=pinned_first)
    hydrated, total = await domain.list_hydrated(repo, telemetry, workspace, query)
    return json_response(
        domain.page_fields(query, hydrated, total),
        lambda: domain.page_envelope(query, hydrated, total),
        rollups_available=hydrated.available,
    )


@router.get(
    "/{name}",
    response_model=ExperimentResponse,
    responses={**NOT_FOUND},
    operation_id="get-experiment-apis-intake-v-2-workspaces-workspace-experiments-name-get",
    summary="Get Experiment",
)
async def get_experiment(
    workspace: Workspace, name: ExperimentName, repo: Experiments, telemetry: Telemetry
) -> Response:
    """One experiment with its rollups; X-Intake-Rollups: unavailable when the telemetry store is down."""
    hydrated = await domain.get(repo, telemetry, workspace, name)
    return json_response(hydrated.fields[0], lambda: hydrated.experiments[0], rollups_available=hydrated.available)


@router.put(
    "/{name}",
    response_model=ExperimentResponse,
    responses={**NOT_FOUND, **CONFLICT},
    operation_id="update-experiment-apis-intake-v-2-workspaces-workspace-experiments-name-put",
    summary="Update Experiment",
)
async def update_experiment(
    workspace: Workspace,
    name: ExperimentName,
    body: ExperimentRequest,
    repo: Experiments,
    telemetry: Telemetry,
    response: Response,
) -> ExperimentResponse:
    """Replace an experiment's fields. name and dataset_name cannot change (409)."""
    return rollup_header(response, await domain.replace(repo, telemetry, workspace, name, body))


@router.delete(
    "/{name}",
    status_code=204,
    response_class=Response,
    responses={**NOT_FOUND},
    operation_id="delete-experiment-apis-intake-v-2-workspaces-workspace-experiments-name-delete",
    summary="Delete Experiment",
)
async def delete_experiment(workspace: Workspace, name: ExperimentName, repo: Experiments) -> Response:
    """Delete an experiment. It stays listable as deleted (filter[is_deleted]=true); its name may be used
    again by a new experiment, which starts with no sessions."""
    await domain.delete(repo, workspace, name)
    return Response(status_code=204)


@router.post(
    "/{name}/pin",
    response_model=ExperimentResponse,
    responses={**NOT_FOUND},
    operation_id="pin-experiment-apis-intake-v-2-workspaces-workspace-experiments-name-pin-post",
    summary="Pin Experiment",
)
async def pin_experiment(
    workspace: Workspace, name: ExperimentName, repo: Experiments, telemetry: Telemetry, response: Response
) -> ExperimentResponse:
    """Pin an experiment to the top of the list (workspace-shared). Pinning again refreshes pinned_at."""
    return rollup_header(response, await domain.set_pin(repo, telemetry, workspace, name, pinned=True))


@router.delete(
    "/{name}/pin",
    response_model=ExperimentResponse,
    responses={**NOT_FOUND},
    operation_id="unpin-experiment-apis-intake-v-2-workspaces-workspace-experiments-name-pin-delete",
    summary="Unpin Experiment",
)
async def unpin_experiment(
    workspace: Workspace, name: ExperimentName, repo: Experiments, telemetry: Telemetry, response: Response
) -> ExperimentResponse:
    """Unpin an experiment. Idempotent."""
    return rollup_header(response, await domain.set_pin(repo, telemetry, workspace, name, pinned=False))
