"""Session routes: ingest and listing."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from intake_service.api.deps import (
    ExperimentName,
    Experiments,
    Telemetry,
    Workspace,
    get_state,
    reject_undeclared_params,
)
from intake_service.api.responses import NOT_FOUND, TOO_LARGE, UNAVAILABLE, OffLoopJsonRoute, read_body
from intake_service.domain import ingest
from intake_service.domain.sessions import list_sessions
from intake_service.models.generated import ExperimentSessionsPage, SessionsIngestResponse

router = APIRouter(tags=["sessions"], route_class=OffLoopJsonRoute)

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
    get_state(request).metrics.ingested_sessions.inc(accepted)
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
    reject_undeclared_params(request)
    return await list_sessions(
        repo, telemetry, workspace, name,
        page=page, page_size=page_size, sort=sort, test_case_id=test_case_id, status=status,
    )

