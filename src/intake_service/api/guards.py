"""A NUL (U+0000) in the path or the query string is refused with 422 before any route runs.

No store can hold or compare a NUL (PostgreSQL text refuses it with an error), so one guard in
front of every route keeps each lookup, filter and delete from having to remember it.
"""

from fastapi.responses import JSONResponse
from starlette.datastructures import QueryParams
from starlette.types import ASGIApp, Receive, Scope, Send

from intake_service.errors import INTAKE_V2_PREFIX, validation_error, validation_response

NUL_SENTENCE = "must not contain NUL (\\u0000) characters"


def nul_problem(scope: Scope) -> tuple[list[str | int], str, str] | None:
    """(loc, offending value, sentence) for the first NUL in the path or the query, or None."""
    if "\x00" in scope["path"]:
        return ["path"], scope["path"], f"The path {NUL_SENTENCE}."
    query: bytes = scope.get("query_string", b"")
    if b"%00" not in query and b"\x00" not in query:
        return None
    for key, value in QueryParams(query).multi_items():  # parsed as the routes parse it
        if "\x00" in key:
            return ["query", key], key, f"A query parameter name {NUL_SENTENCE}."
        if "\x00" in value:
            return ["query", key], value, f"The query parameter '{key}' {NUL_SENTENCE}."
    return None


class NulGuardMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        problem = nul_problem(scope) if scope["type"] == "http" else None
        if problem is None:
            await self.app(scope, receive, send)
            return
        loc, value, sentence = problem
        # Each API answers a bad parameter in its own 422 shape.
        if scope["path"].startswith(INTAKE_V2_PREFIX):
            response = validation_response(validation_error(loc, value, sentence))
        else:
            response = JSONResponse({"detail": sentence}, status_code=422)
        await response(scope, receive, send)
