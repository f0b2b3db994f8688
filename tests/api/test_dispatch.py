"""The app router matches a request only against the routes that may take its path's first segment
(api/router.py FirstSegmentDispatch): every path meets the route the whole list gives it."""

import re
from typing import Any

from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute, Match

from intake_service.api.route_paths import served_routes
from intake_service.api.router import FirstSegmentDispatch
from intake_service.app import create_app

from support import asgi_client, running

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def first_match(routes: list[BaseRoute], path: str, method: str) -> tuple[Match, BaseRoute | None]:
    """The route Starlette's loop picks: the first full match, else the first partial one."""
    partial = None
    for route in routes:
        scope: dict[str, Any] = {"type": "http", "path": path, "method": method, "root_path": "", "headers": []}
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return match, route
        if match is Match.PARTIAL and partial is None:
            partial = route
    return (Match.PARTIAL, partial) if partial is not None else (Match.NONE, None)


def sample_paths(app: Any) -> set[str]:
    """Each route's path with its parameters filled in, with and without a trailing slash, and a few
    paths no route serves."""
    paths = {"/", "/nope", "/apis", "/api", "/nemo-0.4", "/nemo-0.4/nope", "/ui/static/x.css"}
    for route in iter_route_contexts(app.routes):
        path = re.sub(r"\{[^}]+\}", "w", route.path or "/")
        paths |= {path, path.rstrip("/") + "/", path + "/extra"}
    return paths


def test_every_path_meets_the_route_the_whole_route_list_gives_it(settings) -> None:
    app = create_app(settings)
    dispatch = app.router.middleware_stack
    assert isinstance(dispatch, FirstSegmentDispatch)
    dispatch._sorted()
    assert len(dispatch.by_segment) >= 6  # apis, nemo-0.4, api, health, metrics, docs, ...
    checked = 0
    for path in sample_paths(app):
        routes = dispatch.by_segment.get(path.split("/", 2)[1], dispatch.elsewhere).routes
        assert len(routes) < len(app.router.routes) or path == "/"
        for method in METHODS:
            assert first_match(routes, path, method) == first_match(app.router.routes, path, method), (path, method)
            checked += 1
    assert checked > 1000


async def test_the_first_request_builds_only_the_routes_that_may_take_its_path(
    settings, route_builds: list[str]
) -> None:
    # FastAPI builds an included router's routes when the router is first iterated; sorting them by
    # first segment would build all of both mounts' (~120) at the first request of all.
    app = create_app(settings)
    route_builds.clear()  # the builds made as the routes were declared
    async with running(app) as manager, asgi_client(manager.app) as http:
        assert (await http.get("/health/live")).status_code == 200
        assert 0 < len(route_builds) < 20
        assert not any(path.startswith(("/apis", "/nemo-0.4", "/api/")) for path in route_builds)
        assert (await http.get("/apis/intake/v2/workspaces/w/experiments")).status_code == 200
        assert any(path.startswith("/apis") for path in route_builds)
        assert not any(path.startswith("/nemo-0.4") for path in route_builds)
    assert len(list(iter_route_contexts(app.routes))) > 100
    assert len(route_builds) > 100


def test_routes_read_unbuilt_are_the_routes_built(settings) -> None:
    app = create_app(settings)
    unbuilt = [(r.path, r.methods, r.path_regex) for r in served_routes(app.router.routes)]
    built = [(r.path, r.methods, r.path_regex) for r in iter_route_contexts(app.router.routes)]
    assert len(built) > 100
    assert unbuilt == built


async def test_a_route_added_after_the_first_request_is_served(settings) -> None:
    app = create_app(settings)
    async with running(app) as manager, asgi_client(manager.app) as http:
        assert (await http.get("/health/live")).status_code == 200

        @app.get("/added-later")
        async def added() -> dict[str, str]:
            return {"status": "here"}

        assert (await http.get("/added-later")).json() == {"status": "here"}


async def test_a_path_without_a_first_segment_is_a_404(settings) -> None:
    # "OPTIONS * HTTP/1.1" reaches the app with the path "*"; no route takes it.
    app = create_app(settings)
    async with running(app) as manager:
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        # "" is redirected to "/" (307), as the whole route list does.
        for path, status in (("*", 404), ("", 307)):
            sent.clear()
            scope = {
                "type": "http",
                "asgi": {"version": "3.0"},
                "http_version": "1.1",
                "method": "OPTIONS",
                "scheme": "http",
                "path": path,
                "raw_path": path.encode(),
                "root_path": "",
                "query_string": b"",
                "headers": [(b"host", b"test")],
                "client": ("127.0.0.1", 1),
                "server": ("test", 80),
            }
            await manager.app(scope, receive, send)
            assert sent[0]["status"] == status, path
