"""Routes on one experiment or run: get, partial update, delete, pin toggle, tags."""

from fastapi import Response

from intake_service.api.workbench.routing import CurrentViewer, Ref, WorkbenchStores, errors, workbench_router
from intake_service.domain.workbench import experiments
from intake_service.models.workbench import ExperimentDetail, PinResult, Run, TagsRequest, TagsResult, UpdateRequest

router = workbench_router()


@router.get(
    "/{id:ref}",
    response_model=ExperimentDetail | Run,
    responses=errors(400, 404),
    operation_id="workbench-get-experiment",
    summary="Get an experiment (with its runs) or a run",
)
async def get_experiment(id: Ref, stores: WorkbenchStores, viewer: CurrentViewer) -> ExperimentDetail | Run:
    """An experiment id gives the experiment with its runs; a run id gives the run with its params,
    metrics and artifacts."""
    return await experiments.get(stores, viewer, id)


@router.put(
    "/{id:ref}",
    response_model=ExperimentDetail | Run,
    responses=errors(400, 404, 409),
    operation_id="workbench-update-experiment",
    summary="Update an experiment or a run (partial)",
    description="On an experiment id, final_metrics, duration_seconds and error_message go to its latest run.",
)
async def update_experiment(
    id: Ref, body: UpdateRequest, stores: WorkbenchStores, viewer: CurrentViewer
) -> ExperimentDetail | Run:
    return await experiments.update(stores, viewer, id, body)


@router.delete(
    "/{id:ref}",
    status_code=204,
    response_class=Response,
    responses=errors(400, 404, 503),
    operation_id="workbench-delete-experiment",
    summary="Delete an experiment with its runs, metrics and artifacts (or one run)",
)
async def delete_experiment(id: Ref, stores: WorkbenchStores, viewer: CurrentViewer) -> Response:
    """Only the owner (or an admin) may delete. An experiment goes with its runs, metrics and artifacts."""
    await experiments.delete(stores, viewer, id)
    return Response(status_code=204)


@router.post(
    "/{id:ref}/pin",
    response_model=PinResult,
    responses=errors(400, 404),
    operation_id="workbench-toggle-pin",
    summary="Toggle the pin of an experiment",
)
async def toggle_pin(id: Ref, stores: WorkbenchStores, viewer: CurrentViewer) -> PinResult:
    """Pin an unpinned experiment, unpin a pinned one; pinned experiments list first."""
    return await experiments.toggle_pin(stores, viewer, id)


@router.put(
    "/{id:ref}/tags",
    response_model=TagsResult,
    responses=errors(400, 404),
    operation_id="workbench-set-tags",
    summary="Replace the tags of an experiment",
)
async def set_tags(id: Ref, body: TagsRequest, stores: WorkbenchStores, viewer: CurrentViewer) -> TagsResult:
    """The experiment's tags become exactly the ones given."""
    return await experiments.set_tags(stores, viewer, id, body.tags)
