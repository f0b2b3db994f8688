"""Session routes: ingest, listing and GET /sessions/{id}."""

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.api.deps import (
    ExperimentName,
    Experiments,
    PageNumber,
    PageSize,
    Telemetry,
    Workspace,
    get_state,
    reject_undeclared_params,
)
from intake_service.api.export import FormatParam, all_pages, export_format, export_responses, stream
from intake_service.api.responses import NOT_FOUND, TOO_LARGE, UNAVAILABLE, OffLoopJsonRoute, read_body
from intake_service.domain import ingest, sessions
from intake_service.domain.sessions import SESSION_SORTS, list_sessions
from intake_service.models.generated import ExperimentSessionsPage, IntakeSession, SessionsIngestResponse
from intake_service.store.postgres.experiments import ExperimentRepository

router = APIRouter(route_class=OffLoopJsonRoute)
# The seeds' run's sessions (/experiments/{name}/sessions): served at the root only, since under
# /nemo-0.4 /experiments is the container (whose evaluations' sessions are /evaluations/{name}/sessions).
experiments_router = APIRouter(route_class=OffLoopJsonRoute)
SessionStatus = Literal["success", "error", "cancelled", "unknown"]

INGEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/SessionsIngestRequest"}},
            "application/x-ndjson": {
                "schema": {"type": "string", "pattern": r"^\s*\{"},
                "example": '{"session_id": "run-0007", "started_at": "2026-01-05T09:00:00Z", "status": "success"}\n'
                '{"session_id": "run-0008", "started_at": "2026-01-05T09:01:00Z", "scores": {"accuracy": 0}}\n',
            },
        },
    }
}


@experiments_router.post(
    "/experiments/{name}/sessions",
    status_code=201,
    response_model=SessionsIngestResponse,
    responses={**NOT_FOUND, **TOO_LARGE, **UNAVAILABLE},
    openapi_extra=INGEST_BODY,
    tags=["sessions"],
    operation_id="ingest-experiment-sessions-apis-intake-v-2-workspaces-workspace-experiments-name-sessions-post",
    summary="Ingest Experiment Sessions",
)
async def ingest_sessions(
    workspace: Workspace, name: ExperimentName, request: Request, repo: Experiments, telemetry: Telemetry
) -> SessionsIngestResponse:
    """Bulk ingest: {"sessions": [...]} as JSON, or one session per line as application/x-ndjson. At least
    one and at most 10,000 sessions, 32 MiB per request. All or nothing; a session sent again replaces
    the earlier one."""
    body = await read_body(request, ingest.MAX_BODY_BYTES)
    content_type = request.headers.get("content-type", "application/json")
    accepted = await ingest.ingest_sessions(repo, telemetry, workspace, name, body, content_type)
    get_state(request).metrics.ingested_sessions.inc(accepted)
    return SessionsIngestResponse(accepted=accepted)


@experiments_router.get(
    "/experiments/{name}/sessions",
    response_model=ExperimentSessionsPage,
    responses={
        **export_responses(
            ExperimentSessionsPage,
            "session_id,test_case_id,started_at,latency_ms,status,cost_usd,evaluator_scores.accuracy\n"
            "run-0007,q-17,2026-01-05T09:00:00Z,2500.0,success,0.0042,1.0\n",
            '{"session_id": "run-0007", "test_case_id": "q-17", "status": "success", '
            '"evaluator_scores": {"accuracy": 1.0}}\n',
        ),
        **NOT_FOUND,
        **UNAVAILABLE,
    },
    tags=["sessions"],
    operation_id="list-experiment-sessions-apis-intake-v-2-workspaces-workspace-experiments-name-sessions-get",
    summary="List Experiment Sessions",
)
async def get_sessions(
    workspace: Workspace,
    name: ExperimentName,
    request: Request,
    repo: Experiments,
    telemetry: Telemetry,
    page: PageNumber = 1,
    page_size: PageSize = 100,
    sort: Annotated[
        str,
        Query(
            description=f"One of {', '.join(SESSION_SORTS)}; '-' first for descending.",
            json_schema_extra={"enum": [f"{sign}{f}" for f in SESSION_SORTS for sign in ("", "-")]},
        ),
    ] = "started_at",
    test_case_id: Annotated[
        str | None, Query(alias="filter[test_case_id]", description="Sessions of this test case.")
    ] = None,
    status: Annotated[
        SessionStatus | None, Query(alias="filter[status]", description="Sessions with this status.")
    ] = None,
    format: FormatParam = None,
) -> ExperimentSessionsPage | Response:
    """One page of an experiment's sessions, oldest first unless sorted otherwise. As CSV or NDJSON
    (format= or Accept), every session the filter selects, in the same order."""
    reject_undeclared_params(request)

    async def fetch(session: AsyncSession, number: int, size: int) -> ExperimentSessionsPage:
        return await list_sessions(
            ExperimentRepository(session), telemetry, workspace, name,
            page=number, page_size=size, sort=sort, test_case_id=test_case_id, status=status,
        )  # fmt: skip

    if (wanted := export_format(request, format)) != "json":
        return stream(await all_pages(request, repo.session, fetch), wanted)
    return await fetch(repo.session, page, page_size)

@router.get(
    "/sessions/{id}",
    response_model=IntakeSession,
    response_model_exclude_none=True,
    responses={**NOT_FOUND, **UNAVAILABLE},
    tags=["traces"],
    operation_id="get-session-apis-intake-v-2-workspaces-workspace-sessions-id-get",
    summary="Get Session",
)
async def get_session(
    workspace: Workspace,
    session_id: Annotated[str, Path(alias="id", description="The session's id.")],
    telemetry: Telemetry,
) -> IntakeSession:
    """A session's aggregate over its spans: window, status, tokens, cost, traces and spans."""
    return await sessions.get_session(telemetry, workspace, session_id)
