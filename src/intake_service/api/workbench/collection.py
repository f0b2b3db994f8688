"""Routes on the collection: list, create, /compare, /stats, /register. They are mounted before
the `/{id}` routes, so these words are never read as ids."""

from typing import Annotated, get_args

from fastapi import Body, Query, Response

from intake_service.api.workbench.routing import CurrentViewer, WorkbenchStores, errors, workbench_router
from intake_service.domain.workbench import experiments, overview
from intake_service.models.workbench import (
    Comparison,
    Created,
    CreateRequest,
    ExperimentPage,
    Registered,
    RegisterRequest,
    Stats,
    Status,
)

# What domain.workbench.overview.parse_ids takes: 2 to 20 non-blank ids between commas (blank ones are
# skipped). The document states the rule; the domain checks it, with its own sentence.
COMPARED_IDS = r"^(\s*,)*\s*[^\s,][^,]*(,(\s*,)*\s*[^\s,][^,]*){1,19}(,\s*)*$"

router = workbench_router()


@router.get(
    "",
    response_model=ExperimentPage,
    responses=errors(),
    operation_id="workbench-list-experiments",
    summary="List experiments",
    description="Own, public and shared-with-you experiments (an admin sees all), pinned first.",
)
@router.get("/", include_in_schema=False)
async def list_experiments(
    stores: WorkbenchStores,
    viewer: CurrentViewer,
    search: Annotated[str | None, Query(max_length=255, description="Name or description, case-insensitive.")] = None,
    status: Annotated[
        str | None,
        Query(description="Experiments with this status.", json_schema_extra={"enum": list(get_args(Status))}),
    ] = None,
    tag: Annotated[str | None, Query(max_length=64, description="Experiments carrying this tag.")] = None,
    pinned: Annotated[bool | None, Query(description="Only pinned (true) or unpinned (false) experiments.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Experiments per page.")] = 20,
    offset: Annotated[int, Query(ge=0, le=2**62, description="Experiments to skip.")] = 0,
    sort: Annotated[
        str,
        Query(
            description="field:asc|desc over createdAt, updatedAt, name, runCount, status.",
            json_schema_extra={"pattern": rf"^\s*({'|'.join(overview.SORT_FIELDS)})(:(asc|desc))?\s*$"},
        ),
    ] = overview.DEFAULT_SORT,
) -> ExperimentPage:
    query = overview.list_query(
        search=search, status=status, tag=tag, pinned=pinned, sort=sort, limit=limit, offset=offset
    )
    return await overview.list_experiments(stores, viewer, query)


@router.post(
    "",
    status_code=201,
    response_model=Created,
    responses=errors(404, 409),
    operation_id="workbench-create-experiment",
    summary="Create an experiment or a run",
    description=(
        "The name is `name`, else `run_name`, else `experiment_name`. With `experiment_name` naming an "
        "existing experiment of the caller the run goes into it. A run is made when any run field is given."
    ),
)
@router.post("/", status_code=201, include_in_schema=False)
async def create_experiment(body: CreateRequest, stores: WorkbenchStores, viewer: CurrentViewer) -> Created:
    return await experiments.create(stores, viewer, body)


@router.get(
    "/compare",
    response_model=Comparison,
    responses=errors(400, 404),
    operation_id="workbench-compare-experiments",
    summary="Compare experiments",
)
async def compare_experiments(
    stores: WorkbenchStores,
    viewer: CurrentViewer,
    ids: Annotated[
        str, Query(description="2-20 comma-separated experiment ids.", json_schema_extra={"pattern": COMPARED_IDS})
    ],
) -> Comparison:
    """Side by side: each experiment's best run and metrics, and the parameters that differ between them."""
    return await overview.compare(stores, viewer, ids)


@router.get(
    "/stats",
    response_model=Stats,
    responses=errors(),
    operation_id="workbench-experiment-stats",
    summary="Experiment counts by status",
)
async def experiment_stats(stores: WorkbenchStores, viewer: CurrentViewer) -> Stats:
    """How many of the experiments the caller sees are in each status, and how many are pinned."""
    return await overview.stats(stores, viewer)


@router.post(
    "/register",
    response_model=Registered,
    responses={201: {"model": Registered, "description": "Created"}, **errors()},
    operation_id="workbench-register-experiment",
    summary="Get or create an experiment by name",
    description="200 with exists=true when the caller has one of that name, else 201 with exists=false.",
)
async def register_experiment(
    body: Annotated[RegisterRequest, Body()], stores: WorkbenchStores, viewer: CurrentViewer, response: Response
) -> Registered:
    result, created = await experiments.register(stores, viewer, body)
    response.status_code = 201 if created else 200
    return result
