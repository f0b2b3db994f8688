"""POST /ingest/otlp/v1/traces with the real OpenTelemetry SDK and OTLP/HTTP exporter against a
running server, then the experiment's rollups read over HTTP; plus OTLP JSON, gzip, out-of-order
spans, partial success and bad input against the in-process app."""

import base64
import gzip
import time
import uuid
from collections.abc import Iterator

import httpx
import orjson
import pytest
from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status as TraceStatus
from opentelemetry.trace import StatusCode

from support import Server, create_experiment, workspace_base

PROTOBUF = {"content-type": "application/x-protobuf"}


# --- a running server -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`intake-service serve` on a free loopback port with its own embedded stores."""
    with Server(tmp_path_factory.mktemp("otlp-server") / "data") as running:
        yield running.url


@pytest.fixture
def remote(server: str) -> Iterator[tuple[httpx.Client, str]]:
    """(client on the server, the base path of a fresh workspace with experiment 'agent-eval')."""
    base = workspace_base(f"ws-{uuid.uuid4().hex[:12]}")
    with httpx.Client(base_url=server, timeout=30) as http:
        assert http.post(f"{base}/experiments", json={"name": "agent-eval", "dataset_name": "d"}).status_code == 201
        yield http, base


def run_agent(provider: TracerProvider, cases: int, *, error_case: int | None = None) -> None:
    """One root span per test case with two child LLM calls carrying gen_ai.* usage."""
    tracer = provider.get_tracer("agent-under-test")
    for case in range(cases):
        attributes = {"nemo.experiment.id": "agent-eval", "nemo.test_case.id": f"tc-{case}"}
        with tracer.start_as_current_span("agent.run", attributes=attributes) as root:
            for call in range(2):
                with tracer.start_as_current_span(
                    "chat gpt-a",
                    attributes={
                        "gen_ai.request.model": "gpt-a",
                        "gen_ai.usage.input_tokens": 100 + case,
                        "gen_ai.usage.output_tokens": 10 * (call + 1),
                        "gen_ai.usage.cached_tokens": 5,
                        "gen_ai.usage.cost": 0.001 * (call + 1),
                    },
                ):
                    time.sleep(0.002)
            root.set_status(TraceStatus(StatusCode.ERROR if case == error_case else StatusCode.OK))


def agent_resource() -> Resource:
    return Resource.create({"service.name": "agent", "gen_ai.agent.name": "planner", "gen_ai.agent.version": "3.1"})


