"""SDK 0.3.0, unchanged, on /evaluations and their sessions; every value below is worked out by hand
from the sessions the flow ingests (see flows/evaluations_030.py)."""

from collections.abc import Callable
from typing import Any

import pytest


def stats(total: float, mean: float, median: float, top: float) -> dict[str, float]:
    """Statistics over two test cases (median and quantiles are elements of the set)."""
    return {"count": 2, "sum": total, "mean": mean, "median": median, "p90": top, "p95": top, "p99": top}


def test_sdk_030_evaluations(run_flow: Callable[..., Any], sdk_workspace: str) -> None:
    out = run_flow("0.3.0", "evaluations_030")
    created = out["created"]
    assert created["name"] == "ev-a" and created["workspace"] == sdk_workspace
    assert created["experiment_ids"] == [out["group_id"]] and created["experiment_group_id"] == out["group_id"]
    assert (created["run_count"], created["test_case_count"], created["aggregate_scores"]) == (0, 0, {})
    assert out["again_id"] == created["id"]  # exist_ok answered with the existing evaluation
    assert out["taken"] == {
        "status": 409,
        "detail": f"Evaluation '{sdk_workspace}/ev-a' already exists.",
        "error": "ConflictError",
    }

    # ev-a: test case A has two sessions (correct 1 and 0, cost 0.2 and 0.4, 1 s and 3 s), B one
    # (correct 1, cost 1.0, 2 s). Per test case first: correct A 0.5, B 1; cost A 0.3, B 1.0.
    fetched = out["fetched"]
    assert (fetched["run_count"], fetched["test_case_count"]) == (3, 2)
    assert fetched["evaluator_names"] == ["correct"]
    assert fetched["aggregate_scores"]["correct"] == pytest.approx(stats(1.5, 0.75, 1.0, 1.0))
    assert fetched["cost_usd"] == pytest.approx(stats(1.3, 0.65, 1.0, 1.0))
    assert fetched["latency_ms"] == pytest.approx(stats(4000, 2000, 2000, 2000))
    assert fetched["tokens"] == pytest.approx(stats(30, 15, 15, 15))
    assert (fetched["agent_names"], fetched["model_names"]) == (["terminus"], ["gpt-x"])

    updated = out["updated"]  # PUT replaces: metadata omitted is cleared
    assert (updated["description"], updated["metadata"], updated["run_count"]) == ("second", {}, 3)
    patched = out["patched"]  # PATCH changes only what it names
    assert (patched["description"], patched["root_cause"], patched["metadata"]) == ("second", "flaky judge", {"k": "w"})
    assert out["pinned"]["name"] == "ev-c" and out["pinned"]["pinned_at"] is not None
    assert out["unpinned"]["pinned_at"] is None

    # correct.mean: ev-a 0.75, ev-b (1 + 0.5) / 2 = 0.75, ev-c none; the tie goes to cost_usd.mean
    # ascending: ev-b (0.1 + 0.3) / 2 = 0.2 before ev-a 0.65. Unsorted: the pinned one first.
    assert out["by_rollups"] == ["ev-b", "ev-a", "ev-c"]
    assert out["pinned_first"] == ["ev-c", "ev-b", "ev-a"]
    assert out["by_score"] == ["ev-a", "ev-b"]
    assert out["by_cost"] == ["ev-b"]

    # Sorted by test case, then the slowest first; summary leaves out input and output.
    expected = [("a2", "A", 3000.0, 0.4, 0.0), ("a1", "A", 1000.0, 0.2, 1.0), ("a3", "B", 2000.0, 1.0, 1.0)]
    for mode, rows in out["modes"].items():
        got = [(r["session_id"], r["test_case_id"], r["latency_ms"]) for r in rows]
        assert got == [row[:3] for row in expected], mode
        assert [r["cost_total_usd"] for r in rows] == pytest.approx([row[3] for row in expected])
        assert [r["evaluator_scores"] for r in rows] == [{"correct": row[4]} for row in expected]
        assert {(r["evaluation_name"], r["input_tokens"], r["output_tokens"]) for r in rows} == {("ev-a", 10, 5)}
        # ATIF trajectories: the session is the trace (as in NeMo), its root the trajectory's span.
        assert {(r["trace_id"], r["root_span_id"]) for r in rows} == {(r["session_id"], "trajectory") for r in rows}
        texts = [(r["input"], r["output"]) for r in rows]
        if mode == "summary":
            assert texts == [(None, None)] * 3
        else:
            assert texts == [(f"question {s}", f"answer {s}") for s, *_ in expected]
    assert out["only_b"] == ["a3"]

    assert out["gone"]["status"] == 404 and out["gone"]["error"] == "NotFoundError"
    assert out["live"] == ["ev-a", "ev-c"]
