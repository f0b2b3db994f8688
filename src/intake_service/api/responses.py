"""What the routers share: declared error responses, the rollup-availability header, and body
reading with a size limit, and a route class that parses JSON bodies off the event loop."""

import json
from collections.abc import Callable, Coroutine
from typing import Any

import anyio
import orjson
from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel

from intake_service.domain.formats import check_json_values
from intake_service.domain.rollups import Hydrated
from intake_service.errors import PayloadTooLarge
from intake_service.models.generated import ErrorDetail, ExperimentResponse


def error_response(status: int, description: str, example: str) -> dict[int | str, dict[str, Any]]:
    content = {"application/json": {"example": {"detail": example}}}
    return {status: {"model": ErrorDetail, "description": description, "content": content}}


BAD_REQUEST = error_response(400, "Bad request", "Experiment 'exp-a' has been deleted and cannot accept new sessions.")
NOT_FOUND = error_response(404, "Not found", "Experiment 'default/exp-a' not found.")
FORBIDDEN = error_response(403, "Forbidden", "A scoped admin may not manage keys beyond its own workspaces.")
CONFLICT = error_response(409, "Conflict", "Experiment 'default/exp-a' already exists.")
TOO_LARGE = error_response(413, "Request too large", "The request body exceeds 32 MiB.")
UNAVAILABLE = error_response(503, "A store is unavailable", "Telemetry store unavailable.")
# Every route behind a key: none or an unknown one (401), a scope or workspace it lacks (403).
AUTH_ERRORS = {
    **error_response(
        401, "No valid API key or token (when the service runs with --auth api-key)", "An API key is required."
    ),
    **error_response(
        403, "The key lacks the scope or the workspace", "This API key may not access workspace 'default'."
    ),
}


def rollup_header(response: Response, hydrated: Hydrated) -> ExperimentResponse:
    """The single experiment of `hydrated`, marking the response when its rollups are unavailable."""
    if not hydrated.available:
        response.headers["X-Intake-Rollups"] = "unavailable"
    return hydrated.experiments[0]


def json_response(fields: dict[str, Any], model: Callable[[], BaseModel], *, rollups_available: bool) -> Response:
    """A response model's `fields` encoded by orjson, without building the model (on a page of 100
    experiments that is most of the work); `model()`'s own encoding where orjson has no encoding (an
    integer beyond 64 bits in a metadata value). The bytes say what the model's would."""
    try:
        body = orjson.dumps(fields, option=orjson.OPT_UTC_Z)
    except orjson.JSONEncodeError:
        body = model().model_dump_json().encode()
    headers = None if rollups_available else {"X-Intake-Rollups": "unavailable"}
    return Response(body, media_type="application/json", headers=headers)


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it is known to pass `limit` (before any parsing)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The request body exceeds {limit // (1024 * 1024)} MiB.")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The request body exceeds {limit // (1024 * 1024)} MiB.")
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_json(body: bytes) -> Any:
    try:
        check_json_values(body)
    except PayloadTooLarge as exc:
        # FastAPI turns anything but an HTTPException or a JSONDecodeError from here into a 400.
        raise HTTPException(413, str(exc)) from None
    return json.loads(body)


class OffLoopJsonRequest(Request):
    """A request whose JSON body is counted (MAX_JSON_VALUES) and parsed in a worker thread, so a
    large or hostile body never stalls the event loop (FastAPI parses it before the handler runs)."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = await anyio.to_thread.run_sync(_parse_json, await self.body())
        return self._json


class OffLoopJsonRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            return await handler(OffLoopJsonRequest(request.scope, request.receive))

        return route