def recorded_agent_run(cases: int) -> tuple[ReadableSpan, ...]:
    """The finished spans of an agent run, kept in memory (not exported)."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=agent_resource())
    provider.add_span_processor(SimpleSpanProcessor(memory))
    run_agent(provider, cases)
    return memory.get_finished_spans()


def latency_ms(span: ReadableSpan) -> float:
    return (span.end_time - span.start_time) / 1e6


class TestRealExporter:
    def test_agent_run_exported_span_by_span(self, remote):
        """SimpleSpanProcessor exports each span as it ends: children first, the root last."""
        http, base = remote
        exporter = OTLPSpanExporter(endpoint=f"{http.base_url}{base}/ingest/otlp/v1/traces")
        memory = InMemorySpanExporter()
        provider = TracerProvider(resource=agent_resource())
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        provider.add_span_processor(SimpleSpanProcessor(memory))
        run_agent(provider, 3, error_case=2)
        provider.shutdown()

        roots = sorted((s for s in memory.get_finished_spans() if s.parent is None), key=lambda s: s.start_time)
        rollups = http.get(f"{base}/experiments/agent-eval").json()
        assert rollups["run_count"] == 3
        assert rollups["cost_usd"]["sum"] == pytest.approx(3 * 0.003)
        assert rollups["cost_usd"]["count"] == 3
        assert rollups["latency_ms"]["sum"] == pytest.approx(sum(latency_ms(r) for r in roots), abs=0.01)
        assert rollups["model_names"] == ["gpt-a"]
        assert rollups["agent_names"] == ["planner"] and rollups["agent_versions"] == ["3.1"]

        rows = http.get(f"{base}/experiments/agent-eval/sessions", params={"sort": "test_case_id"}).json()["data"]
        assert [r["session_id"] for r in rows] == [format(r.context.trace_id, "032x") for r in roots]
        assert [r["test_case_id"] for r in rows] == ["tc-0", "tc-1", "tc-2"]
        assert [r["status"] for r in rows] == ["success", "success", "error"]
        assert [(r["input_tokens"], r["output_tokens"], r["cached_tokens"]) for r in rows] == [
            (200, 30, 10),
            (202, 30, 10),
            (204, 30, 10),
        ]
        assert [r["latency_ms"] for r in rows] == pytest.approx([latency_ms(r) for r in roots], abs=0.01)

    def test_root_first_then_children_gzip_in_several_exports(self, remote):
        http, base = remote
        spans = recorded_agent_run(1)
        root = next(s for s in spans if s.parent is None)
        children = [s for s in spans if s.parent is not None]
        exporter = OTLPSpanExporter(
            endpoint=f"{http.base_url}{base}/ingest/otlp/v1/traces", compression=Compression.Gzip
        )

        assert exporter.export([root]) == SpanExportResult.SUCCESS
        rollups = http.get(f"{base}/experiments/agent-eval").json()
        assert rollups["run_count"] == 1 and rollups["cost_usd"] is None
        for child in reversed(children):
            assert exporter.export([child]) == SpanExportResult.SUCCESS
        exporter.shutdown()

        rollups = http.get(f"{base}/experiments/agent-eval").json()
        assert rollups["run_count"] == 1
        assert rollups["cost_usd"]["sum"] == pytest.approx(0.003)
        assert rollups["latency_ms"]["sum"] == pytest.approx(latency_ms(root), abs=0.01)
        [row] = http.get(f"{base}/experiments/agent-eval/sessions").json()["data"]
        assert (row["input_tokens"], row["output_tokens"], row["status"]) == (200, 30, "success")

    def test_otlp_json_and_gzip_json(self, remote):
        http, base = remote
        spans = recorded_agent_run(2)
        first, second = (
            otlp_json([s for s in spans if s.context.trace_id == spans[0].context.trace_id]),
            otlp_json([s for s in spans if s.context.trace_id != spans[0].context.trace_id]),
        )
        url = f"{base}/ingest/otlp/v1/traces"
        response = http.post(url, content=orjson.dumps(first), headers={"content-type": "application/json"})
        assert response.status_code == 200 and response.json() == {"errors": []}
        response = http.post(
            url,
            content=gzip.compress(orjson.dumps(second)),
            headers={"content-type": "application/json", "content-encoding": "gzip"},
        )
        assert response.status_code == 200 and response.json() == {"errors": []}
        rollups = http.get(f"{base}/experiments/agent-eval").json()
        assert rollups["run_count"] == 2
        assert rollups["cost_usd"]["sum"] == pytest.approx(0.006)


def otlp_json(spans: list[ReadableSpan]) -> dict:
    """The OTLP JSON mapping of an export: protobuf's JSON form with trace and span ids in hex."""
    document = json_format.MessageToDict(encode_spans(spans))
    for resource_spans in document["resourceSpans"]:
        for scope_spans in resource_spans["scopeSpans"]:
            for span in scope_spans["spans"]:
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in span:
                        span[key] = base64.b64decode(span[key]).hex()
    return document


# --- hand-built requests against the in-process app -------------------------------------------


def attr(key: str, value) -> KeyValue:
    if isinstance(value, bool):
        return KeyValue(key=key, value=AnyValue(bool_value=value))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    if isinstance(value, float):
        return KeyValue(key=key, value=AnyValue(double_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=value))


def span(
    trace: bytes,
    span_id: bytes,
    parent: bytes = b"",
    start: int = 1_767_225_600_000_000_000,
    duration_ms: float = 1000,
    status: int = Status.STATUS_CODE_UNSET,
    **attributes,
) -> Span:
    return Span(
        trace_id=trace,
        span_id=span_id,
        parent_span_id=parent,
        name="s",
        start_time_unix_nano=start,
        end_time_unix_nano=start + int(duration_ms * 1e6),
        status=Status(code=status),
        attributes=[attr(k, v) for k, v in attributes.items()],
    )


def export(*spans: Span, resource: dict | None = None) -> bytes:
    request = ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=list(spans))])])
    for key, value in (resource or {}).items():
        request.resource_spans[0].resource.attributes.append(attr(key, value))
    return request.SerializeToString()


TRACE = bytes.fromhex("0af7651916cd43dd8448eb211c80319c")
ROOT, CHILD, OTHER = (
    bytes.fromhex("b7ad6b7169203331"),
    bytes.fromhex("00f067aa0ba902b7"),
    bytes.fromhex("1111111111111111"),
)


