"""A captured chat completion (request as sent, response as received) → one LLM span in a session.

The session is the one named by the body's `session_id` or the X-Session-Id header (the same thing
spelt twice: 422 when both are sent and differ), else the body's `trace_id` (NeMo 0.3.0: a call that
joins a trace and names no session is in the session of that id), else a new one; a named session is
created if it does not exist yet. `trace_id` is kept as the call's trace; a call without one joins
its session's trace, or gets a new trace id (32 hex digits) in a new session. Model and tokens come from
response.model (else request.model) and response.usage (prompt_tokens, completion_tokens,
prompt_tokens_details.cached_tokens); the cost is the body's `cost_usd`, else usage.cost where the
provider reports one. `provider`, `cost_input_usd`, `cost_output_usd` and `cost_details` are kept
on the span's attributes. A chat session has a root span "session" that spans its calls and carries
the experiment tag; a call added to a session built from OTLP or ATIF hangs under that session's
root instead and leaves its binding alone. Our additions to the body: optional `started_at` and
`ended_at` of the call (else the response's `created` time, and no end).
"""

import math
import time
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import anyio
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from intake_service.domain.formats import first_error, json_object
from intake_service.domain.formats.tags import Tagged
from intake_service.domain.spans import Span, store_spans
from intake_service.errors import validation_error
from intake_service.models.generated import ChatCompletionIngestResponse
from intake_service.models.strict import Count, SpanTime, WholeNumber
from intake_service.store.clickhouse.telemetry import TelemetryStore
from intake_service.store.clickhouse.values import holds_nanoseconds, to_ns
from intake_service.store.postgres.experiments import ExperimentRepository

ROOT_SPAN_ID = "session"
Money = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Id = Annotated[str | None, Field(min_length=1, max_length=255, pattern=r"^[^\x00]*$")]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class Usage(_Open):
    prompt_tokens: Count = None
    completion_tokens: Count = None
    total_tokens: Count = None
    prompt_tokens_details: dict[str, Any] | None = None
    cost: Money | None = None


class ChatRequest(_Open):
    model: Annotated[str, Field(min_length=1, max_length=255)]
    messages: list[dict[str, Any]]


class ChatResponse(_Open):
    id: str | None = None
    model: Annotated[str | None, Field(max_length=255)] = None
    created: Annotated[int, Field(ge=0, lt=2**33), WholeNumber] | None = None
    choices: list[dict[str, Any]] | None = None
    usage: Usage | None = None


class ChatCapture(Tagged):
    model_config = ConfigDict(extra="forbid", strict=True)
    request: ChatRequest
    response: ChatResponse
    started_at: SpanTime | None = None
    ended_at: SpanTime | None = None
    session_id: Id = None
    trace_id: Id = None
    provider: Annotated[str | None, Field(max_length=255)] = None
    cost_usd: Money | None = None
    cost_input_usd: Money | None = None
    cost_output_usd: Money | None = None
    cost_details: dict[str, Money] | None = None

    def extras(self) -> dict[str, Any]:
        """The top-level fields kept on the call's span as they were sent."""
        kept = {"provider", "cost_input_usd", "cost_output_usd", "cost_details"}
        return self.model_dump(include=kept, exclude_none=True)


def _content(message: Any) -> str | None:
    if not isinstance(message, dict):
        return None
    content = message.get("content")
    if isinstance(content, list):
        parts = [p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)]
        return "\n".join(parts) or None
    return content if isinstance(content, str) else None


def _cached(usage: Usage) -> int | None:
    cached = (usage.prompt_tokens_details or {}).get("cached_tokens")
    if cached is None:
        return None
    if isinstance(cached, bool) or not isinstance(cached, int) or cached < 0:
        raise validation_error(
            ["body", "response", "usage", "prompt_tokens_details", "cached_tokens"],
            cached,
            "cached_tokens must be a non-negative integer.",
        )
    return cached


def parse(body: bytes, content_type: str | None) -> ChatCapture:
    try:
        capture = ChatCapture.model_validate(json_object(body, content_type))
    except ValidationError as exc:
        raise first_error(exc) from None
    for name in ("started_at", "ended_at"):
        moment = getattr(capture, name)
        if moment is not None and not holds_nanoseconds(to_ns(moment)):
            raise validation_error(["body", name], moment.isoformat(), "Times must fall between 1900 and 2261.")
    if capture.started_at and capture.ended_at and capture.ended_at < capture.started_at:
        raise validation_error(["body", "ended_at"], None, "ended_at is before started_at.")
    return capture


