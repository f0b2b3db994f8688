"""Mounts the resource routers under the intake v2 base path."""

from fastapi import APIRouter, Depends

from intake_service.api import admin, evaluations, evaluator_results, experiments, ingest, sessions
from intake_service.api.deps import authorize_workspace
from intake_service.api.workbench import router as workbench_router

INTAKE_V2_BASE = "/apis/intake/v2/workspaces/{workspace}"

# Every intake v2 route sits behind the workspace guard (scope by method, then the workspace).
intake_v2 = APIRouter(prefix=INTAKE_V2_BASE, dependencies=[Depends(authorize_workspace)])
api_router = APIRouter()
intake_v2.include_router(experiments.router)
intake_v2.include_router(sessions.router)
intake_v2.include_router(evaluations.router)
intake_v2.include_router(evaluator_results.router)
intake_v2.include_router(ingest.router)
api_router.include_router(intake_v2)
api_router.include_router(admin.router)
# The ML-workbench API of seed 003 (/api/v1/experiments), under its own OpenAPI tag and scope guard.
api_router.include_router(workbench_router)