class TestSessions:
    async def test_children_first_then_root_binds_the_session(self, client, base):
        await create_experiment(client, base, "exp")
        url = f"{base}/ingest/otlp/v1/traces"
        child = span(
            TRACE,
            CHILD,
            ROOT,
            start=1_767_225_600_500_000_000,
            duration_ms=200,
            **{"gen_ai.usage.input_tokens": 7, "llm.token_count.completion": 3, "llm.cost.total": 0.5},
        )
        response = await client.post(url, content=export(child), headers=PROTOBUF)
        assert response.status_code == 200 and response.json() == {"errors": []}
        assert (await client.get(f"{base}/experiments/exp")).json()["run_count"] == 0

        root = span(
            TRACE,
            ROOT,
            duration_ms=1234.5,
            status=Status.STATUS_CODE_ERROR,
            **{"nemo.experiment.id": "exp", "nemo.test_case.id": "case-9"},
        )
        response = await client.post(url, content=export(root), headers=PROTOBUF)
        assert response.status_code == 200 and response.json() == {"errors": []}
        rollups = (await client.get(f"{base}/experiments/exp")).json()
        assert rollups["run_count"] == 1
        assert rollups["cost_usd"]["sum"] == 0.5
        assert rollups["latency_ms"]["sum"] == 1234.5
        [row] = (await client.get(f"{base}/experiments/exp/sessions")).json()["data"]
        assert row["session_id"] == TRACE.hex()
        assert (row["test_case_id"], row["status"], row["input_tokens"], row["output_tokens"]) == (
            "case-9",
            "error",
            7,
            3,
        )
        assert row["started_at"] == "2026-01-01T00:00:00Z"

        # The same span again replaces itself; the totals do not double.
        await client.post(url, content=export(child), headers=PROTOBUF)
        assert (await client.get(f"{base}/experiments/exp")).json()["cost_usd"]["sum"] == 0.5

    async def test_session_id_attribute_groups_traces(self, client, base):
        await create_experiment(client, base, "exp")
        other_trace = bytes.fromhex("1" * 32)
        body = export(
            span(TRACE, ROOT, **{"session.id": "conv-1", "nemo.experiment.id": "exp"}),
            span(other_trace, OTHER, ROOT, **{"gen_ai.conversation.id": "conv-1", "gen_ai.usage.input_tokens": 4}),
            resource={"gen_ai.agent.name": "bot"},
        )
        response = await client.post(f"{base}/ingest/otlp/v1/traces", content=body, headers=PROTOBUF)
        assert response.json() == {"errors": []}
        [row] = (await client.get(f"{base}/experiments/exp/sessions")).json()["data"]
        assert (row["session_id"], row["input_tokens"], row["agent_name"]) == ("conv-1", 4, "bot")


class TestPartialSuccess:
    async def test_unusable_spans_are_reported_and_the_rest_stored(self, client, base):
        await create_experiment(client, base, "exp")
        body = export(
            span(TRACE, ROOT, **{"nemo.experiment.id": "exp"}),
            span(TRACE, CHILD, ROOT, **{"gen_ai.usage.input_tokens": 5}),
            span(b"", OTHER),
            span(TRACE, OTHER, ROOT, **{"gen_ai.usage.input_tokens": "many"}),
            span(TRACE, b"\x00" * 8, ROOT),
            span(TRACE, bytes.fromhex("3" * 16), ROOT, start=2**64 - 10**12),
        )
        response = await client.post(f"{base}/ingest/otlp/v1/traces", content=body, headers=PROTOBUF)
        assert response.status_code == 200
        assert response.json()["errors"] == [
            {
                "trace_id": "",
                "span_id": OTHER.hex(),
                "detail": "The span has no valid trace_id (16 bytes, not all zero).",
            },
            {
                "trace_id": TRACE.hex(),
                "span_id": OTHER.hex(),
                "detail": "Attribute 'gen_ai.usage.input_tokens' must be a non-negative integer.",
            },
            {
                "trace_id": TRACE.hex(),
                "span_id": "0" * 16,
                "detail": "The span has no valid span_id (8 bytes, not all zero).",
            },
            {
                "trace_id": TRACE.hex(),
                "span_id": "3" * 16,
                "detail": "The span's times must fall between 1900 and 2261.",
            },
        ]
        [row] = (await client.get(f"{base}/experiments/exp/sessions")).json()["data"]
        assert row["input_tokens"] == 5

    async def test_unknown_and_deleted_experiments(self, client, base):
        await create_experiment(client, base, "gone")
        assert (await client.delete(f"{base}/experiments/gone")).status_code == 204
        other_trace = bytes.fromhex("2" * 32)
        body = export(
            span(TRACE, ROOT, **{"nemo.experiment.id": "missing"}),
            span(other_trace, ROOT, **{"nemo.experiment.id": "gone"}),
        )
        response = await client.post(f"{base}/ingest/otlp/v1/traces", content=body, headers=PROTOBUF)
        assert response.status_code == 200
        assert response.json()["errors"] == [
            {
                "trace_id": TRACE.hex(),
                "span_id": ROOT.hex(),
                "detail": "Experiment 'missing' must be created before it can be logged.",
            },
            {
                "trace_id": other_trace.hex(),
                "span_id": ROOT.hex(),
                "detail": "Experiment 'gone' has been deleted and cannot accept new sessions.",
            },
        ]


