"""Ingest front doors: ATIF trajectories, OTLP traces, chat completions.

Each route reads its body itself (size limit, then the Content-Encoding), hands the bytes and the
media type to one domain function and returns its model.
"""

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Header, Request
from pydantic import BaseModel

from intake_service.api.deps import Experiments, Telemetry, Workspace
from intake_service.api.responses import (
    BAD_REQUEST,
    TOO_LARGE,
    UNAVAILABLE,
    OffLoopJsonRoute,
    error_response,
    read_body,
)
from intake_service.domain.formats import atif, chat, decompress, otlp
from intake_service.domain.ingest import MAX_BODY_BYTES
from intake_service.models.generated import (
    AtifIngestResponse,
    ChatCompletionIngestResponse,
    OtlpExportResponse,
)

router = APIRouter(route_class=OffLoopJsonRoute)
UNSUPPORTED = error_response(415, "Unsupported media type or content encoding")
INGEST_ERRORS = {**BAD_REQUEST, **TOO_LARGE, **UNSUPPORTED, **UNAVAILABLE}


def _inline(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with its $defs put in place, for a body the route reads itself."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any, inside: frozenset[str]) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                name = node["$ref"].rsplit("/", 1)[-1]
                # A model that holds itself (an ATIF subagent trajectory) is spelt out once.
                return {"type": "object"} if name in inside else resolve(defs[name], inside | {name})
            return {k: resolve(v, inside) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v, inside) for v in node]
        return node

    return resolve(schema, frozenset())


def _json_body(model: type[BaseModel]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": _inline(model)}}}}


async def _body(request: Request) -> bytes:
    raw = await read_body(request, MAX_BODY_BYTES)
    encoding = request.headers.get("content-encoding")
    return await anyio.to_thread.run_sync(decompress, raw, encoding, MAX_BODY_BYTES)


@router.post(
    "/ingest/atif",
    status_code=201,
    response_model=AtifIngestResponse,
    responses=INGEST_ERRORS,
    openapi_extra=_json_body(atif.Trajectory),
    tags=["ingest"],
    operation_id="ingest-atif-trajectory-apis-intake-v-2-workspaces-workspace-ingest-atif-post",
    summary="Ingest ATIF Trajectory",
)
async def ingest_atif(
    workspace: Workspace, request: Request, repo: Experiments, telemetry: Telemetry
) -> AtifIngestResponse:
    body = await _body(request)
    return await atif.ingest_trajectory(repo, telemetry, workspace, body, request.headers.get("content-type"))


@router.post(
    "/ingest/otlp/v1/traces",
    response_model=OtlpExportResponse,
    responses=INGEST_ERRORS,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-protobuf": {"schema": {"type": "string", "format": "binary"}},
                "application/json": {"schema": {"type": "object"}},
            },
        }
    },
    tags=["ingest"],
    operation_id="ingest-otlp-traces-apis-intake-v-2-workspaces-workspace-ingest-otlp-v-1-traces-post",
    summary="Ingest OTLP Traces",
)
async def ingest_otlp_traces(
    workspace: Workspace, request: Request, repo: Experiments, telemetry: Telemetry
) -> OtlpExportResponse:
    body = await _body(request)
    return await otlp.ingest_traces(repo, telemetry, workspace, body, request.headers.get("content-type"))


@router.post(
    "/ingest/chat-completions",
    status_code=201,
    response_model=ChatCompletionIngestResponse,
    responses=INGEST_ERRORS,
    openapi_extra=_json_body(chat.ChatCapture),
    tags=["ingest"],
    operation_id="ingest-chat-completion-apis-intake-v-2-workspaces-workspace-ingest-chat-completions-post",
    summary="Ingest Chat Completion",
)
async def ingest_chat_completion(
    workspace: Workspace,
    request: Request,
    repo: Experiments,
    telemetry: Telemetry,
    session_id: Annotated[str | None, Header(alias="X-Session-Id", min_length=1, max_length=255)] = None,
) -> ChatCompletionIngestResponse:
    body = await _body(request)
    return await chat.ingest_completion(
        repo, telemetry, workspace, body, request.headers.get("content-type"), session_id
    )

