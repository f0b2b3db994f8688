"""Sessions, evaluator results and rollups survive a restart of the embedded stores: the real
`intake-service serve` in a subprocess, stopped with SIGTERM and started again on the same data dir."""

from pathlib import Path
from typing import Any

import httpx
import pytest

from support import assert_postgres_shut_down, workspace_base

BASE = workspace_base("persist")


def snapshot(http: httpx.Client) -> dict[str, Any]:
    experiment = http.get(f"{BASE}/experiments/run%201")
    assert experiment.status_code == 200, experiment.text
    assert "X-Intake-Rollups" not in experiment.headers
    sessions = http.get(f"{BASE}/experiments/run%201/sessions", params={"page_size": 1000})
    assert sessions.status_code == 200, sessions.text
    leaderboard = http.get(f"{BASE}/experiments", params={"sort": "-evaluators.acc.mean"})
    assert leaderboard.status_code == 200, leaderboard.text
    return {"experiment": experiment.json(), "sessions": sessions.json(), "leaderboard": leaderboard.json()}


def test_sessions_survive_restart(tmp_path: Path, serve) -> None:
    data_dir = tmp_path / "data"
    server = serve(data_dir)
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
    # A full restart of both stores: the next start is a cold one.
    assert server.stop() == 0, server.output()
    assert_postgres_shut_down(data_dir)

    assert before["experiment"]["run_count"] == 7
    assert before["experiment"]["cost_usd"]["sum"] == pytest.approx(9.0 + sum(0.1 * i for i in range(1, 7)), rel=1e-12)
    assert before["sessions"]["pagination"]["total_results"] == 7
    assert [r["name"] for r in before["leaderboard"]["data"]] == ["run 1", "run 2"]

    server = serve(data_dir)
    with httpx.Client(base_url=server.url, timeout=30) as http:
        after = snapshot(http)
        # Still writable after the restart, and rollups still recompute over the old rows.
        more = [{"session_id": "s7", "started_at": "2026-01-01T00:00:07Z", "scores": {"acc": 0.0}}]
        assert http.post(f"{BASE}/experiments/run%201/sessions", json={"sessions": more}).status_code == 201
        assert http.get(f"{BASE}/experiments/run%201").json()["run_count"] == 8
    assert after == before
