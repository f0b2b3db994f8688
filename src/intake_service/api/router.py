"""Mounts the resource routers: the intake v2 API at the root (SDKs 0.1.x to 0.3.0) and again under
/nemo-0.4 (SDKs 0.4.0 and later), both on the same stores; admin keys; the ML-workbench API."""

from fastapi import APIRouter, Depends

from intake_service.api import (
    admin,
    annotations,
    compare,
    containers,
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
NEMO_04 = "/nemo-0.4"

# Every intake v2 resource. Each is served at the root and, the same router object, under /nemo-0.4:
# add a new resource here and both mounts have it. Only ROOT_ONLY stays at the root.
INTAKE_ROUTERS: list[APIRouter] = [
    experiments.router,
    experiment_groups.router,
    sessions.experiments_router,
    sessions.router,
    # Before evaluations: /evaluations/pivot is not an evaluation's name.
    pivot.router,
    evaluations.router,
    compare.router,
    compare.experiments_router,
    evaluator_results.router,
    ingest.router,
    traces.router,
    spans.router,
    annotations.router,
]
# From SDK 0.4.0 on, /experiments is the container of evaluations (0.3.0's experiment group), not the
# seeds' run, and /experiment-groups is its deprecated alias: /nemo-0.4 serves api.containers there.
ROOT_ONLY: tuple[APIRouter, ...] = (
    experiments.router,
    sessions.experiments_router,
    compare.experiments_router,
    experiment_groups.router,
)


def _intake_v2(prefix: str) -> APIRouter:
    # Every intake v2 route sits behind the workspace guard (scope by method, then the workspace).
    return APIRouter(
        prefix=prefix + INTAKE_V2_BASE,
        dependencies=[Depends(single_valued_query), Depends(authorize_workspace)],
        responses=AUTH_ERRORS,
    )


root = _intake_v2("")
for resource in INTAKE_ROUTERS:
    root.include_router(resource)

nemo_04 = _intake_v2(NEMO_04)
nemo_04.include_router(containers.router, prefix="/experiments")
nemo_04.include_router(containers.router, prefix="/experiment-groups", include_in_schema=False)
for resource in INTAKE_ROUTERS:
    if resource not in ROOT_ONLY:
        nemo_04.include_router(resource)

api_router = APIRouter()
api_router.include_router(root)
api_router.include_router(nemo_04)
api_router.include_router(admin.router)
# The ML-workbench API of seed 003 (/api/v1/experiments), under its own OpenAPI tag and scope guard.
api_router.include_router(workbench_router)
