"""Which methods a path takes: a 405 lists all of them in `Allow`, and OPTIONS answers with them.

FastAPI makes one route per method, and Starlette answers a method that a path does not take with
the methods of the first route on that path alone (`Allow: GET` where GET, PUT and DELETE are
served), so the methods are gathered here from every route that matches the path. A path with fewer
parameters (/evaluations/pivot) is matched before a template that also matches it
(/evaluations/{name}), as OpenAPI matches them: it takes its own methods only, and the template's
other methods answer 405 there.
"""

import re

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException

from intake_service.api.route_paths import served_routes


def _fixed_routes(app: FastAPI) -> dict[str, tuple[re.Pattern[str], set[str]]]:
    """Paths with fewer parameters than a template that also matches them (/evaluations/pivot and
    /evaluations/{name}): path → (its pattern, its methods). Gathered once."""
    found: dict[str, tuple[re.Pattern[str], set[str]]] | None = getattr(app.state, "fixed_routes", None)
    if found is None:
        # Read without building the routes (api/route_paths.py): this runs at the first request.
        routes = [
            (r.path, r.path_regex, r.methods)
            for r in served_routes(app.router.routes)
            if r.methods and r.path is not None and r.path_regex is not None
        ]
        found = {}
        for path, pattern, methods in routes:
            sample = re.sub(r"\{[^}]+\}", "x", path)
            if any(other.count("{") > path.count("{") and regex.match(sample) for other, regex, _ in routes):
                found.setdefault(path, (pattern, set()))[1].update(methods)
        app.state.fixed_routes = found
    return found


def _fixed_methods(request: Request) -> set[str] | None:
    path = request.scope["path"]
    return next((methods for pattern, methods in _fixed_routes(request.app).values() if pattern.match(path)), None)


async def refuse_template_methods_on_fixed_paths(request: Request) -> None:
    """PUT /evaluations/pivot is not the evaluation named pivot: 405, as its Allow says."""
    fixed = _fixed_methods(request)
    if fixed is not None and request.method not in fixed:
        raise HTTPException(405)


def allowed_methods(request: Request) -> list[str]:
    if fixed := _fixed_methods(request):
        return sorted({"OPTIONS", *fixed})
    methods = {"OPTIONS"}
    for route in iter_route_contexts(request.app.router.routes):
        pattern = getattr(route, "path_regex", None)
        if route.methods and pattern is not None and pattern.match(request.scope["path"]):
            methods |= route.methods
    return sorted(methods)


async def method_not_allowed(request: Request, _: Exception) -> Response:
    allow = ", ".join(allowed_methods(request))
    if request.method == "OPTIONS":
        return Response(status_code=204, headers={"Allow": allow})
    return JSONResponse({"detail": "Method Not Allowed"}, status_code=405, headers={"Allow": allow})
