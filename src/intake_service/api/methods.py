"""Which methods a path takes: a 405 lists all of them in `Allow`, and OPTIONS answers with them.

FastAPI makes one route per method, and Starlette answers a method that a path does not take with
the methods of the first route on that path alone (`Allow: GET` where GET, PUT and DELETE are
served), so the methods are gathered here from every route that matches the path.
"""

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import iter_route_contexts


def allowed_methods(request: Request) -> list[str]:
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
