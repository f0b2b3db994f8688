"""Sessions, evaluator results and rollups survive a restart of the embedded stores: the real
`intake-service serve` in a subprocess, stopped with SIGTERM and started again on the same data dir."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

BASE = "/apis/intake/v2/workspaces/persist"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, data_dir: Path, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "intake_service", "serve", "--port", str(self.port), "--data-dir", str(data_dir),
             "--log-level", "warning"],
            stdout=self._log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 90
        while True:
            assert self.process.poll() is None, f"serve exited early; see {log}"
            try:
                if httpx.get(f"{self.url}{BASE}/experiments", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"serve did not come up; see {log}"
            time.sleep(0.2)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            self._log.close()


def graceful(code: int) -> bool:
    """uvicorn shuts down gracefully on SIGTERM and then re-raises the signal: -SIGTERM or 0."""
    return code in (0, -signal.SIGTERM)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def running_postmaster(data_dir: Path) -> int | None:
    """The pid of a PostgreSQL server still running on the embedded data directory, if any."""
    pid_file = data_dir / "postgres" / "postmaster.pid"
    if not pid_file.exists():
        return None
    pid = int(pid_file.read_text().splitlines()[0])
    return pid if alive(pid) else None


def stop_postmaster(pid: int) -> None:
    """Stop a postmaster this test's server left behind (smart shutdown), by its pid."""
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(pid)


def snapshot(http: httpx.Client) -> dict[str, Any]:
    experiment = http.get(f"{BASE}/experiments/run%201")
    assert experiment.status_code == 200, experiment.text
    assert "X-Intake-Rollups" not in experiment.headers
    sessions = http.get(f"{BASE}/experiments/run%201/sessions", params={"page_size": 1000})
    assert sessions.status_code == 200, sessions.text
    leaderboard = http.get(f"{BASE}/experiments", params={"sort": "-evaluators.acc.mean"})
    assert leaderboard.status_code == 200, leaderboard.text
    return {"experiment": experiment.json(), "sessions": sessions.json(), "leaderboard": leaderboard.json()}


def test_sessions_survive_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    log = tmp_path / "serve.log"
    server = Server(data_dir, log)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            for name in ("run 1", "run 2"):
                assert http.post(f"{BASE}/experiments", json={"name": name, "dataset_name": "d"}).status_code == 201
            sessions = [
                {"session_id": f"s{i}", "started_at": f"2026-01-01T00:00:0{i}Z", "cost_usd": 0.1 * i,
                 "latency_ms": 10.5 * i, "model_name": f"m{i % 2}", "scores": {"acc": i / 7, "a.b": i % 2 == 0}}
                for i in range(7)
            ]  # fmt: skip
            assert http.post(f"{BASE}/experiments/run%201/sessions", json={"sessions": sessions}).status_code == 201
            # A replaced session and an evaluator result must survive too.
            resent = {**sessions[0], "cost_usd": 9.0}
            assert http.post(f"{BASE}/experiments/run%201/sessions", json={"sessions": [resent]}).status_code == 201
            result = {"session_id": "s3", "name": "acc", "data_type": "NUMERIC", "value": 1.0, "experiment_name": "run 1"}
            assert http.post(f"{BASE}/evaluator-results", json=result).status_code == 201
            two = [{"session_id": "t", "started_at": "2026-01-01T00:00:00Z", "scores": {"acc": 0.01}}]
            assert http.post(f"{BASE}/experiments/run%202/sessions", json={"sessions": two}).status_code == 201
            before = snapshot(http)
    finally:
        assert graceful(server.stop()), log.read_text()
        # A full restart of both stores: should PostgreSQL be left running (the bug that
        # test_sigterm_stops_embedded_postgres guards), stop it so the next start is a cold one.
        if (pid := running_postmaster(data_dir)) is not None:
            stop_postmaster(pid)

    assert before["experiment"]["run_count"] == 7
    assert before["experiment"]["cost_usd"]["sum"] == pytest.approx(9.0 + sum(0.1 * i for i in range(1, 7)), rel=1e-12)
    assert before["sessions"]["pagination"]["total_results"] == 7
    assert [r["name"] for r in before["leaderboard"]["data"]] == ["run 1", "run 2"]

    server = Server(data_dir, log)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            after = snapshot(http)
            # Still writable after the restart, and rollups still recompute over the old rows.
            more = [{"session_id": "s7", "started_at": "2026-01-01T00:00:07Z", "scores": {"acc": 0.0}}]
            assert http.post(f"{BASE}/experiments/run%201/sessions", json={"sessions": more}).status_code == 201
            assert http.get(f"{BASE}/experiments/run%201").json()["run_count"] == 8
    finally:
        assert graceful(server.stop()), log.read_text()
        if (pid := running_postmaster(data_dir)) is not None:
            stop_postmaster(pid)
    assert after == before


def test_sigterm_stops_embedded_postgres(tmp_path: Path) -> None:
    """SIGTERM shuts serve down cleanly, embedded PostgreSQL included (no orphaned postmaster)."""
    data_dir = tmp_path / "data"
    server = Server(data_dir, tmp_path / "serve.log")
    code = server.stop()
    leftover = running_postmaster(data_dir)
    if leftover is not None:
        stop_postmaster(leftover)
    assert graceful(code)
    assert leftover is None, "SIGTERM left the embedded PostgreSQL running"

