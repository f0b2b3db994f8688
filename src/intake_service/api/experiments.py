"""Experiment routes: HTTP in, HTTP out. Rules live in domain.experiments."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from intake_service.api.deps import Caller, ExperimentName, Experiments, Telemetry, Workspace
from intake_service.api.responses import CONFLICT, NOT_FOUND, UNAVAILABLE, OffLoopJsonRoute, rollup_header
from intake_service.domain import experiments as domain
from intake_service.domain.listing import parse_list_query
from intake_service.domain.paging import reject_unknown_params
from intake_service.models.generated import ExperimentRequest, ExperimentResponse, ExperimentResponsesPage

router = APIRouter(prefix="/experiments", tags=["experiments"], route_class=OffLoopJsonRoute)
LIST_PARAMS = {"page", "page_size", "sort", "pinned_first", "filter"}


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
    return rollup_header(response, await domain.create(repo, telemetry, workspace, body, caller.name))


@router.get(
    "",
    response_model=ExperimentResponsesPage,
    responses={**UNAVAILABLE},
    operation_id="list-experiments-apis-intake-v-2-workspaces-workspace-experiments-get",
    summary="List Experiments",
)
async def list_experiments(
    workspace: Workspace,
    request: Request,
    repo: Experiments,
    telemetry: Telemetry,
    response: Response,
    page: Annotated[int, Query(ge=1, description="Page number.")] = 1,
    page_size: Annotated[int, Query(ge=1, le=1000, description="Page size.")] = 100,
    sort: Annotated[str, Query(description="Sort field; prefix with '-' for descending.")] = "-created_at",
    pinned_first: Annotated[bool, Query(description="Put pinned experiments first.")] = True,
    filter: Annotated[
        str | None, Query(description="A JSON filter object; filter[field][$op]=value is accepted too.")
    ] = None,
) -> ExperimentResponsesPage:
    reject_unknown_params(request.query_params.multi_items(), LIST_PARAMS, bracket_filters=True)
    query = parse_list_query(
        request.query_params, page=page, page_size=page_size, sort=sort, pinned_first=pinned_first
    )
    page_body, available = await domain.list_page(repo, telemetry, workspace, query)
    if not available:
        response.headers["X-Intake-Rollups"] = "unavailable"
    return page_body


@router.get(
    "/{name}",
    response_model=ExperimentResponse,
    responses={**NOT_FOUND},
    operation_id="get-experiment-apis-intake-v-2-workspaces-workspace-experiments-name-get",
    summary="Get Experiment",
)
async def get_experiment(
    workspace: Workspace, name: ExperimentName, repo: Experiments, telemetry: Telemetry, response: Response
) -> ExperimentResponse:
    return rollup_header(response, await domain.get(repo, telemetry, workspace, name))


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
    return rollup_header(response, await domain.set_pin(repo, telemetry, workspace, name, pinned=False))
