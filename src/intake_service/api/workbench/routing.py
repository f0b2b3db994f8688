"""What every ML-workbench router shares: the route class that renders validation problems as one
sentence (the seed's clients print `detail`), the declared error responses, and the dependencies
that give a handler its viewer (caller + workspace) and stores."""

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.convertors import StringConvertor, register_url_convertor
from starlette.exceptions import HTTPException

from intake_service.api.deps import WORKSPACE_PATTERN, Caller, Session, get_state
from intake_service.api.responses import OffLoopJsonRoute
from intake_service.domain.workbench.access import Viewer, viewer_for
from intake_service.domain.workbench.errors import InvalidInput
from intake_service.domain.workbench.targets import Stores
from intake_service.errors import BODY_PARSE_ERROR
from intake_service.models.workbench import Error
from intake_service.store.clickhouse.metrics import RunMetricStore
from intake_service.store.postgres.workbench import WorkbenchRepository

TAG = "ml-workbench"
PREFIX = "/api/v1/experiments"
# Artifact uploads carry up to 25 MiB as base64 (4/3 of it) plus the other fields of the body.
ARTIFACT_UPLOAD_PATH = r"^/api/v1/experiments/[^/]+/artifacts/?$"
ARTIFACT_UPLOAD_MAX_BODY = (25 * 1024 * 1024 + 2) // 3 * 4 + 1024 * 1024
_PLACES = {"query": "query parameter", "header": "header", "path": "path parameter"}


class RefConvertor(StringConvertor):
    """`{id:ref}`: any path segment but the collection's own words, so `PUT /compare` is a 405 that
    lists GET (the methods /compare takes), not an update of an experiment named "compare"."""

    regex = r"(?!(?:compare|stats|register)$)[^/]+"


register_url_convertor("ref", RefConvertor())


def _where(loc: tuple[Any, ...]) -> str:
    if loc and loc[0] in _PLACES:
        return f"{_PLACES[loc[0]]} '{loc[1]}'" if len(loc) > 1 else _PLACES[loc[0]]
    parts = [p for p in (loc[1:] if loc and loc[0] == "body" else loc)]
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "the request body"


def sentence(errors: list[dict[str, Any]]) -> str:
    """The first problem as one sentence, e.g. "metrics[3].value: input should be a finite number."."""
    if not errors:
        return "The request is not valid."
    error = errors[0]
    kind, loc = error.get("type", ""), tuple(error.get("loc", ()))
    if kind == "json_invalid":
        return "The request body is not valid JSON."
    if kind == "missing":
        return "A JSON request body is required." if loc == ("body",) else f"{_where(loc)} is required."
    message = str(error.get("msg", "is not valid")).removeprefix("Value error, ").rstrip(".")
    return f"{_where(loc)}: {message[:1].lower()}{message[1:]}."


class WorkbenchRoute(OffLoopJsonRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                raise InvalidInput(sentence(list(exc.errors()))) from None
            except HTTPException as exc:
                # FastAPI's 400 for a JSON body that is not even UTF-8: the same 422 as invalid JSON.
                if exc.status_code == 400 and exc.detail == BODY_PARSE_ERROR:
                    raise InvalidInput("The request body is not valid JSON.") from None
                raise

        return route


def workbench_router() -> APIRouter:
    return APIRouter(route_class=WorkbenchRoute)


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    described = {
        400: ("Ambiguous id prefix", "Id prefix 'exp_01' matches more than one experiment or run."),
        401: ("Not authenticated", "An API key is required."),
        403: ("Missing scope, workspace or ownership", "Only the owner may change experiment 'exp_0192…'."),
        404: ("Not found", "Experiment or run 'exp_0192…' not found."),
        409: ("Conflict", "A run with id 'run_0192…' already exists."),
        413: ("Content too large", "The artifact exceeds 25 MiB."),
        422: ("Invalid input (one sentence)", "metrics[0].value: input should be a finite number."),
        503: ("A store is unavailable", "Telemetry store unavailable."),
    }
    return {
        status: {
            "model": Error,
            "description": described[status][0],
            "content": {"application/json": {"example": {"detail": described[status][1]}}},
        }
        for status in (401, 403, 422, *statuses)
    }


async def _viewer(
    caller: Caller,
    x_organization_id: Annotated[
        str | None,
        Header(
            alias="X-Organization-Id",
            # The rule viewer_for checks (with its own sentence), stated in the document.
            json_schema_extra={"minLength": 1, "maxLength": 63, "pattern": WORKSPACE_PATTERN},
            description="The workspace, for callers that may use several (else the caller's only one, or 'default').",
        ),
    ] = None,
) -> Viewer:
    return viewer_for(caller, x_organization_id)


async def _stores(request: Request, session: Session) -> Stores:
    state = get_state(request)
    return Stores(WorkbenchRepository(session), RunMetricStore(state.telemetry.executor), state.artifacts)


CurrentViewer = Annotated[Viewer, Depends(_viewer)]
WorkbenchStores = Annotated[Stores, Depends(_stores)]
Ref = Annotated[
    str, Path(min_length=1, max_length=255, description="An experiment or run id, or an unambiguous prefix of one.")
]
