"""Ingest front doors: ATIF trajectories, OTLP traces, chat completions, provider-neutral spans.

Each route reads its body itself (size limit, then the Content-Encoding), hands the bytes and the
media type to one domain function and returns its model.
"""

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Header, Request, Response
from pydantic import BaseModel, BeforeValidator

from intake_service.api.deps import Experiments, Telemetry, Workspace
from intake_service.api.responses import (
    BAD_REQUEST,
    TOO_LARGE,
    UNAVAILABLE,
    OffLoopJsonRoute,
    error_response,
    read_body,
)
from intake_service.domain.formats import atif, chat, decompress, direct_spans, otlp
from intake_service.domain.ingest import MAX_BODY_BYTES
from intake_service.domain.values import NO_NUL
from intake_service.models.generated import (
    AtifIngestResponse,
    ChatCompletionIngestResponse,
    OtlpExportResponse,
)

router = APIRouter(route_class=OffLoopJsonRoute)
UNSUPPORTED = error_response(
    415, "Unsupported media type or content encoding", "Content-Encoding 'br' is not supported; use gzip or none."
)
INGEST_ERRORS = {**BAD_REQUEST, **TOO_LARGE, **UNSUPPORTED, **UNAVAILABLE}


def _utf8(value: Any) -> Any:
    """Header bytes as UTF-8: Starlette decodes them as Latin-1, one character per byte, so the
    original bytes come back exactly and the length limits then count characters, not bytes."""
    if not isinstance(value, str):
        return value
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        raise ValueError("the header must be UTF-8 text") from None


Utf8Header = BeforeValidator(_utf8)


# Models that hold themselves (an ATIF subagent trajectory holds subagent trajectories), by the
# name of the component that describes them; api.openapi puts them in the document's components.
SELF_HOLDING_SCHEMAS: dict[str, dict[str, Any]] = {}


def _inline(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with its $defs put in place, for a body the route reads itself; a
    model met again inside itself is a $ref to its component, so every level is described."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any, inside: frozenset[str]) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                name = node["$ref"].rsplit("/", 1)[-1]
                if name not in inside:
                    return resolve(defs[name], inside | {name})
                component = f"{model.__name__}{name}"
                if component not in SELF_HOLDING_SCHEMAS:
                    SELF_HOLDING_SCHEMAS[component] = {}  # its own $ref inside it ends the recursion
                    SELF_HOLDING_SCHEMAS[component] = resolve(defs[name], frozenset({name}))
                return {"$ref": f"#/components/schemas/{component}"}
            return {k: resolve(v, inside) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v, inside) for v in node]
        return node

    return resolve(schema, frozenset())


def _json_body(model: type[BaseModel], example: dict[str, Any]) -> dict[str, Any]:
    content = {"application/json": {"schema": _inline(model), "example": example}}
    return {"requestBody": {"required": True, "content": content}}


TAG = {"experiment_context": {"experiment_id": "exp-a", "test_case_id": "case-7"}}
ATIF_EXAMPLE = {
    "schema_version": "ATIF-v1.6",
    "session_id": "run-0007",
    "agent": {"name": "support-bot", "version": "1.4.0", "model_name": "gpt-4o-mini"},
    "steps": [
        {"step_id": 1, "source": "user", "message": "Where is my order?", "timestamp": "2026-01-05T09:00:00Z"},
        {
            "step_id": 2, "source": "agent", "message": "It ships tomorrow.", "timestamp": "2026-01-05T09:00:02Z",
            "model_name": "gpt-4o-mini",
            "metrics": {"prompt_tokens": 420, "completion_tokens": 35, "cost_usd": 0.00011},
        },
    ],
    "final_metrics": {"total_steps": 2},
    "extra": {"verifier_result": {"reward": 1}},
    **TAG,
}  # fmt: skip
CHAT_EXAMPLE = {
    "request": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Where is my order?"}]},
    "response": {
        "id": "chatcmpl-123", "model": "gpt-4o-mini", "created": 1767603600,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "It ships tomorrow."}}],
        "usage": {"prompt_tokens": 420, "completion_tokens": 35, "total_tokens": 455},
    },
    "started_at": "2026-01-05T09:00:00Z",
    "ended_at": "2026-01-05T09:00:02Z",
    **TAG,
}  # fmt: skip
OTLP_JSON_EXAMPLE = {
    "resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "support-bot"}}]},
        "scopeSpans": [{"spans": [{
            "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174", "name": "agent.run",
            "startTimeUnixNano": "1767603600000000000", "endTimeUnixNano": "1767603602000000000",
            "attributes": [
                {"key": "nemo.experiment.id", "value": {"stringValue": "exp-a"}},
                {"key": "nemo.test_case.id", "value": {"stringValue": "case-7"}},
            ],
        }]}],
    }]
}  # fmt: skip

