"""Annotated dependency aliases shared by the routers."""

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.domain import auth
from intake_service.domain.auth import ANONYMOUS, Principal
from intake_service.domain.paging import reject_repeated_params, reject_unknown_params
from intake_service.domain.span_filters import Mode
from intake_service.errors import MetadataStoreUnavailable
from intake_service.lifespan import State
from intake_service.store.clickhouse.telemetry import TelemetryStore
from intake_service.store.postgres.api_keys import ApiKeyRepository
from intake_service.store.postgres.engine import is_unavailable, reader_of
from intake_service.store.postgres.experiments import ExperimentRepository

WORKSPACE_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"
# Starlette decodes %2F before routing, so a name never holds "/"; control characters are refused.
NAME_PATTERN = r"^[^/\x00-\x1f\x7f]+$"

Workspace = Annotated[
    str, Path(min_length=1, max_length=63, pattern=WORKSPACE_PATTERN, description="The workspace, e.g. default.")
]
ExperimentName = Annotated[
    str, Path(min_length=1, max_length=255, pattern=NAME_PATTERN, description="The experiment's name.")
]
PageNumber = Annotated[int, Query(ge=1, description="Page number, from 1.")]
PageSize = Annotated[int, Query(ge=1, le=1000, description="Items per page.")]
# NeMo's span, trace, annotation and evaluator result lists (SDK 0.2.0) show 10 rows unless asked.
SPAN_READ_PAGE_SIZE = 10
# How much of a session's, trace's or span's input and output a read shows.
ViewMode = Annotated[
    Mode, Query(description="summary (no input or output), preview (their first 300 characters) or detailed.")
]


def sort_enum(*fields: str) -> dict[str, Any]:
    """The document's list of the sort values a single-key list takes (`field` or `-field`)."""
    return {"enum": [f"{sign}{field}" for field in fields for sign in ("", "-")]}


def single_sort(*fields: str) -> Any:
    """The `sort` of a single-key list that, as NeMo's enum does, answers 422 for any other value."""
    return Query(
        description=f"{', '.join(fields)}; '-' first for descending.",
        pattern=f"^-?({'|'.join(fields)})$",
        json_schema_extra=sort_enum(*fields),
    )


def multi_sort_pattern(field: str) -> dict[str, Any]:
    """The document's pattern for a comma-separated sort (`field` regex alternatives, each optionally
    '-'-prefixed; spaces around a key and empty keys are skipped, as the server reads it)."""
    key = rf"\s*-?({field})\s*"
    return {"pattern": rf"^(\s*,)*{key}(,({key}|\s*))*$"}


def get_state(request: Request) -> State:
    return request.state.state


# A read runs its statements without a transaction (store.postgres.engine.reader_of); the one write
# a read may make (an API key's last use) is one statement, atomic by itself.
READ_METHODS = ("GET", "HEAD")


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    """A write's session is its transaction: commit on success, roll back on error. A read's has no
    transaction to end, and many reads never use theirs (their hot statements run on the driver)."""
    sessionmaker = get_state(request).sessionmaker
    reading = request.method in READ_METHODS
    session = (reader_of(sessionmaker) if reading else sessionmaker)()
    try:
        yield session
        if not reading:
            await session.commit()
    except BaseException as exc:
        await session.rollback()
        if is_unavailable(exc):
            raise MetadataStoreUnavailable() from exc
        raise
    finally:
        # Only a session holding a connection has anything to give back; any other closes without I/O.
        if session.in_transaction():
            await session.close()
        else:
            session.sync_session.close()


Session = Annotated[AsyncSession, Depends(_session, scope="function")]


async def _repository(request: Request, session: Session) -> ExperimentRepository:
    # A read's hot statements run on the driver, outside the session (ExperimentRepository).
    driver = get_state(request).sessionmaker.kw["bind"] if request.method in READ_METHODS else None
    return ExperimentRepository(session, driver)


def _token(request: Request) -> str | None:
    """X-API-Key, or Authorization: Bearer (both conventions appear in the seeds)."""
    if key := request.headers.get("x-api-key"):
        return key.strip()
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" and credentials.strip() else None


async def _principal(request: Request, session: Session) -> Principal:
    settings = get_state(request).settings
    if settings.auth == "none":
        return ANONYMOUS
    token = _token(request)
    # A Bearer JWT comes from an internal service behind the auth proxy; an API key is never one.
    if token and auth.is_jwt(token) and not request.headers.get("x-api-key"):
        return auth.verify_jwt(
            token, secret=settings.jwt_secret, public_key=settings.jwt_public_key, audience=settings.jwt_audience
        )
    # A read's key is looked up on the driver, outside the session (as ExperimentRepository's reads).
    driver = get_state(request).sessionmaker.kw["bind"] if request.method in READ_METHODS else None
    return await auth.authenticate(ApiKeyRepository(session, driver), token)


Caller = Annotated[Principal, Depends(_principal)]


async def single_valued_query(request: Request) -> None:
    """Router-level rule: a query parameter given twice is a 422, never "the last one wins"."""
    reject_repeated_params(request.query_params.multi_items())


async def authorize_workspace(request: Request, workspace: Workspace, caller: Caller) -> None:
    """Router-level guard for intake v2: reads need intake:read, every other method intake:write."""
    scope = auth.READ if request.method in READ_METHODS else auth.WRITE
    auth.authorize(caller, scope, workspace)


async def authorize_workbench(request: Request, caller: Caller) -> None:
    """Router-level guard for the ML-workbench API (/api/v1): reads need ml-workbench:read, every
    other method ml-workbench:write (intake:admin grants both). Its workspace is checked per request."""
    scope = auth.WORKBENCH_READ if request.method in READ_METHODS else auth.WORKBENCH_WRITE
    auth.authorize(caller, scope, None)


async def authorize_admin(caller: Caller) -> None:
    auth.authorize(caller, auth.ADMIN, None)


def reject_undeclared_params(request: Request) -> None:
    """A 422 naming the first query parameter the matched route does not declare (a list takes
    nothing else); the route's own parameters, by their alias (`filter[status]`), are the ones it takes."""
    declared = {param.alias for param in request.scope["route"].dependant.query_params}
    reject_unknown_params(request.query_params.multi_items(), declared)


async def _telemetry(request: Request) -> TelemetryStore:
    # async: FastAPI runs a plain `def` dependency in a worker thread, a thread hop on every request.
    return get_state(request).telemetry


Experiments = Annotated[ExperimentRepository, Depends(_repository)]
Telemetry = Annotated[TelemetryStore, Depends(_telemetry)]
