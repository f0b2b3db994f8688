"""Mounts the resource routers under the intake v2 base path."""

from fastapi import APIRouter, Depends

from intake_service.api import (
    admin,
    annotations,
    compare,
    evaluations,
    evaluator_results,
    experiment_groups,
    experiments,
    ingest,
    pivot,
    sessions,
    spans,
    traces,
)
from intake_service.api.deps import authorize_workspace, single_valued_query
from intake_service.api.responses import AUTH_ERRORS
from intake_service.api.workbench import router as workbench_router

INTAKE_V2_BASE = "/apis/intake/v2/workspaces/{workspace}"

# Every intake v2 route sits behind the workspace guard (scope by method, then the workspace).
intake_v2 = APIRouter(
    prefix=INTAKE_V2_BASE,
    dependencies=[Depends(single_valued_query), Depends(authorize_workspace)],
    responses=AUTH_ERRORS,
)
api_router = APIRouter()
intake_v2.include_router(experiments.router)
intake_v2.include_router(experiment_groups.router)
intake_v2.include_router(sessions.router)
# Before evaluations: /evaluations/pivot is not an evaluation's name.
intake_v2.include_router(pivot.router)
intake_v2.include_router(evaluations.router)
intake_v2.include_router(compare.router)
intake_v2.include_router(evaluator_results.router)
intake_v2.include_router(ingest.router)
intake_v2.include_router(traces.router)
intake_v2.include_router(spans.router)
intake_v2.include_router(annotations.router)
api_router.include_router(intake_v2)
api_router.include_router(admin.router)
# The ML-workbench API of seed 003 (/api/v1/experiments), under its own OpenAPI tag and scope guard.
api_router.include_router(workbench_router)
