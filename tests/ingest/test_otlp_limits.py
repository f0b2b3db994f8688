"""Issue 11's limits on OTLP protobuf bodies (spans, messages, nesting depth), enforced without the
message walk for a body that is exactly the serialization of its request (issue 12): every body
here gets the answer the walk gives, the same spans or the same error sentence."""

from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope

from intake_service.domain.formats import otlp
from intake_service.errors import MalformedBody, PayloadTooLarge

PROTOBUF = "application/x-protobuf"
START = 1_767_225_600_000_000_000


def nest(value: AnyValue, levels: int, kind: str) -> None:
    """A string inside `levels` arrays (2 messages a level) or key-value lists (3 a level), built in
    place: a message deeper than the parser's limit cannot be copied (a copy is parsed again)."""
    for _ in range(levels):
        value = value.array_value.values.add() if kind == "array" else value.kvlist_value.values.add(key="k").value
    value.string_value = "x"


def export(*, spans: int = 1, where: str = "span", levels: int | None = None, kind: str = "array") -> bytes:
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    scope_spans = resource_spans.scope_spans.add(scope=InstrumentationScope(name="s"))
    for index in range(spans):
        span_id = (index + 1).to_bytes(8, "big")
        scope_spans.spans.add(trace_id=bytes(15) + b"\x01", span_id=span_id, name="call", start_time_unix_nano=START)
    if levels is not None:
        span = scope_spans.spans[0]
        holder = {
            "resource": resource_spans.resource,
            "scope": scope_spans.scope,
            "span": span,
            "event": span.events.add(name="e"),
            "link": span.links.add(trace_id=bytes(16)),
        }[where]
        nest(holder.attributes.add(key="deep").value, levels, kind)
    return request.SerializeToString()


def loose(body: bytes) -> bytes:
    """The same request, not as protobuf writes it: each ResourceSpans' length one byte longer than
    it needs (valid: a varint may carry a trailing zero group)."""
    out = b""
    for resource_spans in ExportTraceServiceRequest.FromString(body).resource_spans:
        inner = resource_spans.SerializeToString()
        length, varint = len(inner), b""
        while length >= 0x80:
            varint, length = varint + bytes([length & 0x7F | 0x80]), length >> 7
        out += b"\x0a" + varint + bytes([length | 0x80, 0]) + inner
    return out


def walked(body: bytes) -> Any:
    """The answer of the message walk, then a parse, as every protobuf body was read before."""
    try:
        otlp._count_messages(memoryview(body), ExportTraceServiceRequest.DESCRIPTOR, otlp._Budget())
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
    except (MalformedBody, PayloadTooLarge) as error:
        return type(error), str(error)
    except Exception:
        return MalformedBody, "The body is not a protobuf ExportTraceServiceRequest."
    spans, errors = otlp.to_spans(request)
    return errors, spans


def answer(body: bytes) -> Any:
    try:
        errors, spans = otlp.decode_spans(body, PROTOBUF)
    except (MalformedBody, PayloadTooLarge) as error:
        return type(error), str(error)
    return errors, spans


WHERE = ("resource", "scope", "span", "event", "link")
# Around the limit of 32 levels (see the depths below).
BODIES = [
    pytest.param(export(where=where, levels=levels, kind=kind), id=f"{where}-{kind}-{levels}")
    for where in WHERE
    for kind, around in (("array", (12, 13, 14, 15)), ("kvlist", (8, 9, 10)))
    for levels in around
] + [
    pytest.param(export(spans=3), id="plain"),
    pytest.param(export(spans=10_001), id="too-many-spans"),
    pytest.param(export(spans=10_001, levels=20), id="too-many-and-too-deep"),
    pytest.param(export(levels=60), id="deeper-than-the-parser-takes"),
    # An unknown field as a group (wire types 3 and 4): the protobuf parser skips it, the walk refuses it.
    pytest.param(export() + bytes([15 << 3 | 3, 15 << 3 | 4]), id="unknown-group"),
    pytest.param(export() + bytes([15 << 3, 1]), id="unknown-varint"),
    pytest.param(loose(export(levels=14)), id="not-canonical-too-deep"),
    pytest.param(loose(export(spans=2)), id="not-canonical"),
    pytest.param(loose(export(spans=10_001)), id="not-canonical-too-many-spans"),
    pytest.param(b"\xff\xff\xff", id="malformed"),
    pytest.param(b"", id="empty"),
]


@pytest.mark.parametrize("body", BODIES)
def test_the_answer_is_the_walks(body: bytes) -> None:
    assert answer(body) == walked(body)


def test_depth_is_refused_at_the_walks_limit_in_every_place() -> None:
    # The attribute's value is at depth 4 on a resource, 5 on a scope or span, 6 on an event or link.
    deepest = {"resource": 14, "scope": 13, "span": 13, "event": 13, "link": 13}
    for where, levels in deepest.items():
        deep = export(where=where, levels=levels + 1)
        assert answer(deep) == (MalformedBody, "The body nests messages more than 32 levels deep."), where
        errors, spans = answer(export(where=where, levels=levels))
        assert errors == [] and len(spans) == 1, where


def test_a_canonical_body_is_not_walked(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any) -> None:
        raise AssertionError("walked")

    monkeypatch.setattr(otlp, "_count_messages", refuse)
    assert otlp._parse_exact(loose(export())) is None
    errors, spans = answer(export(spans=512, levels=3, kind="kvlist"))
    assert errors == [] and len(spans) == 512
