"""SDK 0.4.0, 0.5.1 and 0.6.0, unchanged, under /nemo-0.4: containers (/experiments) and evaluations,
from one run of flows/nemo04.py per version (the nemo04_flow fixture); every value is worked out by
hand from what the flow ingests. ev-a: ATIF sessions a1 (test case A, 1 s, $0.2, correct 1), a2 (A,
3 s, $0.4, correct 0), a3 (B, 2 s, $1.0, correct 1), 10/5 tokens each, agent terminus 2.0, gpt-x;
ev-b: the OTLP session s-otel (A, 2 s, $0.001, 110 tokens, correct 0.5, agent otter 1.1, gpt-y);
ev-c: the /ingest/spans session s-direct (C, failed, $0.002, 10 tokens, agent spanner, gpt-z) and
the chat completion chat-c (D, $0.01, 16 tokens). ev-a and ev-b are in c-full, ev-c in both."""

import re
from collections.abc import Callable
from typing import Any

import pytest
from nemo04_data import flow_data, ok, pick

DEFAULT_PARETO = {"x_metric": "cost_usd", "y_metric": "latency_ms"}
SCORE_PARETO = {"x_metric": "cost_usd", "y_metric": "evaluators.correct"}
LAYOUT = {"order": ["name", "cost_usd"], "hidden": ["latency_ms"]}
DELETED = re.compile(r"(.+)-deleted-\d{8}T\d{6}\.\d{6}Z")


def stats(total: float, mean: float, median: float, top: float, count: int = 2) -> dict[str, float]:
    """Statistics over test cases (median and quantiles are elements of the set)."""
    return {"count": count, "sum": total, "mean": mean, "median": median, "p90": top, "p95": top, "p99": top}


def one(value: float) -> dict[str, float]:
    return stats(value, value, value, value, count=1)


def status(code: int, detail: str, error: str) -> dict[str, Any]:
    return {"status": code, "detail": detail, "error": error}


def facts(flow: dict[str, Any]) -> tuple[dict[str, Any], str, bool]:
    """The flow's answers, its workspace, and whether the SDK is 0.6.0 (the one with column_layout)."""
    return flow, flow["sdk"]["workspace"], flow["sdk"]["version"] == "0.6.0"


def test_container_create(nemo04_flow: dict[str, Any]) -> None:
    out, ws, v060 = facts(nemo04_flow)
    plain = ok(out, "c_plain")
    assert pick(plain, "name", "workspace", "evaluation_count") == ("c-plain", ws, 0)
    assert pick(plain, "default_sort", "pareto") == ("-created_at", DEFAULT_PARETO)
    assert pick(plain, "is_favorite", "show_evaluations_over_time") == (False, False)
    nothing = ("description", "insight_id", "summary", "metadata", "baseline_evaluation_name", "column_layout")
    assert [plain.get(field) for field in nothing] == [None] * len(nothing)

    full = ok(out, "c_full")
    assert pick(full, "description", "insight_id", "summary") == ("first", "ins-1", "B wins")
    assert pick(full, "is_favorite", "show_evaluations_over_time") == (True, True)
    assert pick(full, "default_sort", "pareto") == ("-evaluators.correct.mean,cost_usd.mean", SCORE_PARETO)
    assert full["metadata"] == {"team": "search"} and full["baseline_evaluation_name"] is None
    if v060:  # 0.4.0 and 0.5.1 know no column_layout
        assert full["column_layout"] == LAYOUT
    assert ok(out, "c_again_id") == full["id"]
    assert ok(out, "c_taken") == status(409, f"Experiment '{ws}/c-full' already exists.", "ConflictError")


