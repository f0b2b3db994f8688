"""What keeps a web page the developer happens to open from writing to a local service.

A page may send a cross-site request without asking first only with a "simple" body (text/plain,
a form, or none at all), so every route that takes a body wants its documented media type (415
otherwise). With auth off nothing else stands in the way, so a request whose Origin is neither the
service's own nor loopback is refused (403); body-less writes such as pin and delete rely on that.
"""

import ipaddress
from typing import Any
from urllib.parse import urlsplit

import orjson
from fastapi import Request
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from intake_service.domain.formats import is_json, media_type
from intake_service.domain.formats.otlp import PROTOBUF_TYPES
from intake_service.domain.ingest import NDJSON_TYPES
from intake_service.errors import UnsupportedMediaType

JSON = "application/json"
# The spellings each documented media type is also accepted in (JSON also as any +json type).
ALSO_ACCEPTED = {"application/x-ndjson": NDJSON_TYPES, "application/x-protobuf": PROTOBUF_TYPES}
FOREIGN_ORIGIN = (
    "Cross-origin requests are refused while auth is off; call the service from its own origin or loopback."
)


def documented_media_types(route: Any) -> tuple[str, ...]:
    """The request-body media types a route documents: its openapi_extra, else JSON for a model body."""
    if not isinstance(route, APIRoute):
        return ()
    content = ((route.openapi_extra or {}).get("requestBody") or {}).get("content")
    if content:
        return tuple(content)
    return (JSON,) if route.body_field is not None else ()


def _accepted(kind: str, documented: tuple[str, ...]) -> bool:
    return any(
        kind == expected or kind in ALSO_ACCEPTED.get(expected, ()) or (expected == JSON and is_json(kind))
        for expected in documented
    )


async def require_documented_media_type(request: Request) -> None:
    """App-wide dependency: a request that carries a body must say it is of a type the route documents."""
    has_body = request.headers.get("content-length", "0") != "0" or "transfer-encoding" in request.headers
    documented = documented_media_types(request.scope.get("route"))
    if not has_body or not documented:
        return
    kind = media_type(request.headers.get("content-type"))
    if not _accepted(kind, documented):
        given = f"Content-Type '{kind}' is not supported" if kind else "A Content-Type header is required"
        raise UnsupportedMediaType(f"{given}; send {' or '.join(documented)}.")


def is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class CrossOriginGuard:
    """Installed only with auth off. No Origin (curl, SDKs) passes; a loopback origin passes; the
    service's own origin (scheme and Host of the request) passes only when it is bound to a
    non-loopback address: on loopback a page under a rebound DNS name would otherwise count as own."""

    def __init__(self, app: ASGIApp, bound_to_loopback: bool) -> None:
        self.app = app
        self.bound_to_loopback = bound_to_loopback

    def _allowed(self, origin: str, scope: Scope) -> bool:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return False  # "null" (sandboxed frames, file://) and other schemes
        if is_loopback(parts.hostname):
            return True
        host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1").lower()
        return not self.bound_to_loopback and parts.scheme == scope.get("scheme") and parts.netloc.lower() == host

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        origin = dict(scope.get("headers") or []).get(b"origin") if scope["type"] == "http" else None
        if origin is None or self._allowed(origin.decode("latin-1").strip(), scope):
            await self.app(scope, receive, send)
            return
        body = orjson.dumps({"detail": FOREIGN_ORIGIN})
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 403, "headers": headers})
        await send({"type": "http.response.body", "body": body})