def call_span(capture: ChatCapture, session_id: str, parent: str, trace_id: str, now_ns: int) -> Span:
    response, usage = capture.response, capture.response.usage or Usage()
    if capture.started_at is not None:
        start = to_ns(capture.started_at)
    elif response.created is not None:
        start = to_ns(datetime.fromtimestamp(response.created, UTC))
    else:
        start = now_ns
    experiment, test_case = capture.tag()
    cost = capture.cost_usd if capture.cost_usd is not None else usage.cost
    user = next((_content(m) for m in reversed(capture.request.messages) if m.get("role") == "user"), None)
    choice = response.choices[0] if response.choices else None
    return Span(
        session_id=session_id,
        span_id=uuid.uuid4().hex[:16],
        trace_id=trace_id,
        parent_span_id=parent,
        source="chat",
        start_ns=start,
        end_ns=None if capture.ended_at is None else to_ns(capture.ended_at),
        name="chat.completions",
        kind="llm",
        status="success",
        experiment_name=experiment,
        test_case_id=test_case,
        model_name=response.model or capture.request.model,
        input_tokens=usage.prompt_tokens,
        output_tokens=usage.completion_tokens,
        cached_tokens=_cached(usage),
        cost_usd=None if cost is None or not math.isfinite(cost) else cost,
        input=user,
        output=_content(choice.get("message")) if isinstance(choice, dict) else None,
        attributes={"response.id": response.id, "request.model": capture.request.model, **capture.extras()},
    )


def session_root(call: Span, previous: dict[str, Any] | None) -> Span:
    """The chat session's root, widened to take in `call`; the tag stays unless the call has one."""
    start, end = call.start_ns, call.end_ns
    if previous is not None:
        start = min(start, to_ns(previous["start_time"]))
        if previous["end_time"] is not None:
            end = max(end or 0, to_ns(previous["end_time"]))
    return Span(
        session_id=call.session_id,
        span_id=ROOT_SPAN_ID,
        trace_id=call.trace_id,
        source="chat",
        start_ns=start,
        end_ns=end,
        name="chat session",
        kind="session",
        experiment_name=call.experiment_name or (previous or {}).get("experiment_name"),
        test_case_id=call.test_case_id or (previous or {}).get("test_case_id"),
        input=(previous or {}).get("input") or call.input,
        output=call.output,
    )


async def ingest_completion(
    repo: ExperimentRepository,
    telemetry: TelemetryStore,
    workspace: str,
    body: bytes,
    content_type: str | None,
    session_id: str | None,
) -> ChatCompletionIngestResponse:
    capture = await anyio.to_thread.run_sync(parse, body, content_type)
    if session_id is not None and capture.session_id is not None and session_id != capture.session_id:
        raise validation_error(
            ["body", "session_id"],
            capture.session_id,
            "session_id and the X-Session-Id header name different sessions.",
        )
    session_id = session_id or capture.session_id or capture.trace_id
    roots = await telemetry.session_roots(workspace, session_id) if session_id else []
    session_id = session_id or str(uuid.uuid4())
    chat_root = next((r for r in roots if r["span_id"] == ROOT_SPAN_ID and r["source"] == "chat"), None)
    # A call naming no trace joins its session's trace (a session stored before trace ids were
    # generated reads as the trace of its own id), or a new one (32 hex digits, as OTel writes them).
    trace_id = capture.trace_id or ((roots[0]["trace_id"] or session_id) if roots else uuid.uuid4().hex)
    if roots and chat_root is None:
        # A session built from OTLP or ATIF: the call joins it under its (first) root.
        spans = [call_span(capture, session_id, roots[0]["span_id"], trace_id, time.time_ns())]
    else:
        call = call_span(capture, session_id, ROOT_SPAN_ID, trace_id, time.time_ns())
        spans = [session_root(call, chat_root), call]
    await store_spans(repo, telemetry, workspace, spans, strict=True)
    return ChatCompletionIngestResponse(session_id=session_id, span_id=spans[-1].span_id)
