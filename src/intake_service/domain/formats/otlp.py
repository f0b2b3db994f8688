"""OTLP/HTTP traces (protobuf or the OTLP JSON mapping) → spans, decoded with opentelemetry-proto.

A session is one trace, or the `session.id` / `gen_ai.conversation.id` attribute of a span when it
has one (put it on every span of the session: a span without it belongs to its trace's session).
Resource attributes apply to every span of the resource; a span's own attributes win. The
canonical fields (model, agent, tokens, cost) come from the first source key present, as in
the reference table; the root span (no parent) also carries the experiment's name and the test case
(EXPERIMENT_KEYS, TEST_CASE_KEYS: the nemo.evaluation.* / nemo.test_case.name spelling of SDK 0.3+
first, then the older nemo.experiment.id / nemo.test_case.id), its status (ERROR → error, OK →
success, else unknown) and its window.

A span that cannot be used (ids missing or malformed, no start time, a token count that is not a
non-negative integer, …) is reported in `errors` and skipped; the others are stored.
"""

import base64
import math
import re
import sys
from typing import Any

import orjson
from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span as OtlpSpan
from opentelemetry.proto.trace.v1.trace_pb2 import Status

from intake_service.domain.formats import check_json_values, is_json, media_type, worker
from intake_service.domain.spans import MAX_ID_LENGTH, Span, store_spans
from intake_service.errors import MalformedBody, PayloadTooLarge, UnsupportedMediaType
from intake_service.models.generated import OtlpExportResponse, OtlpSpanError
from intake_service.store.clickhouse.telemetry import TelemetryStore
from intake_service.store.clickhouse.values import MAX_INT64, holds_nanoseconds
from intake_service.store.postgres.experiments import ExperimentRepository

PROTOBUF_TYPES = ("application/x-protobuf", "application/protobuf")
SESSION_KEYS = ("session.id", "gen_ai.conversation.id")
MODEL_KEYS = ("gen_ai.request.model", "gen_ai.response.model", "llm.model_name")
AGENT_NAME_KEYS = ("gen_ai.agent.name", "llm.agent.name", "agent.name")
AGENT_VERSION_KEYS = ("gen_ai.agent.version", "agent.version")
INPUT_TOKEN_KEYS = ("gen_ai.usage.input_tokens", "llm.token_count.prompt")
OUTPUT_TOKEN_KEYS = ("gen_ai.usage.output_tokens", "llm.token_count.completion")
CACHED_TOKEN_KEYS = ("gen_ai.usage.cached_tokens", "gen_ai.usage.input_cache_tokens", "llm.token_count.cached")
COST_KEYS = ("gen_ai.usage.cost", "llm.cost.total")
EXPERIMENT_KEYS = ("nemo.evaluation.name", "nemo.evaluation.id", "nemo.experiment.id")
TEST_CASE_KEYS = ("nemo.test_case.name", "nemo.test_case.id")
STATUSES = {Status.STATUS_CODE_ERROR: "error", Status.STATUS_CODE_OK: "success"}
_KINDS = {number: name.removeprefix("SPAN_KIND_").lower() for name, number in OtlpSpan.SpanKind.items()}
_ID_FIELDS = ("traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id")
_HEX = re.compile(r"^(?:[0-9a-fA-F]{2})*$")
# Counted before anything is built: collectors batch a few thousand spans per export.
MAX_SPANS = 10_000
# Protobuf messages of any kind (spans, attributes, values, events, …) in one request, and how deep
# they may nest (an attribute value holding arrays of arrays …).
MAX_MESSAGES = 1_000_000
MAX_DEPTH = 32


class SpanProblem(ValueError):
    """A span that cannot be used; the message is the sentence reported in `errors`."""


# --- decoding ---------------------------------------------------------------------------------


def _hex_ids_to_base64(document: dict[str, Any]) -> None:
    """The OTLP JSON mapping writes trace and span ids as hex; protobuf's JSON parser reads base64."""

    def fix(node: dict[str, Any]) -> None:
        for key in _ID_FIELDS:
            value = node.get(key)
            if isinstance(value, str) and _HEX.match(value):
                node[key] = base64.b64encode(bytes.fromhex(value)).decode()

    for resource_spans in _objects(document.get("resourceSpans", document.get("resource_spans"))):
        for scope_spans in _objects(resource_spans.get("scopeSpans", resource_spans.get("scope_spans"))):
            for span in _objects(scope_spans.get("spans")):
                fix(span)
                for link in _objects(span.get("links")):
                    fix(link)


