"""Mounts the resource routers: the intake v2 API at the root (SDKs 0.1.x to 0.3.0) and again under
/nemo-0.4 (SDKs 0.4.0 and later), both on the same stores; admin keys; the ML-workbench API."""

from fastapi import APIRouter, Depends, FastAPI
from starlette.routing import BaseRoute
from starlette.types import Receive, Scope, Send

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
    workbench,
)
from intake_service.api.deps import authorize_workspace, single_valued_query
from intake_service.api.responses import AUTH_ERRORS
from intake_service.api.route_paths import served_routes

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


def include_api(app: FastAPI) -> None:
    """Includes every resource router in the app itself, once per prefix it is served at. Nested
    routers (routers of routers) would serve the same routes, but FastAPI builds each route's
    dependencies and pydantic adapters again for every router it is included through, about a third
    of the start-up's CPU: included directly, each route is built once per mount."""

    def intake_v2(resource: APIRouter, mount: str, under: str = "", include_in_schema: bool = True) -> None:
        # Every intake v2 route sits behind the workspace guard (scope by method, then the workspace).
        app.include_router(
            resource,
            prefix=mount + INTAKE_V2_BASE + under,
            dependencies=[Depends(single_valued_query), Depends(authorize_workspace)],
            responses=AUTH_ERRORS,
            include_in_schema=include_in_schema,
        )

    for resource in INTAKE_ROUTERS:
        intake_v2(resource, "")
    intake_v2(containers.router, NEMO_04, "/experiments")
    intake_v2(containers.router, NEMO_04, "/experiment-groups", include_in_schema=False)
    for resource in INTAKE_ROUTERS:
        if resource not in ROOT_ONLY:
            intake_v2(resource, NEMO_04)
    app.include_router(admin.router)
    # The ML-workbench API of seed 003 (/api/v1/experiments), under its own OpenAPI tag and scope guard.
    for resource in workbench.ROUTERS:
        app.include_router(resource, prefix=workbench.PREFIX, tags=[workbench.TAG], dependencies=workbench.DEPENDENCIES)


def _first_segments(route: BaseRoute) -> set[str] | None:
    """The first path segments of the route's paths (every route of an included router), or None
    when one of them is a parameter, which any first segment may match. Read without building the
    routes: each included router is built when a request first reaches it."""
    segments = set()
    for served in served_routes([route]):
        first = (served.path or "").split("/", 2)[1:2] or [""]
        if "{" in first[0]:
            return None
        segments.add(first[0])
    return segments


class FirstSegmentDispatch:
    """The app router's matching, tried only against the routes that may take the request path's
    first segment (apis, nemo-0.4, api, health, ...), each list in the app's own order: FastAPI tries
    every included router's routes in turn, so a path served late took long to find (/health/live,
    after some 230 routes, 390 µs; a /nemo-0.4 route 131 µs; a workbench route 195 µs). A route that
    cannot take the first segment cannot match, fully or in part, nor after a slash is added or
    removed, so every request meets the route it met before. The app's router stays the one route
    list that documents, lists methods and builds URLs."""

    def __init__(self, router: APIRouter) -> None:
        self.router = router
        self.sorted_routes = -1
        self.by_segment: dict[str, APIRouter] = {}
        self.elsewhere = router

    def _sorted(self) -> None:
        """Built at the first request and again whenever routes were added since (tests add some)."""
        self.sorted_routes = len(self.router.routes)
        segments = [(route, _first_segments(route)) for route in self.router.routes]

        def router_of(kept: list[BaseRoute]) -> APIRouter:
            app = self.router
            return APIRouter(routes=kept, redirect_slashes=app.redirect_slashes, default=app.default)

        keys = {key for _, found in segments if found for key in found}
        self.by_segment = {
            key: router_of([route for route, found in segments if found is None or key in found]) for key in keys
        }
        self.elsewhere = router_of([route for route, found in segments if found is None])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan" or scope.get("root_path"):
            await self.router.app(scope, receive, send)
            return
        if len(self.router.routes) != self.sorted_routes:
            self._sorted()
        scope.setdefault("router", self.router)
        # "*" (OPTIONS * HTTP/1.1) and "" have no first segment: no route takes them.
        parts = scope["path"].split("/", 2)
        segment = parts[1] if len(parts) > 1 else ""
        await self.by_segment.get(segment, self.elsewhere).app(scope, receive, send)


def dispatch_by_first_segment(app: FastAPI) -> None:
    """Once every route is added: the app's router matches through FirstSegmentDispatch."""
    assert app.router.middleware_stack == app.router.app, "the router has middleware of its own"
    app.router.middleware_stack = FirstSegmentDispatch(app.router)
