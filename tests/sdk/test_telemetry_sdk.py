"""SDK 0.2.0 and 0.3.0, unchanged, on ingest (OTLP JSON, chat completions), traces, spans, span groups,
evaluator results, sessions (0.3.0) and annotations, and ATIF; values worked out by hand from
flows/telemetry.py: trace aaa…, session sess-o: root 111… (0 → 2 s, OK, tagged ev-t / tc-1) and LLM
child 222… (0.1 → 0.5 s, gpt-a, 100/10 tokens, $0.001); session chat-1: one capture (12/4 tokens,
$0.01); ATIF session traj-1 (ev-t / tc-2), read after the other traces and spans."""

import re
from collections.abc import Callable
from typing import Any

import pytest

TRACE, ROOT, CHILD = "a" * 32, "1" * 16, "2" * 16


@pytest.mark.parametrize("version", ["0.2.0", "0.3.0"])
def test_sdk_telemetry(run_flow: Callable[..., Any], sdk_workspace: str, version: str) -> None:
    out = run_flow(version, "telemetry")
    assert out["otlp"] == {"errors": []}
    assert out["chat"]["session_id"] == "chat-1"

    judged = out["judged"]
    assert (judged["name"], judged["session_id"], judged["span_id"], judged["value"]) == ("judge", "sess-o", CHILD, 0.8)
    assert out["got_result"] == judged
    assert out["listed_results"] == [["judge", CHILD, 0.8], ["passed", ROOT, 1.0]]
    assert out["span_results"] == [judged]

    chat, otel = out["traces"]  # by started_at: the capture's 2026-01-01 before the OTLP 2026-02-01
    assert re.fullmatch("[0-9a-f]{32}", chat["id"]) and chat["session_id"] == "chat-1"  # a generated trace id
    assert (chat["root_span_id"], chat["input"], chat["output"]) == ("session", "Capital of France?", "Paris.")
    assert (chat["input_tokens"], chat["output_tokens"], chat["total_tokens"]) == (12, 4, 16)
    assert chat["cost_usd"] == pytest.approx(0.01)
    assert otel == out["trace"]
    assert (otel["id"], otel["session_id"], otel["root_span_id"], otel["status"]) == (TRACE, "sess-o", ROOT, "success")
    assert (otel["span_count"], otel["error_count"], otel["duration_ms"]) == (2, 0, 2000.0)
    assert (otel["input_tokens"], otel["output_tokens"], otel["total_tokens"]) == (100, 10, 110)
    assert otel["evaluation_context"] == {
        "evaluation_id": "ev-t", "test_case_id": "tc-1", "evaluation_name": "ev-t", "test_case_name": "tc-1"
    }
    assert otel["experiment_context"] == {"experiment_id": "ev-t", "test_case_id": "tc-1"}  # 0.2.0's name
    assert (otel["input"], otel["output"], otel["workspace"]) == ("in", "out", sdk_workspace)

    assert out["spans"] == [[ROOT, None, "UNKNOWN"], [CHILD, ROOT, "LLM"]]
    child = out["child"]
    assert (child["trace_id"], child["model"], child["kind"], child["source"]) == (TRACE, "gpt-a", "LLM", "otel")
    assert (child["started_at"], child["ended_at"]) == ("2026-02-01T00:00:00.100000Z", "2026-02-01T00:00:00.500000Z")
    assert (child["input_tokens"], child["output_tokens"], child["cost_total_usd"]) == (100, 10, 0.001)
    assert out["groups"] == [
        {"group": {"session_id": "chat-1"}, "span_count": 2},
        {"group": {"session_id": "sess-o"}, "span_count": 2},
    ]

    [trajectory] = out["trajectory"]  # ATIF: session traj-1, test case tc-2, 1.5 s, 20/2 tokens, $0.004
    assert (trajectory["id"], trajectory["root_span_id"], trajectory["duration_ms"]) == ("traj-1", "trajectory", 1500.0)
    assert (trajectory["input"], trajectory["output"], trajectory["total_tokens"]) == ("2+2?", "4", 22)
    assert trajectory["evaluation_context"] == {
        "evaluation_id": "ev-t", "test_case_id": "tc-2", "evaluation_name": "ev-t", "test_case_name": "tc-2"
    }
    assert trajectory["cost_usd"] == pytest.approx(0.004)

    # ev-t has two sessions: sess-o (tc-1: judge 0.8, passed 1, 2 s, $0.001, 110 tokens) and traj-1
    # (tc-2: verifier.reward 0.5, 1.5 s, $0.004, 22 tokens).
    run = out["run"]
    assert (run["name"], run["run_count"]) == ("ev-t", 2)
    assert run["evaluator_names"] == ["judge", "passed", "verifier.reward"]
    assert run["model_names"] == ["gpt-a", "gpt-x"] and run["agent_names"] == ["terminus"]
    assert (run["cost_usd"]["mean"], run["cost_usd"]["sum"]) == pytest.approx((0.0025, 0.005))
    assert (run["latency_ms"]["mean"], run["latency_ms"]["count"]) == (1750.0, 2)
    scores = {name: (v["count"], v["sum"], v["mean"]) for name, v in run["aggregate_scores"].items()}
    if version == "0.3.0":
        # Per test case, an unscored one counting 0: judge (0.8 + 0) / 2, passed (1 + 0) / 2,
        # reward (0 + 0.5) / 2; tokens (110 + 22) / 2.
        assert scores == {"judge": (2, 0.8, 0.4), "passed": (2, 1.0, 0.5), "verifier.reward": (2, 0.5, 0.25)}
        assert run["test_case_count"] == 2 and (run["tokens"]["mean"], run["tokens"]["sum"]) == (66.0, 132.0)
        session = out["session"]
        assert (session["id"], session["trace_count"], session["span_count"]) == ("sess-o", 1, 2)
        assert (session["status"], session["duration_ms"], session["total_tokens"]) == ("success", 2000.0, 110)
        assert session["cost_usd"] == 0.001
    else:
        # The seeds' rollups: over the sessions that carry each score.
        assert scores == {"judge": (1, 0.8, 0.8), "passed": (1, 1.0, 1.0), "verifier.reward": (1, 0.5, 0.5)}
        assert out["session"] is None  # 0.2.0 has no sessions resource

    note = out["note"]
    assert (note["kind"], note["session_id"], note["text"], note["span_id"]) == ("note", "sess-o", "looks right", None)
    assert out["got_note"] == note
    label = out["label"]
    assert (label["name"], label["value"], label["value_type"], label["session_id"]) == (
        "quality",
        4.0,
        "numeric",
        "chat-1",
    )
    assert out["on_session"] == ["feedback", "note"]
    assert out["gone"]["status"] == 404 and out["gone"]["error"] == "NotFoundError"
    assert out["after"] == ["label", "note"]
