"""How long /health/live takes to answer while the server parses one large ingest body (issue 11,
finding 2: within 100 ms while any one request is parsed).

    python bench/bench_live_latency.py --rounds 3

Starts `intake-service serve` on a free loopback port with a fresh data directory, then for each
body, `--rounds` times: a poller asks /health/live every 20 ms on its own keep-alive connection
while one client POSTs the body and waits for its answer; every /health/live answer given meanwhile
is timed. The bodies are the largest each route takes in one request: OTLP JSON (7,000 spans of 25
attributes, 8.6 MB, the shape that stalled the service for 1.2-2 s), OTLP protobuf (10,000 spans of
25 attributes), an ATIF trajectory of 10,000 steps and 10,000 sessions in one bulk ingest. Writes
bench/results/live_latency.json and live_latency.md.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import orjson
from common import free_port, percentile, wait_ready
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

WORKSPACE = "live"
START_NS = 1_767_225_600_000_000_000
JSON = {"content-type": "application/json"}


def otlp_json(spans: int, attributes: int) -> bytes:
    span = {
        "traceId": "0af7651916cd43dd8448eb211c80319c",
        "startTimeUnixNano": str(START_NS),
        "name": "call",
        "attributes": [{"key": f"k{i}", "value": {"stringValue": f"v{i}"}} for i in range(attributes)],
    }
    rows = [{**span, "spanId": f"{index + 1:016x}"} for index in range(spans)]
    return orjson.dumps({"resourceSpans": [{"scopeSpans": [{"spans": rows}]}]})


def otlp_protobuf(spans: int, attributes: int) -> bytes:
    attrs = [KeyValue(key=f"k{i}", value=AnyValue(string_value=f"v{i}")) for i in range(attributes)]
    rows = [
        Span(trace_id=bytes.fromhex("0af7651916cd43dd8448eb211c80319c"), span_id=(index + 1).to_bytes(8, "big"),
             name="call", start_time_unix_nano=START_NS, attributes=attrs)
        for index in range(spans)
    ]  # fmt: skip
    request = ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=rows)])])
    return request.SerializeToString()


def atif(steps: int) -> bytes:
    return orjson.dumps(
        {
            "schema_version": "ATIF-v1.6",
            "session_id": "live-atif",
            "agent": {"name": "a", "version": "1"},
            "steps": [{"step_id": i + 1, "source": "user", "message": f"step {i}"} for i in range(steps)],
        }
    )


def sessions(count: int) -> bytes:
    rows = [
        {"session_id": f"s{i}", "started_at": "2026-01-01T00:00:00Z", "scores": {"acc": 1}, "input": "x" * 200}
        for i in range(count)
    ]
    return orjson.dumps({"sessions": rows})


class Poller(threading.Thread):
    """Asks /health/live every 20 ms on its own connection, timing each answer."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.latencies, self.stopped = url, [], threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=60) as http:
            while not self.stopped.is_set():
                started = time.perf_counter()
                assert http.get("/health/live").status_code == 200
                self.latencies.append(time.perf_counter() - started)
                time.sleep(0.02)


def measure(url: str, post: Callable[[], httpx.Response]) -> dict[str, Any]:
    poller = Poller(url)
    poller.start()
    time.sleep(0.3)
    began = time.perf_counter()
    response = post()
    took = time.perf_counter() - began
    poller.stopped.set()
    poller.join()
    assert response.status_code in (200, 201), response.text[:300]
    ms = [latency * 1000 for latency in poller.latencies]
    return {"post_s": round(took, 2), "answers": len(ms), "median_ms": round(statistics.median(ms), 1),
            "p99_ms": round(percentile(ms, 99), 1), "max_ms": round(max(ms), 1)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--results", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    base = f"/apis/intake/v2/workspaces/{WORKSPACE}"
    bodies = {
        "OTLP JSON, 7,000 spans x 25 attributes": (f"{base}/ingest/otlp/v1/traces", otlp_json(7_000, 25), JSON),
        "OTLP protobuf, 10,000 spans x 25 attributes": (
            f"{base}/ingest/otlp/v1/traces", otlp_protobuf(10_000, 25), {"content-type": "application/x-protobuf"}
        ),
        "ATIF, 10,000 steps": (f"{base}/ingest/atif", atif(10_000), JSON),
        "sessions, 10,000 in one request": (f"{base}/experiments/live/sessions", sessions(10_000), JSON),
    }
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-live-") as tmp:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = (Path(tmp) / "server.log").open("w")
        server = subprocess.Popen(
            [sys.executable, "-m", "intake_service", "serve", "--port", str(port), "--data-dir", f"{tmp}/data",
             "--auth", "none", "--log-level", "warning"],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            wait_ready(url, timeout=300)
            created = httpx.post(f"{url}{base}/experiments", json={"name": "live", "dataset_name": "d"}, timeout=60)
            assert created.status_code == 201, created.text
            idle = measure(url, lambda: (time.sleep(3), httpx.get(f"{url}/health/live"))[1])
            rows.append({"body": "none (idle server, 3 s)", "bytes": 0, "round": 1, **idle})
            print(json.dumps(rows[-1]), flush=True)
            for name, (path, body, headers) in bodies.items():
                for round_ in range(1, args.rounds + 1):
                    post = partial(httpx.post, f"{url}{path}", content=body, headers=headers, timeout=600)
                    result = measure(url, post)
                    rows.append({"body": name, "bytes": len(body), "round": round_, **result})
                    print(json.dumps(rows[-1]), flush=True)
        finally:
            server.terminate()
            server.wait(timeout=120)
            log.close()
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "live_latency.json").write_text(json.dumps(rows, indent=2) + "\n")
    lines = ["| body | bytes | round | POST s | /health/live answers | median ms | p99 ms | max ms |",
             "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    lines += [
        f"| {r['body']} | {r['bytes']:,} | {r['round']} | {r['post_s']} | {r['answers']} | {r['median_ms']} | "
        f"{r['p99_ms']} | {r['max_ms']} |"
        for r in rows
    ]
    (args.results / "live_latency.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
