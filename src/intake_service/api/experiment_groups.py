"""Experiment group routes (SDK 0.2.0 and 0.3.0): HTTP in, HTTP out. Rules live in
domain.experiment_groups."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from intake_service.api.deps import ExperimentName, Session, Workspace
from intake_service.api.responses import BAD_REQUEST, CONFLICT, NOT_FOUND, OffLoopJsonRoute
from intake_service.domain import experiment_groups as domain
from intake_service.models.generated import (
    ExperimentGroupRequest,
    ExperimentGroupResponse,
    ExperimentGroupResponsesPage,
)
from intake_service.store.postgres.experiment_groups import ExperimentGroupRepository

router = APIRouter(prefix="/experiment-groups", tags=["experiment-groups"], route_class=OffLoopJsonRoute)
# One list behind both mounts: the root's groups and /nemo-0.4's containers (api.containers).
FILTER_HELP = (
    "Equality on name, insight_id, baseline_evaluation_name, is_favorite, show_evaluations_over_time, is_deleted "
    "or metadata.<key>: filter[is_favorite]=true, filter[metadata.team]=x, or one JSON object."
)
GroupSort = Literal["-created_at", "created_at", "-updated_at", "updated_at", "-name", "name"]
ListSort = Annotated[GroupSort, Query(description="Sort field; prefix with '-' for descending.")]
ListFilter = Annotated[
    str | None, Query(min_length=1, description=FILTER_HELP, json_schema_extra={"pattern": r"^\s*\{"})
]


async def _repository(session: Session) -> ExperimentGroupRepository:
    return ExperimentGroupRepository(session)


Groups = Annotated[ExperimentGroupRepository, Depends(_repository)]


@router.post(
    "",
    status_code=201,
    response_model=ExperimentGroupResponse,
    responses={**BAD_REQUEST, **CONFLICT},
    operation_id="create-experiment-group-apis-intake-v-2-workspaces-workspace-experiment-groups-post",
    summary="Create Experiment Group",
)
async def create_experiment_group(
    workspace: Workspace, body: ExperimentGroupRequest, repo: Groups
) -> ExperimentGroupResponse:
    """Create a group (0.3.0 defaults: default_sort -created_at, pareto cost_usd against latency_ms); a live group of
    that name is a 409."""
    return await domain.create(repo, workspace, body)


@router.get(
    "",
    response_model=ExperimentGroupResponsesPage,
    responses={**BAD_REQUEST},
    operation_id="list-experiment-groups-apis-intake-v-2-workspaces-workspace-experiment-groups-get",
    summary="List Experiment Groups",
)
async def list_experiment_groups(
    workspace: Workspace,
    request: Request,
    repo: Groups,
    page: Annotated[int, Query(ge=1, description="Page number.")] = 1,
    page_size: Annotated[int, Query(ge=1, le=1000, description="Page size.")] = 100,
    sort: ListSort = "-created_at",
    filter: ListFilter = None,
) -> ExperimentGroupResponsesPage:
    """One page of the workspace's groups, newest first unless sorted otherwise."""
    return await domain.list_page(repo, workspace, request.query_params, page=page, page_size=page_size, sort=sort)


@router.get(
    "/{name}",
    response_model=ExperimentGroupResponse,
    responses={**NOT_FOUND},
    operation_id="get-experiment-group-apis-intake-v-2-workspaces-workspace-experiment-groups-name-get",
    summary="Get Experiment Group",
)
async def get_experiment_group(workspace: Workspace, name: ExperimentName, repo: Groups) -> ExperimentGroupResponse:
    """One live group by name, with how many live evaluations belong to it."""
    return await domain.get(repo, workspace, name)


@router.put(
    "/{name}",
    response_model=ExperimentGroupResponse,
    responses={**BAD_REQUEST, **NOT_FOUND, **CONFLICT},
    operation_id="update-experiment-group-apis-intake-v-2-workspaces-workspace-experiment-groups-name-put",
    summary="Update Experiment Group",
)
async def update_experiment_group(
    workspace: Workspace, name: ExperimentName, body: ExperimentGroupRequest, repo: Groups
) -> ExperimentGroupResponse:
    """Replace the group's fields (an omitted pareto keeps the stored axes); a different name is a 409."""
    return await domain.replace(repo, workspace, name, body)


@router.delete(
    "/{name}",
    status_code=204,
    response_class=Response,
    responses={**NOT_FOUND},
    operation_id="delete-experiment-group-apis-intake-v-2-workspaces-workspace-experiment-groups-name-delete",
    summary="Delete Experiment Group",
)
async def delete_experiment_group(workspace: Workspace, name: ExperimentName, repo: Groups) -> Response:
    """Soft delete: the group is renamed <name>-deleted-<UTC time>, so its name is free again."""
    await domain.delete(repo, workspace, name)
    return Response(status_code=204)
