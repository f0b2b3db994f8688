"""What the /nemo-0.4 flows ingest, decided here so the tests can work out the answers by hand.

Every time is on two recent days (NeMo refuses spans older than its 90-day retention, and a trace
metrics query without a lower bound covers the last 7 days): DAY0 is two days before today (UTC),
DAY1 the day after it. The OTLP trace goes to SDK 0.6.0 as protobuf bytes (its traces.create takes
a serialized ExportTraceServiceRequest) and to 0.4.0/0.5.1 as OTLP JSON, the same spans either way.
"""

from datetime import UTC, date, datetime, timedelta
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

OTLP_TRACE, OTLP_ROOT, OTLP_CHILD = "b" * 32, "3" * 16, "4" * 16


def days() -> tuple[date, date]:
    day0 = datetime.now(UTC).date() - timedelta(days=2)
    return day0, day0 + timedelta(days=1)


def _nanos(day: date, seconds: float) -> int:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return int(start.timestamp()) * 1_000_000_000 + int(seconds * 1e9)


def _otlp_spans(day1: date) -> list[dict[str, Any]]:
    """ev-b's one session s-otel, test case A: a root agent run 10:00:00 → 10:00:02 (agent otter 1.1)
    and an LLM call 10:00:00.1 → 10:00:00.5 (gpt-y by openai, 100/10 tokens, $0.001)."""
    ten = 10 * 3600
    root = {
        "span_id": OTLP_ROOT, "parent": "", "name": "agent.run",
        "start": _nanos(day1, ten), "end": _nanos(day1, ten + 2),
        "attributes": {
            "session.id": "s-otel", "nemo.evaluation.name": "ev-b", "nemo.test_case.name": "A",
            "gen_ai.agent.name": "otter", "gen_ai.agent.version": "1.1", "input.value": "in", "output.value": "out",
        },
    }  # fmt: skip
    child = {
        "span_id": OTLP_CHILD, "parent": OTLP_ROOT, "name": "chat gpt-y",
        "start": _nanos(day1, ten + 0.1), "end": _nanos(day1, ten + 0.5),
        "attributes": {
            "session.id": "s-otel", "openinference.span.kind": "LLM", "gen_ai.request.model": "gpt-y",
            "gen_ai.system": "openai", "gen_ai.usage.input_tokens": 100, "gen_ai.usage.output_tokens": 10,
            "gen_ai.usage.cost": 0.001,
        },
    }  # fmt: skip
    return [root, child]


def _json_value(value: Any) -> dict[str, Any]:
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    return {"stringValue": value}


def otlp_json(day1: date) -> dict[str, Any]:
    spans = [
        {
            "traceId": OTLP_TRACE,
            "spanId": s["span_id"],
            "parentSpanId": s["parent"],
            "name": s["name"],
            "kind": 1,
            "startTimeUnixNano": str(s["start"]),
            "endTimeUnixNano": str(s["end"]),
            "status": {"code": 1},
            "attributes": [{"key": k, "value": _json_value(v)} for k, v in s["attributes"].items()],
        }  # fmt: skip
        for s in _otlp_spans(day1)
    ]
    return {"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}


def _any_value(value: Any) -> AnyValue:
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    return AnyValue(string_value=value)


def otlp_protobuf(day1: date) -> bytes:
    spans = [
        Span(
            trace_id=bytes.fromhex(OTLP_TRACE),
            span_id=bytes.fromhex(s["span_id"]),
            parent_span_id=bytes.fromhex(s["parent"]),
            name=s["name"],
            kind=Span.SPAN_KIND_INTERNAL,
            start_time_unix_nano=s["start"],
            end_time_unix_nano=s["end"],
            status=Status(code=Status.STATUS_CODE_OK),
            attributes=[KeyValue(key=k, value=_any_value(v)) for k, v in s["attributes"].items()],
        )  # fmt: skip
        for s in _otlp_spans(day1)
    ]
    request = ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=spans)])])
    return request.SerializeToString()


def flow_data() -> dict[str, Any]:
    """What a /nemo-0.4 flow needs beyond its URL and workspace."""
    day0, day1 = days()
    return {
        "day0": day0.isoformat(),
        "day1": day1.isoformat(),
        "otlp_json": otlp_json(day1),
        "otlp_protobuf_hex": otlp_protobuf(day1).hex(),
    }


def days_of(out: dict[str, Any]) -> tuple[date, date]:
    """DAY0 and DAY1 of a flow run, as it was given them (a run may end after midnight)."""
    return date.fromisoformat(out["sdk"]["day0"]), date.fromisoformat(out["sdk"]["day1"])


def ok(out: dict[str, Any], step: str) -> Any:
    """What a flow step answered; the test fails on a step that raised, with its error."""
    value = out[step]
    assert not (isinstance(value, dict) and "step_failed" in value), f"{step}: {value['step_failed']}"
    return value


def pick(row: dict[str, Any], *fields: str) -> tuple[Any, ...]:
    return tuple(row[field] for field in fields)