def test_container_update_and_baseline(nemo04_flow: dict[str, Any]) -> None:
    out, ws, v060 = facts(nemo04_flow)
    full = ok(out, "c_full")
    # A PUT keeps what it omits (the 0.6.0 rule, for every SDK): only the baseline and summary change.
    updated = ok(out, "c_updated")
    assert pick(updated, "baseline_evaluation_name", "summary") == ("ev-a", "still B")
    kept = ("id", "description", "insight_id", "metadata", "is_favorite", "show_evaluations_over_time", "pareto")
    assert {k: updated[k] for k in (*kept, "default_sort")} == {k: full[k] for k in (*kept, "default_sort")}
    if v060:
        assert updated["column_layout"] == LAYOUT
    assert updated["evaluation_count"] == 3
    assert ok(out, "c_fetched") == updated
    assert ok(out, "c_not_member") == status(
        400,
        "Evaluation 'ev-a' must be a live member of the Experiment before it can be selected as its baseline.",
        "BadRequestError",
    )
    assert ok(out, "c_no_such") == status(
        400, "baseline_evaluation_name 'nope' does not reference an existing Evaluation.", "BadRequestError"
    )
    assert ok(out, "c_rename") == status(409, "Cannot rename an experiment; the name is its identity.", "ConflictError")
    baseline = (
        "Evaluation 'ev-a' is the baseline for Experiment 'c-full'. Clear that Experiment's "
        "baseline_evaluation_name before removing the membership or deleting the Evaluation."
    )
    assert ok(out, "baseline_delete") == status(409, baseline, "ConflictError")
    assert ok(out, "baseline_move") == status(409, baseline, "ConflictError")
    assert ok(out, "c_cleared")["baseline_evaluation_name"] is None


def test_container_lists_alias_and_delete(nemo04_flow: dict[str, Any]) -> None:
    out, _, _ = facts(nemo04_flow)
    for step in ("favorites", "over_time", "by_baseline", "by_insight", "by_team"):
        assert ok(out, step) == ["c-full"], step
    assert ok(out, "not_favorites") == ["c-plain"]  # unset counts as false
    assert ok(out, "by_name") == ["c-plain"]
    assert ok(out, "c_sorted") == ["c-plain", "c-full"]
    assert ok(out, "alias_get") == ok(out, "c_updated")  # /experiment-groups: the same container
    assert ok(out, "alias_list") == ["c-full", "c-plain"]
    assert ok(out, "c_plain_gone")["status"] == 404 and out["c_plain_gone"]["error"] == "NotFoundError"
    [deleted] = ok(out, "c_deleted")
    assert DELETED.fullmatch(deleted).group(1) == "c-plain"  # type: ignore[union-attr]
    assert ok(out, "c_live")["evaluation_count"] == 2  # ev-a and ev-c; ev-b deleted


def test_evaluation_crud(nemo04_flow: dict[str, Any]) -> None:
    out, ws, _ = facts(nemo04_flow)
    full_id, plain_id = ok(out, "c_full")["id"], ok(out, "c_plain")["id"]
    created = ok(out, "ev_created")
    assert pick(created, "name", "workspace", "description") == ("ev-a", ws, "first")
    assert created["experiment_ids"] == [full_id] and created["experiment_group_id"] == full_id
    assert pick(created, "run_count", "test_case_count", "aggregate_scores") == (0, 0, {})
    assert ok(out, "ev_again_id") == created["id"]
    assert ok(out, "ev_taken") == status(409, f"Evaluation '{ws}/ev-a' already exists.", "ConflictError")
    assert ok(out, "ev_c_created")["experiment_ids"] == [full_id, plain_id]

    updated = ok(out, "ev_updated")  # PUT replaces: metadata omitted is cleared
    assert pick(updated, "description", "metadata", "run_count") == ("second", {}, 3)
    patched = ok(out, "ev_patched")  # PATCH changes only what it names
    assert pick(patched, "description", "root_cause", "metadata") == ("second", "flaky judge", {"k": "w"})
    assert ok(out, "ev_pinned")["pinned_at"] is not None and ok(out, "ev_unpinned")["pinned_at"] is None
    assert ok(out, "ev_b_gone")["status"] == 404 and out["ev_b_gone"]["error"] == "NotFoundError"
    assert ok(out, "ev_live") == ["ev-a", "ev-c"]  # ev-c is in c-full too: deleting c-plain keeps it


