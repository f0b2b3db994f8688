"""OTLP ingest throughput: spans/s for OTLP/HTTP protobuf against a local server.

    python bench/bench_otlp.py --requests 200 --traces 64 --spans 8 --threads 2

Starts `intake-service serve` on a free loopback port with a fresh data directory (embedded
PostgreSQL + chDB), creates one experiment, then POSTs pre-encoded ExportTraceServiceRequests (the
opentelemetry-proto messages the SDK exporter sends) from client threads: each request holds
`--traces` agent runs of `--spans` spans (a root tagged with the experiment and test case, the rest
LLM calls with gen_ai.* usage), 512 spans per request by default like the SDK's batch processor.
Every request is answered only after its spans are stored, its sessions rebuilt and the
experiment's rollups rewritten, so the figure includes all of that. Writes bench/results/otlp.json
and otlp.md.
"""

import argparse
import json
import random
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from common import cpu_seconds, load_average, profiled, serve
from load import profile_summary
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

START_NS = 1_767_225_600_000_000_000


def kv(key: str, value: object) -> KeyValue:
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    if isinstance(value, float):
        return KeyValue(key=key, value=AnyValue(double_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=str(value)))


def encode_request(number: int, traces: int, spans: int, rng: random.Random) -> bytes:
    out = []
    for t in range(traces):
        trace_id = rng.randbytes(16)
        root_id = rng.randbytes(8)
        begin = START_NS + (number * traces + t) * 1_000_000_000
        out.append(
            Span(
                trace_id=trace_id,
                span_id=root_id,
                name="agent.run",
                kind=Span.SPAN_KIND_INTERNAL,
                start_time_unix_nano=begin,
                end_time_unix_nano=begin + rng.randint(500, 5000) * 1_000_000,
                status=Status(code=Status.STATUS_CODE_OK),
                attributes=[kv("nemo.experiment.id", "bench"), kv("nemo.test_case.id", f"tc-{t}")],
            )
        )
        for s in range(spans - 1):
            out.append(
                Span(
                    trace_id=trace_id,
                    span_id=rng.randbytes(8),
                    parent_span_id=root_id,
                    name="chat model-a",
                    kind=Span.SPAN_KIND_CLIENT,
                    start_time_unix_nano=begin + s * 1_000_000,
                    end_time_unix_nano=begin + (s + 1) * 1_000_000,
                    attributes=[
                        kv("gen_ai.request.model", "model-a"),
                        kv("gen_ai.usage.input_tokens", rng.randint(50, 500)),
                        kv("gen_ai.usage.output_tokens", rng.randint(5, 100)),
                        kv("gen_ai.usage.cost", rng.uniform(0.0001, 0.01)),
                    ],
                )
            )
    resource = Resource(attributes=[kv("service.name", "bench-agent"), kv("gen_ai.agent.name", "bench-agent")])
    request = ExportTraceServiceRequest(
        resource_spans=[ResourceSpans(resource=resource, scope_spans=[ScopeSpans(spans=out)])]
    )
    return request.SerializeToString()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--traces", type=int, default=64, help="agent runs (sessions) per request")
    parser.add_argument("--spans", type=int, default=8, help="spans per agent run (1 root + LLM calls)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--results", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--py-spy", type=Path, help="a py-spy binary: profile the server (otlp_profile.md)")
    args = parser.parse_args()
    args.results.mkdir(parents=True, exist_ok=True)

    rng = random.Random(7)
    bodies = [encode_request(n, args.traces, args.spans, rng) for n in range(args.requests)]
    load = load_average()
    profile = args.results / "otlp_profile.txt"
    with tempfile.TemporaryDirectory() as data_dir, serve(data_dir) as server:
        base = f"{server.url}/apis/intake/v2/workspaces/bench"
        with httpx.Client(timeout=120) as client:
            assert client.post(f"{base}/experiments", json={"name": "bench", "dataset_name": "d"}).status_code == 201
        local = threading.local()

        def send(body: bytes) -> None:
            if not hasattr(local, "http"):
                local.http = httpx.Client(timeout=120)  # one keep-alive connection per thread
            response = local.http.post(
                f"{base}/ingest/otlp/v1/traces", content=body, headers={"content-type": "application/x-protobuf"}
            )
            assert response.status_code == 200 and response.json() == {"errors": []}, response.text

        began, cpu = time.perf_counter(), cpu_seconds(server.pid)
        with profiled(server.pid, args.py_spy, profile), ThreadPoolExecutor(args.threads) as pool:
            list(pool.map(send, bodies))
        elapsed, cpu = time.perf_counter() - began, cpu_seconds(server.pid) - cpu
        with httpx.Client(timeout=120) as client:
            rollups = client.get(f"{base}/experiments/bench").json()
            listed = client.get(f"{base}/experiments/bench/sessions", params={"page_size": 1}).json()

    spans = args.requests * args.traces * args.spans
    expected = args.requests * args.traces
    result = {
        "command": "python bench/bench_otlp.py " + " ".join(sys.argv[1:]),
        "load_average": load,
        "requests": args.requests,
        "traces_per_request": args.traces,
        "spans_per_trace": args.spans,
        "threads": args.threads,
        "spans": spans,
        "seconds": round(elapsed, 2),
        "spans_per_second": round(spans / elapsed),
        "requests_per_second": round(args.requests / elapsed, 1),
        "server_cpu_ms_per_1000_spans": round(cpu * 1000 / spans * 1000, 1),
        "sessions_expected": expected,
        "sessions_listed": listed["pagination"]["total_results"],
        "run_count": rollups["run_count"],
    }
    if args.py_spy is not None:
        (args.results / "otlp_profile.md").write_text(profile_summary(profile))
    (args.results / "otlp.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.results / "otlp.md").write_text(
        f"`{result['command']}` (load average before: {load})\n\n| measure | value |\n|---|---|\n"
        f"| OTLP protobuf ingest | {result['spans_per_second']:,} spans/s |\n"
        f"| server CPU per 1,000 spans | {result['server_cpu_ms_per_1000_spans']} ms |\n"
        f"| requests | {args.requests} × {args.traces * args.spans} spans, {args.threads} client threads |\n"
        f"| sessions built: listed / run_count / expected | {result['sessions_listed']:,} / "
        f"{result['run_count']:,} / {expected:,} |\n"
    )
    print(json.dumps(result, indent=2))
    # Zero lost: every span-built session is stored and counted.
    return 0 if result["sessions_listed"] == result["run_count"] == expected else 1


if __name__ == "__main__":
    sys.exit(main())