class TestEvaluationAttributes:
    """SDK 0.3+ producers tag the root span with nemo.evaluation.* / nemo.test_case.name."""

    @pytest.mark.parametrize(
        ("tags", "test_case"),
        [
            ({"nemo.evaluation.name": "exp", "nemo.test_case.name": "tc-name"}, "tc-name"),
            ({"nemo.evaluation.id": "exp", "nemo.test_case.id": "tc-id"}, "tc-id"),
            # The newer spelling wins when both are on the span.
            (
                {
                    "nemo.evaluation.name": "exp",
                    "nemo.experiment.id": "other",
                    "nemo.test_case.name": "new",
                    "nemo.test_case.id": "old",
                },
                "new",
            ),
        ],
    )
    async def test_they_tag_the_session_like_nemo_experiment(self, client, base, tags, test_case):
        await create_experiment(client, base, "exp")
        await create_experiment(client, base, "other")
        child = span(
            TRACE,
            CHILD,
            ROOT,
            start=1_767_225_600_250_000_000,
            duration_ms=100,
            **{"gen_ai.usage.input_tokens": 9, "gen_ai.usage.cost": 0.25},
        )
        body = export(span(TRACE, ROOT, duration_ms=750, **tags), child)
        response = await client.post(f"{base}/ingest/otlp/v1/traces", content=body, headers=PROTOBUF)
        assert response.json() == {"errors": []}
        [row] = (await client.get(f"{base}/experiments/exp/sessions")).json()["data"]
        assert (row["session_id"], row["test_case_id"], row["input_tokens"], row["latency_ms"]) == (
            TRACE.hex(),
            test_case,
            9,
            750.0,
        )
        rollups = (await client.get(f"{base}/experiments/exp")).json()
        assert (rollups["run_count"], rollups["cost_usd"]["sum"]) == (1, 0.25)
        assert (await client.get(f"{base}/experiments/other")).json()["run_count"] == 0

    async def test_an_unknown_evaluation_name_is_reported(self, client, base):
        body = export(span(TRACE, ROOT, **{"nemo.evaluation.name": "missing"}))
        response = await client.post(f"{base}/ingest/otlp/v1/traces", content=body, headers=PROTOBUF)
        assert response.json()["errors"] == [
            {
                "trace_id": TRACE.hex(),
                "span_id": ROOT.hex(),
                "detail": "Experiment 'missing' must be created before it can be logged.",
            },
        ]


class TestBadInput:
    async def test_malformed_protobuf_is_400(self, client, base):
        response = await client.post(f"{base}/ingest/otlp/v1/traces", content=b"\xff\xff\xff", headers=PROTOBUF)
        assert response.status_code == 400
        assert response.json() == {"detail": "The body is not a protobuf ExportTraceServiceRequest."}

    @pytest.mark.parametrize(
        "body",
        [
            b"{not json",
            b"[1, 2]",
            b'{"resourceSpans": "x"}',
            b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"startTimeUnixNano": "soon"}]}]}]}',
        ],
    )
    async def test_json_of_the_wrong_shape_is_400(self, client, base, body):
        response = await client.post(
            f"{base}/ingest/otlp/v1/traces", content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code == 400
        assert list(response.json()) == ["detail"]

    async def test_wrong_content_type_is_415(self, client, base):
        response = await client.post(
            f"{base}/ingest/otlp/v1/traces", content=b"x", headers={"content-type": "text/plain"}
        )
        assert response.status_code == 415
        assert response.json() == {
            "detail": "Content-Type 'text/plain' is not supported; send application/x-protobuf or application/json."
        }

    async def test_too_large_and_nothing_stored(self, client, base):
        await create_experiment(client, base, "exp")
        root = span(TRACE, ROOT, **{"nemo.experiment.id": "exp", "padding": "x" * (33 * 1024 * 1024)})
        response = await client.post(f"{base}/ingest/otlp/v1/traces", content=export(root), headers=PROTOBUF)
        assert response.status_code == 413
        assert (await client.get(f"{base}/experiments/exp")).json()["run_count"] == 0

    async def test_empty_request_is_fine(self, client, base):
        response = await client.post(f"{base}/ingest/otlp/v1/traces", content=b"", headers=PROTOBUF)
        assert response.status_code == 200 and response.json() == {"errors": []}
