"""ASGI middleware: request ids, one JSON log line per request, Prometheus metrics, body limits.

Pure ASGI (no BaseHTTPMiddleware) so streamed bodies are counted as they arrive.
"""

import asyncio
import logging
import re
import time
import uuid
from collections.abc import Sequence
from typing import Any

import orjson
from fastapi import HTTPException
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from intake_service.errors import failed_store

access_log = logging.getLogger("intake_service.access")


class Metrics:
    """One registry per app, so several apps in one process (tests) never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "intake_http_requests_total", "HTTP requests.", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "intake_http_request_duration_seconds",
            "HTTP request latency.",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.ingested_sessions = Counter(
            "intake_ingested_sessions_total", "Sessions accepted by ingest.", registry=self.registry
        )
        self.store_errors = Counter(
            "intake_store_errors_total", "Requests answered 503 because a store failed.", ["store"],
            registry=self.registry,
        )


# Metric labels come from closed sets: any other method token (HTTP allows inventing them) would add
# series without bound, so it is counted as OTHER. Routes are templates or "unmatched".
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def method_label(method: str) -> str:
    return method if method in KNOWN_METHODS else "OTHER"


def _route_of(scope: Scope) -> str:
    """The matched route's full path template. Under included routers scope["route"].path is only
    the leaf's own part ("/experiments/{name}"); FastAPI keeps the full one in its route context."""
    context = (scope.get("fastapi") or {}).get("effective_route_context")
    if full := getattr(context, "path", None):
        return full
    route = scope.get("route")
    return getattr(route, "path", None) or "unmatched"


class BodyTooLarge(HTTPException):
    """An HTTPException, so FastAPI's body parsing lets it through as a 413 instead of a 400."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"The request body exceeds {max_bytes} bytes.")


class BodyTimeout(HTTPException):
    def __init__(self) -> None:
        super().__init__(408, "The request body did not arrive in time.")


class ObservabilityMiddleware:
    """X-Request-ID in and out, an access log line in JSON, and request metrics by route."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        # The counter and histogram of each (method, route, status): labels() looks them up under a lock.
        self.series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = given if 0 < len(given) <= 128 and given.isprintable() else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route, method = _route_of(scope), method_label(scope["method"])
            if (series := self.series.get((method, route, status))) is None:
                requests, latency = self.metrics.requests, self.metrics.latency
                series = (requests.labels(method, route, str(status)), latency.labels(method, route))
                self.series[(method, route, status)] = series
            series[0].inc()
            series[1].observe(elapsed)
            if status == 503:
                store = failed_store(scope["state"])
                self.metrics.store_errors.labels(store.value if store else "unknown").inc()
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    orjson.dumps(
                        {
                            "request_id": request_id,
                            "method": scope["method"],
                            "path": scope["path"],
                            "route": route,
                            "status": status,
                            "duration_ms": round(elapsed * 1000, 2),
                        }
                    ).decode()
                )


class BodyLimitMiddleware:
    """413 once a body is known to exceed the limit (Content-Length or bytes streamed), before any
    handler parses it; 408 when the body stops arriving for `timeout` seconds."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, timeout: float, path_limits: Sequence[tuple[str, int]] = ()
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout
        # (path regex, limit): routes whose bodies may be larger, e.g. base64 artifact uploads.
        self.path_limits = [(re.compile(pattern), limit) for pattern, limit in path_limits]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = next((limit for pattern, limit in self.path_limits if pattern.match(scope["path"])), self.max_bytes)
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > max_bytes:
            await _reply(send, 413, f"The request body exceeds {max_bytes} bytes.")
            return
        received = 0
        started = False
        complete = False
        deadline: float | None = None

        async def limited_receive() -> Message:
            # The whole body must arrive within `timeout` of the first read: a body that trickles in
            # forever (a byte a second) times out too, not only one that stalls. Once it is complete,
            # receive() only waits for a disconnect and is left alone.
            nonlocal received, complete, deadline
            if complete:
                return await receive()
            loop = asyncio.get_running_loop()
            if deadline is None:
                deadline = loop.time() + self.timeout
            try:
                message = await asyncio.wait_for(receive(), max(deadline - loop.time(), 0))
            except TimeoutError:
                raise BodyTimeout() from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise BodyTooLarge(max_bytes)
                complete = not message.get("more_body", False)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except (BodyTooLarge, BodyTimeout) as exc:
            # Raised where no exception handler runs (outside a route); inside one it is a response.
            if not started:
                await _reply(send, exc.status_code, exc.detail)


async def _reply(send: Send, status: int, detail: str) -> None:
    body = orjson.dumps({"detail": detail})
    headers: list[tuple[bytes, Any]] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
