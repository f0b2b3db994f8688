"""Run-tracking routes used by the SDK and the AutoML trainer: step metrics and params."""

from typing import Annotated

from fastapi import Query

from intake_service.api.workbench.routing import CurrentViewer, Ref, WorkbenchStores, errors, workbench_router
from intake_service.domain.workbench import tracking
from intake_service.models.workbench import Logged, MetricHistory, MetricsRequest, ParamsRequest

router = workbench_router()


@router.post(
    "/{id:ref}/metrics",
    response_model=Logged,
    responses=errors(400, 404, 503),
    operation_id="workbench-log-metrics",
    summary="Append step metrics to a run (an experiment id: its latest run)",
)
async def log_metrics(id: Ref, body: MetricsRequest, stores: WorkbenchStores, viewer: CurrentViewer) -> Logged:
    """Up to 10,000 points per request, each a key, a finite value and an optional step and timestamp."""
    return await tracking.log_metrics(stores, viewer, id, body)


@router.get(
    "/{id:ref}/metrics",
    response_model=MetricHistory,
    responses=errors(400, 404, 503),
    operation_id="workbench-metric-history",
    summary="A metric's history, by step then timestamp",
)
async def metric_history(
    id: Ref,
    stores: WorkbenchStores,
    viewer: CurrentViewer,
    key: Annotated[str | None, Query(min_length=1, max_length=255, description="The metric; all when omitted.")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000, description="Points per page.")] = 1000,
    offset: Annotated[int, Query(ge=0, le=2**62, description="Points to skip.")] = 0,
) -> MetricHistory:
    """The logged points of a run (an experiment id: its latest run), by step then timestamp."""
    return await tracking.metric_history(stores, viewer, id, key, limit, offset)


@router.post(
    "/{id:ref}/params",
    response_model=Logged,
    responses=errors(400, 404),
    operation_id="workbench-log-params",
    summary="Merge parameters into a run",
)
async def log_params(id: Ref, body: ParamsRequest, stores: WorkbenchStores, viewer: CurrentViewer) -> Logged:
    """Params as an object or a list of {key, value}; a key given again replaces its value."""
    return await tracking.log_params(stores, viewer, id, body.params)
