"""Container routes (SDK 0.4.0 to 0.6.0): `/experiments` under /nemo-0.4, the root's experiment
groups seen as containers of evaluations. HTTP in, HTTP out; rules live in domain.containers."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from intake_service.api.deps import ExperimentName, Workspace
from intake_service.api.experiment_groups import Groups, ListFilter, ListSort
from intake_service.api.responses import BAD_REQUEST, CONFLICT, NOT_FOUND, OffLoopJsonRoute
from intake_service.domain import containers as domain
from intake_service.domain import experiment_groups
from intake_service.models.generated import (
    ContainerRequest,
    ContainerUpdateRequest,
    ExperimentGroupResponse,
    ExperimentGroupResponsesPage,
)

# Prefix-less: api.router serves these at /experiments and, hidden, at /experiment-groups (0.4.0's alias).
router = APIRouter(tags=["experiments"], route_class=OffLoopJsonRoute)
OPERATION = "nemo-0-4-{}-apis-intake-v-2-workspaces-workspace-experiments"


@router.post(
    "",
    status_code=201,
    response_model=ExperimentGroupResponse,
    responses={**BAD_REQUEST, **CONFLICT},
    operation_id=OPERATION.format("create-experiment") + "-post",
    summary="Create Experiment",
)
async def create_experiment(workspace: Workspace, body: ContainerRequest, repo: Groups) -> ExperimentGroupResponse:
    """Create a container of evaluations (the root's experiment group): not a favorite, not shown over
    time, no baseline and no saved layout unless given; a live container of that name is a 409."""
    return await domain.create(repo, workspace, body)


@router.get(
    "",
    response_model=ExperimentGroupResponsesPage,
    responses={**BAD_REQUEST},
    operation_id=OPERATION.format("list-experiments") + "-get",
    summary="List Experiments",
)
async def list_experiments(
    workspace: Workspace,
    request: Request,
    repo: Groups,
    page: Annotated[int, Query(ge=1, description="Page number.")] = 1,
    page_size: Annotated[int, Query(ge=1, le=1000, description="Page size.")] = 100,
    sort: ListSort = "-created_at",
    filter: ListFilter = None,
) -> ExperimentGroupResponsesPage:
    """One page of the workspace's containers, newest first unless sorted otherwise."""
    return await experiment_groups.list_page(
        repo, workspace, request.query_params, page=page, page_size=page_size, sort=sort
    )


@router.get(
    "/{name}",
    response_model=ExperimentGroupResponse,
    responses={**NOT_FOUND},
    operation_id=OPERATION.format("get-experiment") + "-name-get",
    summary="Get Experiment",
)
async def get_experiment(workspace: Workspace, name: ExperimentName, repo: Groups) -> ExperimentGroupResponse:
    """One live container by name, with how many live evaluations belong to it."""
    return await domain.get(repo, workspace, name)


@router.put(
    "/{name}",
    response_model=ExperimentGroupResponse,
    responses={**BAD_REQUEST, **NOT_FOUND, **CONFLICT},
    operation_id=OPERATION.format("update-experiment") + "-name-put",
    summary="Update Experiment",
)
async def update_experiment(
    workspace: Workspace, name: ExperimentName, body: ContainerUpdateRequest, repo: Groups
) -> ExperimentGroupResponse:
    """Change the fields the body names (SDK 0.6.0): an omitted one, and a null pareto or column_layout,
    keeps its stored value. A baseline must be a live evaluation of this container (400); a
    different name is a 409."""
    return await domain.update(repo, workspace, name, body)


@router.delete(
    "/{name}",
    status_code=204,
    response_class=Response,
    responses={**NOT_FOUND},
    operation_id=OPERATION.format("delete-experiment") + "-name-delete",
    summary="Delete Experiment",
)
async def delete_experiment(workspace: Workspace, name: ExperimentName, repo: Groups) -> Response:
    """Soft delete: renamed <name>-deleted-<UTC time>; the evaluations that belong to it alone go with it."""
    await domain.delete(repo, workspace, name)
    return Response(status_code=204)
