"""POST /ingest/spans (SDK 0.4+): provider-neutral spans from a historical trace store, as NeMo's 0.6.0
server defines the body: {source, spans[1..1000]}, each span with its producer's ids (1–1024
characters), an offset-carrying started_at, optional ended_at, kind (LLM, CHAIN, TOOL, …), status,
input/output (a string, or any JSON value kept as JSON text) and attributes. Unknown keys, a span
that is its own parent, one that ends before it starts and a (trace_id, span_id) sent twice are 422.

A span's session is its session_id, else its trace id. The attributes are read as OTLP's are
(formats/otlp.canonical_fields): nemo.evaluation.name / nemo.experiment.id on a root span binds its
session to that evaluation, nemo.test_case.name / .id names the test case, gen_ai.* / llm.* give
model, agent, tokens and cost. A tag naming no live evaluation fails the whole request with its 400
(NeMo stores such spans unchecked; here a session bound to nothing would be lost from view). All or
nothing: the request answers 201 without a body once every span is stored.

NeMo refuses spans older than its 90-day ClickHouse TTL; this service keeps spans without a TTL, so
it takes them at any time ClickHouse can hold (1900–2261).
"""

from datetime import datetime
from typing import Annotated, Any, Literal

import anyio
import orjson
from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError, model_validator

from intake_service.domain.formats import first_error, json_object
from intake_service.domain.formats.otlp import SpanProblem, canonical_fields
from intake_service.domain.span_filters import STATUSES
from intake_service.domain.spans import Span, store_spans
from intake_service.domain.values import NO_NUL
from intake_service.errors import validation_error
from intake_service.models.strict import SpanTime
from intake_service.store.clickhouse.spans import SPAN_KINDS
from intake_service.store.clickhouse.telemetry import TelemetryStore
from intake_service.store.clickhouse.values import holds_nanoseconds, to_ns
from intake_service.store.postgres.experiments import ExperimentRepository

MAX_SPANS = 1000
Identifier = Annotated[str, Field(min_length=1, max_length=1024, pattern=NO_NUL)]


class DirectSpan(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    span_id: Identifier
    trace_id: Identifier
    session_id: Identifier | None = None
    parent_span_id: Identifier | None = None
    name: Annotated[str, Field(max_length=1024, pattern=NO_NUL)] = ""
    kind: Literal[SPAN_KINDS] = "UNKNOWN"  # type: ignore[valid-type]
    status: Literal[STATUSES] = "unknown"  # type: ignore[valid-type]
    started_at: SpanTime
    ended_at: SpanTime | None = None
    input: JsonValue = None
    output: JsonValue = None
    attributes: dict[str, JsonValue] = {}

    @model_validator(mode="after")
    def _consistent(self) -> "DirectSpan":
        if self.parent_span_id == self.span_id:
            raise ValueError("parent_span_id must differ from span_id")
        if self.ended_at is not None and self.ended_at < self.started_at:
            raise ValueError("ended_at must be greater than or equal to started_at")
        return self


class DirectSpansRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    source: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    spans: Annotated[list[DirectSpan], Field(min_length=1, max_length=MAX_SPANS)]

    @model_validator(mode="after")
    def _distinct(self) -> "DirectSpansRequest":
        identities = [(span.trace_id, span.span_id) for span in self.spans]
        if len(identities) != len(set(identities)):
            raise ValueError("spans must not contain duplicate (trace_id, span_id) identities")
        return self


def _text(value: JsonValue) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def _time(moment: datetime, loc: list[str | int]) -> int:
    nanoseconds = to_ns(moment)
    if not holds_nanoseconds(nanoseconds):
        raise validation_error(loc, moment.isoformat(), "Times must fall between 1900 and 2261.")
    return nanoseconds


def to_span(source: str, span: DirectSpan, index: int) -> Span:
    loc: list[str | int] = ["body", "spans", index]
    try:
        fields = canonical_fields(span.attributes)
    except SpanProblem as problem:
        raise validation_error([*loc, "attributes"], None, str(problem)) from None
    return Span(
        session_id=span.session_id or span.trace_id,
        span_id=span.span_id,
        trace_id=span.trace_id,
        parent_span_id=span.parent_span_id or "",
        source=source,
        start_ns=_time(span.started_at, [*loc, "started_at"]),
        end_ns=None if span.ended_at is None else _time(span.ended_at, [*loc, "ended_at"]),
        name=span.name,
        kind=span.kind,
        status=span.status,
        input=_text(span.input),
        output=_text(span.output),
        attributes=span.attributes,
        **fields,
    )


def parse(body: bytes, content_type: str | None) -> list[Span]:
    document: Any = json_object(body, content_type)
    try:
        request = DirectSpansRequest.model_validate(document)
    except ValidationError as exc:
        raise first_error(exc) from None
    return [to_span(request.source, span, index) for index, span in enumerate(request.spans)]


async def ingest_spans(
    repo: ExperimentRepository, telemetry: TelemetryStore, workspace: str, body: bytes, content_type: str | None
) -> None:
    spans = await anyio.to_thread.run_sync(parse, body, content_type)
    await store_spans(repo, telemetry, workspace, spans, strict=True)
