"""OTLP/HTTP traces (protobuf or the OTLP JSON mapping) → spans, decoded with opentelemetry-proto.

A session is one trace, or the `session.id` / `gen_ai.conversation.id` attribute of a span when it
has one (put it on every span of the session: a span without it belongs to its trace's session).
Resource attributes apply to every span of the resource; a span's own attributes win. The
canonical fields (model, agent, tokens, cost) come from the first source key present, as in
the reference table; the root span (no parent) also carries nemo.experiment.id (the experiment's
name) and nemo.test_case.id, its status (ERROR → error, OK → success, else unknown) and its window.

A span that cannot be used (ids missing or malformed, no start time, a token count that is not a
non-negative integer, …) is reported in `errors` and skipped; the others are stored.
"""

import base64
import math
import re
from typing import Any

import orjson
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span as OtlpSpan
from opentelemetry.proto.trace.v1.trace_pb2 import Status

from intake_service.domain.formats import MalformedBody, UnsupportedMediaType, is_json, media_type
from intake_service.domain.spans import MAX_ID_LENGTH, Span, in_range, store_spans
from intake_service.models.generated import OtlpExportResponse, OtlpSpanError
from intake_service.store.clickhouse.telemetry import TelemetryStore
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
EXPERIMENT_KEY = "nemo.experiment.id"
TEST_CASE_KEY = "nemo.test_case.id"
STATUSES = {Status.STATUS_CODE_ERROR: "error", Status.STATUS_CODE_OK: "success"}
_ID_FIELDS = ("traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id")
_HEX = re.compile(r"^(?:[0-9a-fA-F]{2})*$")


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


def decode(body: bytes, content_type: str | None) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    kind = media_type(content_type)
    if kind in PROTOBUF_TYPES:
        try:
            request.ParseFromString(body)
        except (DecodeError, ValueError):
            raise MalformedBody("The body is not a protobuf ExportTraceServiceRequest.") from None
        return request
    if not is_json(kind):
        raise UnsupportedMediaType(
            f"Content-Type '{kind}' is not supported; send application/x-protobuf or application/json."
        )
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise MalformedBody("The body is not valid JSON.") from None
    if not isinstance(document, dict):
        raise MalformedBody("The body must be an ExportTraceServiceRequest JSON object.")
    _hex_ids_to_base64(document)
    try:
        json_format.ParseDict(document, request, ignore_unknown_fields=True)
    except (json_format.ParseError, ValueError, TypeError, AttributeError):
        raise MalformedBody("The body is not an ExportTraceServiceRequest in the OTLP JSON mapping.") from None
    return request


# --- spans ------------------------------------------------------------------------------------


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return _attributes(value.kvlist_value.values)
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return getattr(value, kind)


def _attributes(pairs: Any) -> dict[str, Any]:
    return {pair.key: _value(pair.value) for pair in pairs if isinstance(pair, KeyValue)}


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
    if number is None or number < 0 or number >= 2**63:
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


def to_span(span: OtlpSpan, resource: dict[str, Any]) -> Span:
    trace_id = _id(span.trace_id, 16, "trace_id")
    span_id = _id(span.span_id, 8, "span_id")
    parent = span.parent_span_id
    if len(parent) not in (0, 8):
        raise SpanProblem("The span's parent_span_id is not 8 bytes.")
    if span.start_time_unix_nano == 0:
        raise SpanProblem("The span has no start_time_unix_nano.")
    end = span.end_time_unix_nano or None
    if not in_range(span.start_time_unix_nano) or (end is not None and not in_range(end)):
        raise SpanProblem("The span's times must fall between 1900 and 2261.")
    if end is not None and end < span.start_time_unix_nano:
        raise SpanProblem("The span ends before it starts.")
    attributes = {**resource, **_attributes(span.attributes)}
    return Span(
        session_id=_text(attributes, SESSION_KEYS) or trace_id,
        span_id=span_id,
        trace_id=trace_id,
        parent_span_id=parent.hex() if any(parent) else "",
        source="otlp",
        start_ns=span.start_time_unix_nano,
        end_ns=end,
        name=span.name,
        kind=OtlpSpan.SpanKind.Name(span.kind).removeprefix("SPAN_KIND_").lower(),
        status=STATUSES.get(span.status.code, "unknown"),
        experiment_name=_text(attributes, (EXPERIMENT_KEY,)),
        test_case_id=_text(attributes, (TEST_CASE_KEY,)),
        model_name=_text(attributes, MODEL_KEYS),
        agent_name=_text(attributes, AGENT_NAME_KEYS),
        agent_version=_text(attributes, AGENT_VERSION_KEYS),
        input_tokens=_count(attributes, INPUT_TOKEN_KEYS),
        output_tokens=_count(attributes, OUTPUT_TOKEN_KEYS),
        cached_tokens=_count(attributes, CACHED_TOKEN_KEYS),
        cost_usd=_money(attributes, COST_KEYS),
        input=_optional_str(attributes.get("input.value")),
        output=_optional_str(attributes.get("output.value")),
        attributes=attributes,
    )


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


def to_spans(request: ExportTraceServiceRequest) -> tuple[list[Span], list[OtlpSpanError]]:
    spans: list[Span] = []
    errors: list[OtlpSpanError] = []
    for resource_spans in request.resource_spans:
        resource = _attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                try:
                    spans.append(to_span(span, resource))
                except SpanProblem as problem:
                    errors.append(
                        OtlpSpanError(trace_id=span.trace_id.hex(), span_id=span.span_id.hex(), detail=str(problem))
                    )
    return spans, errors


async def ingest_traces(
    repo: ExperimentRepository,
    telemetry: TelemetryStore | None,
    workspace: str,
    body: bytes,
    content_type: str | None,
) -> OtlpExportResponse:
    """Store every usable span; the others (and those tagged with an unknown experiment) in errors."""
    spans, errors = to_spans(decode(body, content_type))
    rejected = await store_spans(repo, telemetry, workspace, spans, strict=False)
    errors += [OtlpSpanError(trace_id=r.span.trace_id, span_id=r.span.span_id, detail=r.detail) for r in rejected]
    return OtlpExportResponse(errors=errors)
