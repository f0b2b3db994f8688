"""Issue 11, finding 2: a large ingest body is parsed in the worker process (domain/formats/worker.py),
and what comes back is what a parse in the server gives: the stored spans and sessions, the spans
reported as unusable, and the 400/413/422 of a body that cannot be used, with their sentences. A
small session body is parsed on the event loop itself.

How long /health/live takes meanwhile is measured by bench/bench_live_latency.py, not here.
"""

import signal
import threading
import time
from typing import Any

import httpx
import orjson
import psutil

from intake_service.domain import ingest
from intake_service.domain.formats import worker
from intake_service.domain.ingest import encoded_sessions

from support import Server, create_experiment

JSON = {"content-type": "application/json"}
T = "2026-01-01T00:00:00Z"


def otlp_span(index: int, **attributes: str) -> dict[str, object]:
    return {
        "traceId": "0af7651916cd43dd8448eb211c80319c",
        "spanId": f"{index + 1:016x}",
        "startTimeUnixNano": "1767225600000000000",
        "name": "call",
        "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in attributes.items()],
    }


def large(document: object) -> bytes:
    body = orjson.dumps(document)
    assert len(body) > worker.IN_PROCESS_BYTES
    return body


async def test_a_large_otlp_body_is_parsed_in_the_worker_with_the_same_answer(client, base) -> None:
    spans = [otlp_span(i, padding="x" * 200) for i in range(1_000)]
    spans[7]["spanId"] = "00"  # unusable, reported by id
    body = large({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]})
    response = await client.post(f"{base}/ingest/otlp/v1/traces", content=body, headers=JSON)
    assert response.status_code == 200, response.text
    [error] = response.json()["errors"]
    assert error["span_id"] == "00" and "span_id" in error["detail"]
    assert worker._pool is not None  # the body went to the worker process
    stored = await client.get(f"{base}/spans", params={"page_size": 1})
    assert stored.json()["pagination"]["total_results"] == 999


async def test_errors_raised_in_the_worker_reach_the_client(client, base) -> None:
    broken = large({"resourceSpans": [{"scopeSpans": [{"spans": [otlp_span(i) for i in range(2_000)]}]}]})[:-1]
    response = await client.post(f"{base}/ingest/otlp/v1/traces", content=broken, headers=JSON)
    assert response.status_code == 400 and response.json() == {"detail": "The body is not valid JSON."}
    too_many = large({"resourceSpans": [{"scopeSpans": [{"spans": [otlp_span(i) for i in range(10_001)]}]}]})
    response = await client.post(f"{base}/ingest/otlp/v1/traces", content=too_many, headers=JSON)
    assert response.status_code == 413
    assert response.json() == {"detail": "An OTLP request may carry at most 10,000 spans."}


async def test_large_session_and_atif_bodies(client, base) -> None:
    await create_experiment(client, base, "exp")
    rows = [{"session_id": f"s{i}", "started_at": T, "input": "x" * 100} for i in range(1_000)]
    response = await client.post(f"{base}/experiments/exp/sessions", content=large({"sessions": rows}), headers=JSON)
    assert response.status_code == 201 and response.json() == {"accepted": 1_000}, response.text
    rows[500]["started_at"] = "2400-01-01T00:00:00Z"
    response = await client.post(f"{base}/experiments/exp/sessions", content=large({"sessions": rows}), headers=JSON)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][:3] == ["body", "sessions", 500]

    steps = [{"step_id": i + 1, "source": "user", "message": "x" * 100} for i in range(1_500)]
    trajectory = {"schema_version": "ATIF-v1.6", "session_id": "t1", "agent": {"name": "a", "version": "1"}}
    response = await client.post(f"{base}/ingest/atif", content=large({**trajectory, "steps": steps}), headers=JSON)
    assert response.status_code == 201 and response.json()["session_id"] == "t1", response.text
    spans = await client.get(f"{base}/spans", params={"filter[session_id]": "t1", "page_size": 1})
    assert spans.json()["pagination"]["total_results"] >= 1_500


def where_parsed(body: bytes) -> tuple[str, list[None]]:
    return threading.current_thread().name, []


async def test_a_body_up_to_the_callers_inline_size_is_parsed_on_the_event_loop() -> None:
    """A small session body is parsed where the request runs: a hand-off to a thread and back took
    about as long as its parse. Larger ones still go to a thread (or to the worker)."""
    loop_thread = threading.current_thread().name
    assert (await worker.parse_body(where_parsed, b"x" * 100, inline_bytes=100))[0] == loop_thread
    assert (await worker.parse_body(where_parsed, b"x" * 101, inline_bytes=100))[0] != loop_thread
    assert (await worker.parse_body(where_parsed, b"x" * 100))[0] != loop_thread  # none unless the caller says


async def test_a_request_of_100_sessions_is_parsed_on_the_event_loop(client, base, monkeypatch) -> None:
    threads: list[str] = []

    def recorded(*args: Any) -> Any:
        threads.append(threading.current_thread().name)
        return encoded_sessions(*args)

    monkeypatch.setattr(ingest, "encoded_sessions", recorded)
    await create_experiment(client, base, "exp")
    rows = [{"session_id": f"s{i}", "started_at": T, "scores": {"accuracy": 0.5}} for i in range(100)]
    response = await client.post(f"{base}/experiments/exp/sessions", json={"sessions": rows})
    assert response.status_code == 201, response.text
    assert threads == [threading.current_thread().name]


def test_the_worker_ends_when_the_server_is_killed(tmp_path) -> None:
    """A killed server cannot shut its worker down: the worker watches for that and ends."""
    service = Server(tmp_path / "data").start()
    try:
        body = large({"resourceSpans": [{"scopeSpans": [{"spans": [otlp_span(i) for i in range(2_000)]}]}]})
        url = f"{service.url}/apis/intake/v2/workspaces/w/ingest/otlp/v1/traces"
        assert httpx.post(url, content=body, headers=JSON, timeout=120).status_code == 200
        assert service.process is not None
        children = psutil.Process(service.process.pid).children()
        [spawned] = [p for p in children if "spawn_main" in " ".join(p.cmdline())]
        service.signal(signal.SIGKILL)
        service.wait()
        deadline = time.monotonic() + 15
        while spawned.is_running() and spawned.status() != psutil.STATUS_ZOMBIE and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not spawned.is_running() or spawned.status() == psutil.STATUS_ZOMBIE
    finally:
        service.stop()
        pgdata = str(tmp_path / "data" / "postgres")
        for process in psutil.process_iter(["cmdline"]):  # the embedded PostgreSQL the kill left behind
            if pgdata in (process.info["cmdline"] or []):
                process.terminate()
