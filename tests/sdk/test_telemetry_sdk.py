"""SDK 0.2.0 and 0.3.0, unchanged, on ingest (OTLP JSON, chat completions), traces, spans, span groups,
evaluator results, sessions (0.3.0) and annotations; values worked out by hand from flows/telemetry.py:
trace aaa…, session sess-o: root 111… (0 → 2 s, OK, tagged ev-t / tc-1) and LLM child 222…
(0.1 → 0.5 s, gpt-a, 100/10 tokens, $0.001); session chat-1: one capture (12/4 tokens, $0.01)."""

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
    assert (chat["id"], chat["root_span_id"], chat["input"], chat["output"]) == (
        "chat-1",
        "session",
        "Capital of France?",
        "Paris.",
    )
    assert (chat["input_tokens"], chat["output_tokens"], chat["total_tokens"]) == (12, 4, 16)
    assert chat["cost_usd"] == pytest.approx(0.01)
    assert otel == out["trace"]
    assert (otel["id"], otel["session_id"], otel["root_span_id"], otel["status"]) == (TRACE, "sess-o", ROOT, "success")
    assert (otel["span_count"], otel["error_count"], otel["duration_ms"]) == (2, 0, 2000.0)
    assert (otel["input_tokens"], otel["output_tokens"], otel["total_tokens"]) == (100, 10, 110)
    assert otel["evaluation_context"] == {"evaluation_id": "ev-t", "test_case_id": "tc-1"}
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

    # The tagged root makes sess-o ev-t's one session (of one test case).
    run = out["run"]
    assert (run["name"], run["run_count"], run["evaluator_names"]) == ("ev-t", 1, ["judge", "passed"])
    assert run["aggregate_scores"]["judge"]["mean"] == 0.8 and run["aggregate_scores"]["passed"]["mean"] == 1.0
    assert run["latency_ms"]["mean"] == 2000.0 and run["cost_usd"]["sum"] == 0.001
    assert run["model_names"] == ["gpt-a"]
    if version == "0.3.0":
        assert run["test_case_count"] == 1 and run["tokens"]["sum"] == 110.0
        session = out["session"]
        assert (session["id"], session["trace_count"], session["span_count"]) == ("sess-o", 1, 2)
        assert (session["status"], session["duration_ms"], session["total_tokens"]) == ("success", 2000.0, 110)
        assert session["cost_usd"] == 0.001
    else:
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
