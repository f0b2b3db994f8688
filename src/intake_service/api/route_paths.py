"""Every route's path and methods as the app serves them, read without building the routes.

FastAPI (0.165) builds an included router's routes (their dependencies and pydantic adapters) the
first time the router is iterated, once per mount: reading the app's route list at the first request
(to sort routes by first segment, to find the fixed paths) built all ~120 of them before the first
request of all, /health/ready, was answered. An included router whose routes are all API routes
serves each at the router's prefix plus the route's own path, with the route's methods: those are
read from the declared routes, and each router is built when a request first reaches it. Any other
route is read from its built context, as before.
"""

import re
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from fastapi import APIRouter
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import BaseRoute, compile_path


class ServedRoute(NamedTuple):
    path: str | None
    methods: set[str] | None
    # A built route's own pattern; a declared one's is compiled from its path when asked for.
    built_regex: re.Pattern[str] | None = None

    @property
    def path_regex(self) -> re.Pattern[str] | None:
        if self.built_regex is not None or self.path is None:
            return self.built_regex
        return compile_path(self.path)[0]


def _declared(route: BaseRoute) -> tuple[Any, list[APIRoute]] | None:
    """An included router's prefix context and its API routes, when it holds nothing else."""
    router, context = getattr(route, "original_router", None), getattr(route, "include_context", None)
    if not isinstance(router, APIRouter) or not callable(getattr(context, "path_for", None)):
        return None
    if not all(isinstance(declared, APIRoute) for declared in router.routes):
        return None
    return context, list(router.routes)  # type: ignore[arg-type]


def served_routes(routes: Sequence[BaseRoute]) -> Iterator[ServedRoute]:
    """What iter_route_contexts gives for each route (path, methods), in the same order."""
    for route in routes:
        declared = _declared(route)
        if declared is None:
            for context in iter_route_contexts([route]):
                yield ServedRoute(context.path, context.methods, context.path_regex)
            continue
        prefix, api_routes = declared
        for api_route in api_routes:
            yield ServedRoute(prefix.path_for(api_route), api_route.methods)
