"""Session routes (ingest, listing, GET /sessions/{id}) and the evaluator-results route."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from intake_service.api.deps import Caller, ExperimentName, Experiments, Telemetry, Workspace
from intake_service.api.responses import BAD_REQUEST, NOT_FOUND, TOO_LARGE, UNAVAILABLE, read_body
from intake_service.domain import ingest, sessions
from intake_service.domain.paging import reject_unknown_params
from intake_service.domain.sessions import list_sessions
from intake_service.models.generated import (
    EvaluatorResult,
    EvaluatorResultInput,
    ExperimentSessionsPage,
    IntakeSession,
    SessionsIngestResponse,
)

router = APIRouter(tags=["sessions"])

SESSION_LIST_PARAMS = {"page", "page_size", "sort", "filter[test_case_id]", "filter[status]"}
INGEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/SessionsIngestRequest"}},
            "application/x-ndjson": {"schema": {"type": "string"}},
        },
    }
}


@router.post(
    "/experiments/{name}/sessions",
    status_code=201,
    response_model=SessionsIngestResponse,
    responses={**NOT_FOUND, **TOO_LARGE, **UNAVAILABLE},
    openapi_extra=INGEST_BODY,
    operation_id="ingest-experiment-sessions-apis-intake-v-2-workspaces-workspace-experiments-name-sessions-post",
    summary="Ingest Experiment Sessions",
)
async def ingest_sessions(
    workspace: Workspace, name: ExperimentName, request: Request, repo: Experiments, telemetry: Telemetry
) -> SessionsIngestResponse:
    body = await read_body(request, ingest.MAX_BODY_BYTES)
    content_type = request.headers.get("content-type", "application/json")
    accepted = await ingest.ingest_sessions(repo, telemetry, workspace, name, body, content_type)
    request.app.state.metrics.ingested_sessions.inc(accepted)
    return SessionsIngestResponse(accepted=accepted)


@router.get(
    "/experiments/{name}/sessions",
    response_model=ExperimentSessionsPage,
    responses={**NOT_FOUND, **UNAVAILABLE},
    operation_id="list-experiment-sessions-apis-intake-v-2-workspaces-workspace-experiments-name-sessions-get",
    summary="List Experiment Sessions",
)
async def get_sessions(
    workspace: Workspace,
    name: ExperimentName,
    request: Request,
    repo: Experiments,
    telemetry: Telemetry,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=1000)] = 100,
    sort: Annotated[str, Query()] = "started_at",
    test_case_id: Annotated[str | None, Query(alias="filter[test_case_id]")] = None,
    status: Annotated[str | None, Query(alias="filter[status]")] = None,
) -> ExperimentSessionsPage:
    reject_unknown_params(request.query_params.multi_items(), SESSION_LIST_PARAMS)
    return await list_sessions(
        repo, telemetry, workspace, name,
        page=page, page_size=page_size, sort=sort, test_case_id=test_case_id, status=status,
    )


@router.post(
    "/evaluator-results",
    status_code=201,
    response_model=EvaluatorResult,
    responses={**BAD_REQUEST, **UNAVAILABLE},
    tags=["evaluator-results"],
    operation_id="create-evaluator-result-apis-intake-v-2-workspaces-workspace-evaluator-results-post",
    summary="Create Evaluator Result",
)
async def create_evaluator_result(
    workspace: Workspace, body: EvaluatorResultInput, repo: Experiments, telemetry: Telemetry, caller: Caller
) -> EvaluatorResult:
    return await ingest.record_evaluator_result(repo, telemetry, workspace, body, caller.name)


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
    workspace: Workspace, session_id: Annotated[str, Path(alias="id")], telemetry: Telemetry
) -> IntakeSession:
    return await sessions.get_session(telemetry, workspace, session_id)