def _objects(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


class _Budget:
    def __init__(self) -> None:
        self.messages = self.spans = 0

    def take(self, descriptor: Descriptor) -> None:
        self.messages += 1
        self.spans += descriptor is OtlpSpan.DESCRIPTOR
        if self.spans > MAX_SPANS:
            raise PayloadTooLarge(f"An OTLP request may carry at most {MAX_SPANS:,} spans.")
        if self.messages > MAX_MESSAGES:
            raise PayloadTooLarge(f"An OTLP request may hold at most {MAX_MESSAGES:,} protobuf messages.")


def _varint(data: memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while pos < len(data) and shift < 64:
        byte = data[pos]
        result |= (byte & 0x7F) << shift
        pos, shift = pos + 1, shift + 7
        if not byte & 0x80:
            return result, pos
    raise MalformedBody("The body is not a protobuf ExportTraceServiceRequest.")


def _count_messages(data: memoryview, descriptor: Descriptor, budget: _Budget, depth: int = 0) -> None:
    """Walk the wire format, counting the messages and spans it would build, without building them:
    the protobuf parser holds the interpreter while it runs, so its input is bounded first."""
    if depth > MAX_DEPTH:
        raise MalformedBody(f"The body nests messages more than {MAX_DEPTH} levels deep.")
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        wire_type = key & 7
        if wire_type == 0:
            _, pos = _varint(data, pos)
        elif wire_type in (1, 5):
            pos += 8 if wire_type == 1 else 4
        elif wire_type == 2:
            length, pos = _varint(data, pos)
            field = descriptor.fields_by_number.get(key >> 3)
            if field is not None and field.message_type is not None and pos + length <= len(data):
                budget.take(field.message_type)
                _count_messages(data[pos : pos + length], field.message_type, budget, depth + 1)
            pos += length
        else:
            raise MalformedBody("The body is not a protobuf ExportTraceServiceRequest.")
    if pos > len(data):
        raise MalformedBody("The body is not a protobuf ExportTraceServiceRequest.")


def _count_json_spans(document: dict[str, Any]) -> None:
    spans = sum(
        len(scope_spans["spans"]) if isinstance(scope_spans.get("spans"), list) else 0
        for resource_spans in _objects(document.get("resourceSpans", document.get("resource_spans")))
        for scope_spans in _objects(resource_spans.get("scopeSpans", resource_spans.get("scope_spans")))
    )
    if spans > MAX_SPANS:
        raise PayloadTooLarge(f"An OTLP request may carry at most {MAX_SPANS:,} spans.")


def _span_count(request: ExportTraceServiceRequest) -> int:
    return sum(len(scope.spans) for resource in request.resource_spans for scope in resource.scope_spans)


def _parse_exact(body: bytes) -> ExportTraceServiceRequest | None:
    """The request when the body is exactly its protobuf serialization, known fields only (as SDK
    exporters send it), holding at most MAX_SPANS spans; None when the message walk must decide.

    Such a body holds no more messages than the walk would count in it, each at least 2 bytes (its
    tag and length), so one of up to 2 * MAX_MESSAGES bytes is within MAX_MESSAGES, and the parse is
    bounded; the only limit left to check is MAX_DEPTH, which to_spans enforces as it reads the
    attribute values, where OTLP messages nest without bound."""
    if len(body) > 2 * MAX_MESSAGES:
        return None
    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except (DecodeError, ValueError):
        return None
    request.DiscardUnknownFields()  # unknown fields (groups among them) are the walk's to judge
    if request.SerializeToString() != body or _span_count(request) > MAX_SPANS:
        return None
    return request


def decode(body: bytes, content_type: str | None) -> ExportTraceServiceRequest:
    """The request, its limits checked (MAX_DEPTH excepted for protobuf: see _parse_exact)."""
    request = ExportTraceServiceRequest()
    kind = media_type(content_type)
    if kind in PROTOBUF_TYPES:
        exact = _parse_exact(body)
        if exact is not None:
            return exact
        _count_messages(memoryview(body), ExportTraceServiceRequest.DESCRIPTOR, _Budget())
        try:
            request.ParseFromString(body)
        except (DecodeError, ValueError):
            raise MalformedBody("The body is not a protobuf ExportTraceServiceRequest.") from None
        return request
    if not is_json(kind):
        raise UnsupportedMediaType(
            f"Content-Type '{kind}' is not supported; send application/x-protobuf or application/json."
        )
    check_json_values(body)
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise MalformedBody("The body is not valid JSON.") from None
    if not isinstance(document, dict):
        raise MalformedBody("The body must be an ExportTraceServiceRequest JSON object.")
    _count_json_spans(document)
    _hex_ids_to_base64(document)
    try:
        json_format.ParseDict(document, request, ignore_unknown_fields=True)
    except (json_format.ParseError, ValueError, TypeError, AttributeError):
        raise MalformedBody("The body is not an ExportTraceServiceRequest in the OTLP JSON mapping.") from None
    return request


# --- spans ------------------------------------------------------------------------------------


def _too_deep() -> MalformedBody:
    return MalformedBody(f"The body nests messages more than {MAX_DEPTH} levels deep.")


def _value(value: AnyValue, depth: int, limit: int) -> Any:
    """An AnyValue as a plain value. `depth` is its depth as the message walk counts it (the request
    is 0); MalformedBody when a message inside it lies deeper than `limit`."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        items = value.array_value.values
        if depth + 1 > limit or (items and depth + 2 > limit):
            raise _too_deep()
        return [_value(item, depth + 2, limit) for item in items]
    if kind == "kvlist_value":
        if depth + 1 > limit:
            raise _too_deep()
        return _attributes(value.kvlist_value.values, depth + 2, limit)
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return getattr(value, kind)


def _attributes(pairs: Any, depth: int, limit: int) -> dict[str, Any]:
    """KeyValues at `depth` as a dict (see _value)."""
    if pairs and (depth > limit or (depth + 1 > limit and any(pair.HasField("value") for pair in pairs))):
        raise _too_deep()
    return {pair.key: _value(pair.value, depth + 1, limit) for pair in pairs}


def _first(attributes: dict[str, Any], keys: tuple[str, ...]) -> tuple[str, Any] | None:
    for key in keys:
        if key in attributes and attributes[key] is not None:
            return key, attributes[key]
    return None


def _text(attributes: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    found = _first(attributes, keys)
    if found is None:
        return None
    text = str(found[1])
    if len(text) > MAX_ID_LENGTH:
        raise SpanProblem(f"Attribute '{found[0]}' is longer than {MAX_ID_LENGTH} characters.")
    if "\x00" in text:
        raise SpanProblem(f"Attribute '{found[0]}' must not contain NUL (\\u0000) characters.")
    return text or None


def _count(attributes: dict[str, Any], keys: tuple[str, ...]) -> int | None:
    found = _first(attributes, keys)
    if found is None:
        return None
    key, value = found
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    if number is None or number < 0 or number > MAX_INT64:
        raise SpanProblem(f"Attribute '{key}' must be a non-negative integer.")
    return number


def _money(attributes: dict[str, Any], keys: tuple[str, ...]) -> float | None:
    found = _first(attributes, keys)
    if found is None:
        return None
    key, value = found
    try:
        number = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or number < 0:
        raise SpanProblem(f"Attribute '{key}' must be a non-negative number.")
    return number


def _id(raw: bytes, size: int, what: str) -> str:
    if len(raw) != size or not any(raw):
        raise SpanProblem(f"The span has no valid {what} ({size} bytes, not all zero).")
    return raw.hex()


def canonical_fields(attributes: dict[str, Any]) -> dict[str, Any]:
    """The Span fields read from attributes (tag, model, agent, tokens, cost): the first source key
    present of each; SpanProblem when a value cannot be used."""
    return {
        "experiment_name": _text(attributes, EXPERIMENT_KEYS),
        "test_case_id": _text(attributes, TEST_CASE_KEYS),
        "model_name": _text(attributes, MODEL_KEYS),
        "agent_name": _text(attributes, AGENT_NAME_KEYS),
        "agent_version": _text(attributes, AGENT_VERSION_KEYS),
        "input_tokens": _count(attributes, INPUT_TOKEN_KEYS),
        "output_tokens": _count(attributes, OUTPUT_TOKEN_KEYS),
        "cached_tokens": _count(attributes, CACHED_TOKEN_KEYS),
        "cost_usd": _money(attributes, COST_KEYS),
    }


def to_span(span: OtlpSpan, attributes: dict[str, Any]) -> Span:
    """The span, with `attributes` (its resource's and its own, its own winning)."""
    trace_id = _id(span.trace_id, 16, "trace_id")
    span_id = _id(span.span_id, 8, "span_id")
    parent = span.parent_span_id
    if len(parent) not in (0, 8):
        raise SpanProblem("The span's parent_span_id is not 8 bytes.")
    start = span.start_time_unix_nano
    if start == 0:
        raise SpanProblem("The span has no start_time_unix_nano.")
    end = span.end_time_unix_nano or None
    if not holds_nanoseconds(start) or (end is not None and not holds_nanoseconds(end)):
        raise SpanProblem("The span's times must fall between 1900 and 2261.")
    if end is not None and end < start:
        raise SpanProblem("The span ends before it starts.")
    return Span(
        session_id=_text(attributes, SESSION_KEYS) or trace_id,
        span_id=span_id,
        trace_id=trace_id,
        parent_span_id=parent.hex() if any(parent) else "",
        source="otlp",
        start_ns=start,
        end_ns=end,
        name=span.name,
        kind=_KINDS.get(span.kind) or OtlpSpan.SpanKind.Name(span.kind),  # Name raises for an unknown kind
        status=STATUSES.get(span.status.code, "unknown"),
        **canonical_fields(attributes),
        input=_optional_str(attributes.get("input.value")),
        output=_optional_str(attributes.get("output.value")),
        attributes=attributes,
    )


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


def to_spans(
    request: ExportTraceServiceRequest, limit: int = sys.maxsize
) -> tuple[list[Span], list[OtlpSpanError]]:
    """The usable spans and the errors of the others; MalformedBody when an attribute value nests
    messages deeper than `limit` (as the message walk counts depth), in any span."""
    spans: list[Span] = []
    errors: list[OtlpSpanError] = []
    for resource_spans in request.resource_spans:
        resource = _attributes(resource_spans.resource.attributes, 3, limit)
        for scope_spans in resource_spans.scope_spans:
            _attributes(scope_spans.scope.attributes, 4, limit)
            for span in scope_spans.spans:
                attributes = {**resource, **_attributes(span.attributes, 4, limit)}
                for event in span.events:
                    _attributes(event.attributes, 5, limit)
                for link in span.links:
                    _attributes(link.attributes, 5, limit)
                try:
                    spans.append(to_span(span, attributes))
                except SpanProblem as problem:
                    errors.append(
                        OtlpSpanError(trace_id=span.trace_id.hex(), span_id=span.span_id.hex(), detail=str(problem))
                    )
    return spans, errors


def decode_spans(body: bytes, content_type: str | None) -> tuple[list[OtlpSpanError], list[Span]]:
    # A protobuf body's depth is checked here when _parse_exact took it (the walk's limit is met then).
    limit = MAX_DEPTH if media_type(content_type) in PROTOBUF_TYPES else sys.maxsize
    spans, errors = to_spans(decode(body, content_type), limit)
    return errors, spans


async def ingest_traces(
    repo: ExperimentRepository,
    telemetry: TelemetryStore,
    workspace: str,
    body: bytes,
    content_type: str | None,
) -> OtlpExportResponse:
    """Store every usable span; the others (and those tagged with an unknown experiment) in errors."""
    # Decoding and mapping is CPU work: off the event loop (a large body in the worker process).
    errors, spans = await worker.parse_body(decode_spans, body, content_type)
    rejected = await store_spans(repo, telemetry, workspace, spans, strict=False)
    errors += [OtlpSpanError(trace_id=r.span.trace_id, span_id=r.span.span_id, detail=r.detail) for r in rejected]
    return OtlpExportResponse(errors=errors)
