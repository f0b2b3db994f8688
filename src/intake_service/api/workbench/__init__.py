"""The ML-workbench API of seed 003 under /api/v1/experiments, beside intake v2: same stores, same
auth (scopes ml-workbench:read for GET, ml-workbench:write otherwise; intake:admin grants both)."""

from fastapi import Depends

from intake_service.api.deps import authorize_workbench, single_valued_query
from intake_service.api.workbench import artifacts, collection, experiments, tracking
from intake_service.api.workbench.routing import PREFIX, TAG

__all__ = ["DEPENDENCIES", "PREFIX", "ROUTERS", "TAG"]

DEPENDENCIES = [Depends(single_valued_query), Depends(authorize_workbench)]
# Included one by one under PREFIX (api.router.include_api). The collection's fixed words (/compare,
# /stats, /register) first, so they never match /{id}.
ROUTERS = [module.router for module in (collection, experiments, tracking, artifacts)]