def test_evaluation_rollups(nemo04_flow: dict[str, Any]) -> None:
    out, _, _ = facts(nemo04_flow)
    # Per test case first: correct A (1 + 0) / 2, B 1; cost A 0.3, B 1.0; latency A 2 s, B 2 s.
    ev_a = ok(out, "ev_a")
    assert pick(ev_a, "run_count", "test_case_count", "evaluator_names") == (3, 2, ["correct"])
    assert ev_a["aggregate_scores"]["correct"] == pytest.approx(stats(1.5, 0.75, 1.0, 1.0))
    assert ev_a["cost_usd"] == pytest.approx(stats(1.3, 0.65, 1.0, 1.0))
    assert ev_a["latency_ms"] == pytest.approx(stats(4000, 2000, 2000, 2000))
    assert ev_a["tokens"] == pytest.approx(stats(30, 15, 15, 15))
    assert pick(ev_a, "agent_names", "agent_versions", "model_names") == (["terminus"], ["2.0"], ["gpt-x"])
    ev_b = ok(out, "ev_b")  # tagged by nemo.evaluation.name / nemo.test_case.name on the OTLP root
    assert pick(ev_b, "run_count", "test_case_count") == (1, 1)
    assert ev_b["aggregate_scores"]["correct"] == pytest.approx(one(0.5))
    for metric, value in (("cost_usd", 0.001), ("latency_ms", 2000), ("tokens", 110)):
        assert ev_b[metric] == pytest.approx(one(value)), metric
    assert pick(ev_b, "agent_names", "agent_versions", "model_names") == (["otter"], ["1.1"], ["gpt-y"])
    ev_c = ok(out, "ev_c")  # /ingest/spans (C) and a chat completion (D)
    assert pick(ev_c, "run_count", "test_case_count", "agent_names") == (2, 2, ["spanner"])
    assert (ev_c["cost_usd"]["sum"], ev_c["tokens"]["sum"]) == pytest.approx((0.012, 26))
    assert ev_c["model_names"] == ["gpt-z", "m-1"]  # the capture's response model


def test_evaluation_lists(nemo04_flow: dict[str, Any]) -> None:
    out, _, _ = facts(nemo04_flow)
    assert ok(out, "pinned_first") == ["ev-c", "ev-b", "ev-a"]  # no sort: the pinned first, then newest
    assert ok(out, "by_rollups") == ["ev-a", "ev-b", "ev-c"]  # correct.mean 0.75, 0.5, none

    assert ok(out, "in_plain") == ["ev-c"] and ok(out, "in_full") == ["ev-a", "ev-b", "ev-c"]
    assert ok(out, "by_agent") == ["ev-b"] and ok(out, "by_agent_version") == ["ev-a"]
    assert ok(out, "by_model") == ["ev-c"] and ok(out, "by_metadata") == ["ev-a"]
    assert ok(out, "by_score") == ["ev-a"] and ok(out, "by_tokens") == ["ev-b"]  # tokens.sum 30, 110, 26


def test_evaluation_sessions(nemo04_flow: dict[str, Any]) -> None:
    out, _, _ = facts(nemo04_flow)
    # Sorted by test case, then the slowest first; summary leaves out input and output.
    expected = [("a2", "A", 3000.0, 0.4, 0.0), ("a1", "A", 1000.0, 0.2, 1.0), ("a3", "B", 2000.0, 1.0, 1.0)]
    for mode, rows in ok(out, "modes").items():
        got = [(r["session_id"], r["test_case_name"], r["latency_ms"]) for r in rows]
        assert got == [row[:3] for row in expected], mode
        assert [r["test_case_id"] for r in rows] == ["A", "A", "B"]  # the deprecated alias
        assert [r["cost_total_usd"] for r in rows] == pytest.approx([row[3] for row in expected])
        assert [r["evaluator_scores"] for r in rows] == [{"correct": row[4]} for row in expected]
        assert {(r["evaluation_name"], r["input_tokens"], r["output_tokens"]) for r in rows} == {("ev-a", 10, 5)}
        texts = [(r["input"], r["output"]) for r in rows]
        assert texts == (
            [(None, None)] * 3 if mode == "summary" else [(f"question {s}", f"answer {s}") for s, *_ in expected]
        )
    assert ok(out, "only_b") == ["a3"] and ok(out, "only_b_alias") == ["a3"]
    direct, chat = ok(out, "ev_c_sessions")  # the failed /ingest/spans run, then the chat capture
    assert pick(direct, "session_id", "test_case_name", "status") == ("s-direct", "C", "error")
    assert pick(chat, "session_id", "test_case_name") == ("chat-c", "D")