SPANS_EXAMPLE = {
    "source": "langsmith",
    "spans": [
        {
            "span_id": "run-1", "trace_id": "trace-1", "name": "agent", "kind": "AGENT", "status": "success",
            "started_at": "2026-01-05T09:00:00Z", "ended_at": "2026-01-05T09:00:02Z",
            "input": "Where is my order?", "output": {"answer": "It ships tomorrow."},
            "attributes": {"nemo.evaluation.name": "exp-a", "nemo.test_case.name": "case-7"},
        },
        {
            "span_id": "run-2", "trace_id": "trace-1", "parent_span_id": "run-1", "name": "chat", "kind": "LLM",
            "started_at": "2026-01-05T09:00:00.5Z", "ended_at": "2026-01-05T09:00:01.5Z",
            "attributes": {"gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 420},
        },
    ],
}  # fmt: skip


async def _body(request: Request) -> bytes:
    raw = await read_body(request, MAX_BODY_BYTES)
    encoding = request.headers.get("content-encoding")
    return await anyio.to_thread.run_sync(decompress, raw, encoding, MAX_BODY_BYTES)


@router.post(
    "/ingest/atif",
    status_code=201,
    response_model=AtifIngestResponse,
    responses=INGEST_ERRORS,
    openapi_extra=_json_body(atif.Trajectory, ATIF_EXAMPLE),
    tags=["ingest"],
    operation_id="ingest-atif-trajectory-apis-intake-v-2-workspaces-workspace-ingest-atif-post",
    summary="Ingest ATIF Trajectory",
)
async def ingest_atif(
    workspace: Workspace, request: Request, repo: Experiments, telemetry: Telemetry
) -> AtifIngestResponse:
    """One ATIF trajectory (ATIF-v1.0 … ATIF-v1.7) becomes one session; sending it again replaces the
    session. Verifier rewards in extra.verifier_result become evaluator results. JSON, optionally
    gzip-encoded; at most 32 MiB."""
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
                "application/x-protobuf": {
                    "schema": {"type": "string", "format": "binary"},
                    "example": "(a binary ExportTraceServiceRequest, as the OpenTelemetry SDK's exporter sends it)",
                },
                "application/json": {"schema": {"type": "object"}, "example": OTLP_JSON_EXAMPLE},
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
    """OTLP/HTTP ExportTraceServiceRequest in protobuf or the OTLP JSON mapping, optionally gzip-encoded.
    Spans tagged nemo.experiment.id become sessions of that experiment; spans that cannot be used are
    reported in errors, the others are stored."""
    body = await _body(request)
    return await otlp.ingest_traces(repo, telemetry, workspace, body, request.headers.get("content-type"))


@router.post(
    "/ingest/chat-completions",
    status_code=201,
    response_model=ChatCompletionIngestResponse,
    responses=INGEST_ERRORS,
    openapi_extra=_json_body(chat.ChatCapture, CHAT_EXAMPLE),
    tags=["ingest"],
    operation_id="ingest-chat-completion-apis-intake-v-2-workspaces-workspace-ingest-chat-completions-post",
    summary="Ingest Chat Completion",
)
async def ingest_chat_completion(
    workspace: Workspace,
    request: Request,
    repo: Experiments,
    telemetry: Telemetry,
    session_id: Annotated[
        str | None,
        Utf8Header,
        Header(
            alias="X-Session-Id", min_length=1, max_length=255, pattern=NO_NUL,
            description="The session the span joins (created when new); a new session when absent.",
        ),
    ] = None,
) -> ChatCompletionIngestResponse:
    """One captured chat completion (the request as sent, the response as received) becomes one LLM span,
    in the session named by X-Session-Id or in a new session."""
    body = await _body(request)
    return await chat.ingest_completion(
        repo, telemetry, workspace, body, request.headers.get("content-type"), session_id
    )



@router.post(
    "/ingest/spans",
    status_code=201,
    response_class=Response,
    responses={201: {"description": "Every span was stored."}, **INGEST_ERRORS},
    openapi_extra=_json_body(direct_spans.DirectSpansRequest, SPANS_EXAMPLE),
    tags=["ingest"],
    operation_id="ingest-spans-apis-intake-v-2-workspaces-workspace-ingest-spans-post",
    summary="Ingest Spans",
)
async def ingest_spans(workspace: Workspace, request: Request, repo: Experiments, telemetry: Telemetry) -> Response:
    """Provider-neutral spans from a historical trace store (SDK 0.4+): {source, spans[1..1000]}; a span's
    session is its session_id, else its trace. Attributes tag and measure as OTLP's do
    (nemo.evaluation.name, nemo.test_case.name, gen_ai.*). All or nothing; 201 without a body."""
    body = await _body(request)
    await direct_spans.ingest_spans(repo, telemetry, workspace, body, request.headers.get("content-type"))
    return Response(status_code=201)
