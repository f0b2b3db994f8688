"""SDK 0.1.2 and 0.2.0, unchanged, on the seeds' /experiments at the root mount: create, retrieve,
list with a filter, pin, sessions ingested and the rollups read back (values computed by hand)."""

from collections.abc import Callable
from typing import Any

import pytest

# Two sessions: cost 0.01 and 0.03, latency 100 and 300 ms, acc 1 and 0.
EXPECTED_COST = {"sum": 0.04, "mean": 0.02, "count": 2}
EXPECTED_LATENCY = {"sum": 400.0, "mean": 200.0, "count": 2}


@pytest.mark.parametrize("version", ["0.1.2", "0.2.0"])
def test_seed_experiments_flow(run_flow: Callable[..., Any], sdk_workspace: str, version: str) -> None:
    out = run_flow(version, "experiments")
    created = out["created"]
    assert created["name"] == "run-a" and created["workspace"] == sdk_workspace
    assert created["dataset_name"] == "qa" and created["metadata"] == {"team": "t"} and created["run_count"] == 0
    if version == "0.1.2":
        assert created["agent_name"] == "bot" and created["agent_version"] == "1.0"
    else:
        assert created["experiment_group_id"] == "grp-x"
    assert out["accepted"] == {"accepted": 2}
    fetched = out["fetched"]
    assert fetched["run_count"] == 2 and fetched["model_names"] == ["m"] and fetched["evaluator_names"] == ["acc"]
    for stats, expected in ((fetched["cost_usd"], EXPECTED_COST), (fetched["latency_ms"], EXPECTED_LATENCY)):
        assert {k: stats[k] for k in expected} == pytest.approx(expected)
    acc = fetched["aggregate_scores"]["acc"]
    assert acc["mean"] == pytest.approx(0.5) and acc["sum"] == pytest.approx(1.0) and acc["count"] == 2
    assert out["filtered"] == ["run-a"]
    if version == "0.2.0":
        assert out["pinned_at_set"] is True
        assert out["order"] == ["run-b", "run-a"]
        assert {s["session_id"]: s["cost_total_usd"] for s in out["sessions"]} == {"s1": 0.01, "s2": 0.03}
        # Ingested in bulk: each session is its own trace and root span.
        assert all(s["trace_id"] == s["root_span_id"] == s["session_id"] for s in out["sessions"])
        assert out["unpinned_at"] is None