def same_rollups(seeds_run: dict[str, Any], evaluation: dict[str, Any]) -> dict[str, float]:
    """The statistics both readings share, as "metric.stat", asserted equal: one session per test case
    makes the seeds' per-session rollups and the evaluations' per-test-case ones the same numbers."""

    def flat(run: dict[str, Any]) -> dict[str, float]:
        metrics = {"cost_usd": run["cost_usd"], "latency_ms": run["latency_ms"], **run["aggregate_scores"]}
        return {f"{name}.{k}": values[k] for name, values in metrics.items() for k in ("count", "sum", "mean")}

    assert flat(seeds_run) == pytest.approx(flat(evaluation))
    return flat(evaluation)


def test_cross_generation(flow_runner: Callable[..., Any], sdk_workspace: str) -> None:
    """A group and run made by SDK 0.2.0 at the root are a container and an evaluation to SDK 0.6.0
    under /nemo-0.4, with the same rollups; and what 0.6.0 makes there is a group and a run to 0.2.0.
    The sessions: x1 (test case T1, 1 s, $0.1, correct 1), x2 (T2, 3 s, $0.3, correct 0), y1 (U1, 2 s,
    $0.5, correct 1)."""
    day0 = flow_data()["day0"]
    root = flow_runner("0.2.0", "cross_020", sdk_workspace, phase="write", day0=day0)
    new = flow_runner("0.6.0", "cross_060", sdk_workspace, day0=day0)
    back = flow_runner("0.2.0", "cross_020", sdk_workspace, phase="read", day0=day0)

    group, run = root["group"], root["run"]
    container = new["container"]
    assert pick(container, "id", "name", "description") == (group["id"], "g-cross", "from 0.2.0")
    assert pick(container, "evaluation_count", "default_sort", "pareto") == (
        1,
        "-created_at",
        DEFAULT_PARETO,
    )
    assert new["members"] == ["run-cross"]
    evaluation = new["evaluation"]
    assert pick(evaluation, "id", "experiment_ids", "experiment_group_id") == (
        run["id"],
        [group["id"]],
        group["id"],
    )
    assert pick(evaluation, "run_count", "test_case_count") == (2, 2) and run["run_count"] == 2
    assert same_rollups(run, evaluation) == pytest.approx(
        {
            **{"cost_usd.count": 2, "cost_usd.sum": 0.4, "cost_usd.mean": 0.2},
            **{"latency_ms.count": 2, "latency_ms.sum": 4000, "latency_ms.mean": 2000},
            **{"correct.count": 2, "correct.sum": 1.0, "correct.mean": 0.5},
        }
    )
    assert evaluation["tokens"] == pytest.approx(stats(30, 15, 15, 15))
    sessions = [(s["session_id"], s["test_case_name"], s["evaluation_name"]) for s in new["sessions"]]
    assert sessions == [("x1", "T1", "run-cross"), ("x2", "T2", "run-cross")]

    mine, made = new["mine"], new["made"]
    assert pick(made, "experiment_ids", "run_count", "test_case_count") == ([mine["id"]], 1, 1)
    assert (back["group"]["id"], back["group"]["name"], back["group"]["experiment_count"]) == (mine["id"], "c-cross", 1)
    assert back["run"]["experiment_group_id"] == mine["id"] and back["in_group"] == ["ev-cross"]
    assert same_rollups(back["run"], made) == pytest.approx(
        {
            **{"cost_usd.count": 1, "cost_usd.sum": 0.5, "cost_usd.mean": 0.5},
            **{"latency_ms.count": 1, "latency_ms.sum": 2000, "latency_ms.mean": 2000},
            **{"correct.count": 1, "correct.sum": 1.0, "correct.mean": 1.0},
        }
    )
