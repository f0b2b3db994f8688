"""Mounts the resource routers under the intake v2 base path."""

from fastapi import APIRouter

from intake_service.api import experiments, sessions

INTAKE_V2_BASE = "/apis/intake/v2/workspaces/{workspace}"

api_router = APIRouter()
api_router.include_router(experiments.router, prefix=INTAKE_V2_BASE)
api_router.include_router(sessions.router, prefix=INTAKE_V2_BASE)
