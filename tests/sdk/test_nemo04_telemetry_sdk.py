"""SDK 0.4.0, 0.5.1 and 0.6.0, unchanged, under /nemo-0.4: ingest (ATIF, OTLP JSON or protobuf bytes,
/ingest/spans, chat completions), traces with their metrics, spans, span groups, sessions, evaluator
results and annotations, from the same run of flows/nemo04.py as test_nemo04_sdk.py (its docstring
lists the sessions). Times: DAY0 holds ev-a's trajectories a1, a2, a3 at 10:00, 11:00 and 12:00;
DAY1 the OTLP trace (10:00), the /ingest/spans trace t-direct (11:00) and the chat completion (12:00)."""

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from nemo04_data import OTLP_CHILD, OTLP_ROOT, OTLP_TRACE, days_of, ok, pick


def instant(text: str | None) -> datetime | None:
    """A time as the SDK dumped it, compared as a UTC instant (NeMo answers them without an offset)."""
    if text is None:
        return None
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def at(day: Any, clock: str) -> datetime:
    return datetime.fromisoformat(f"{day.isoformat()}T{clock}+00:00")


def test_ingest(nemo04_flow: dict[str, Any]) -> None:
    out = nemo04_flow
    assert ok(out, "atif") is True and ok(out, "direct") is True
    assert ok(out, "otlp") == {"errors": []}  # 0.6.0: protobuf bytes; 0.4.0 and 0.5.1: OTLP JSON
    assert ok(out, "chat")["session_id"] == "chat-c"
    if out["sdk"]["version"] == "0.6.0":  # bytes that are no ExportTraceServiceRequest
        assert ok(out, "otlp_corrupt")["status"] == 400


def test_evaluator_results(nemo04_flow: dict[str, Any]) -> None:
    out = nemo04_flow
    assert ok(out, "scored") == [1.0, 0.0, 1.0]
    judged = ok(out, "judged")
    assert pick(judged, "name", "session_id", "span_id", "value") == ("correct", "s-otel", OTLP_ROOT, 0.5)
    assert pick(judged, "data_type", "workspace") == ("NUMERIC", out["sdk"]["workspace"])
    got = ok(out, "got_result")
    assert pick(got, "evaluator_result_id", "value", "span_id") == (judged["evaluator_result_id"], 0.5, OTLP_ROOT)
    assert sorted(map(tuple, ok(out, "listed_results"))) == [("a1", 1.0), ("a2", 0.0), ("a3", 1.0), ("s-otel", 0.5)]
    assert [r["evaluator_result_id"] for r in ok(out, "span_results")] == [judged["evaluator_result_id"]]


def test_trace_lists(nemo04_flow: dict[str, Any]) -> None:
    out = nemo04_flow
    listed = ok(out, "traces")  # by started_at over both days
    assert [t["id"] for t in listed][:5] == ["a1", "a2", "a3", OTLP_TRACE, "t-direct"] and len(listed) == 6
    assert listed[-1]["session_id"] == "chat-c"
    assert {(t["input"], t["output"]) for t in listed} == {(None, None)}  # summary mode
    assert ok(out, "traces_ev_a") == ["a1", "a2", "a3"]
    assert ok(out, "traces_case_b") == ["a3"] and ok(out, "traces_otter") == [OTLP_TRACE]


def test_trace_detail(nemo04_flow: dict[str, Any]) -> None:
    out = nemo04_flow
    otel = ok(out, "trace_otel")
    assert pick(otel, "session_id", "root_span_id", "status", "name") == ("s-otel", OTLP_ROOT, "success", "agent.run")
    assert pick(otel, "span_count", "error_count", "duration_ms") == (2, 0, 2000.0)
    assert pick(otel, "input_tokens", "output_tokens", "cost_usd") == (100, 10, 0.001)
    assert pick(otel, "input", "output") == ("in", "out")
    direct = ok(out, "trace_direct")  # /ingest/spans: the root failed, the LLM call did not
    assert pick(direct, "session_id", "root_span_id", "status", "error_count") == ("s-direct", "d-root", "error", 1)
    assert pick(direct, "span_count", "duration_ms", "cost_usd") == (2, 500.0, 0.002)
    assert pick(direct, "input_tokens", "output_tokens", "input", "output") == (7, 3, "hi", "oops")


@pytest.mark.xfail(
    strict=True, reason="not served yet: a trace's agent_name, agent_version, models and providers (SDK 0.4.0's Trace)"
)
def test_trace_fields_of_04(nemo04_flow: dict[str, Any]) -> None:
    """What SDK 0.4.0 added to a trace: its root's agent, the models and providers of its spans, and
    the evaluation context by the 0.4+ names."""
    otel, direct = ok(nemo04_flow, "trace_otel"), ok(nemo04_flow, "trace_direct")
    assert pick(otel, "agent_name", "agent_version", "models", "providers") == ("otter", "1.1", ["gpt-y"], ["openai"])
    assert pick(direct, "agent_name", "agent_version", "models") == ("spanner", None, ["gpt-z"])
    for trace, named in ((otel, ("ev-b", "A")), (direct, ("ev-c", "C"))):
        assert pick(trace["evaluation_context"], "evaluation_name", "test_case_name") == named


def test_trace_metrics(nemo04_flow: dict[str, Any]) -> None:
    out, (day0, day1) = nemo04_flow, days_of(nemo04_flow)
    metrics = ok(out, "metrics_day")
    assert pick(metrics, "bucket", "timezone") == ("day", "UTC")
    first, second = metrics["data"]
    assert [instant(first["bucket_start"]), instant(second["bucket_start"])] == [
        at(day0, "00:00:00"),
        at(day1, "00:00:00"),
    ]
    # DAY0: a1, a2, a3 (1, 3, 2 s; 10/5 tokens each; $0.2, $0.4, $1.0).
    assert pick(first, "run_count", "failed_run_count") == (3, 0)
    assert (first["input_tokens"]["sum"], first["input_tokens"]["mean"], first["output_tokens"]["sum"]) == (
        30,
        10.0,
        15,
    )
    assert (first["cost_usd"]["sum"], first["cost_usd"]["mean"]) == pytest.approx((1.6, 1.6 / 3))
    assert (first["latency_ms"]["mean"], first["latency_ms"]["p50"]) == (2000.0, 2000.0)
    # DAY1: the OTLP run, the failed direct one and the chat capture (100 + 7 + 12 in, 10 + 3 + 4 out).
    assert pick(second, "run_count", "failed_run_count") == (3, 1)
    assert (second["input_tokens"]["sum"], second["output_tokens"]["sum"]) == (119, 17)
    assert second["cost_usd"]["sum"] == pytest.approx(0.013)
    default = ok(out, "metrics_default")  # bucket day, UTC, the last 7 days: both days, nothing else
    assert pick(default, "bucket", "timezone", "data") == ("day", "UTC", metrics["data"])
    # Los Angeles' midnights (UTC-8 or -7): every run of a day is between 10:00 and 12:00 UTC, the same local day.
    local = ok(out, "metrics_la")
    assert pick(local, "bucket", "timezone") == ("day", "America/Los_Angeles")
    los_angeles = ZoneInfo("America/Los_Angeles")
    midnights = [datetime(d.year, d.month, d.day, tzinfo=los_angeles).astimezone(UTC) for d in (day0, day1)]
    assert [(instant(p["bucket_start"]), p["run_count"]) for p in local["data"]] == [(m, 3) for m in midnights]
    [only] = ok(out, "metrics_ev_b")["data"]  # bucket total over ev-b's one run: every quantile is its value
    assert out["metrics_ev_b"]["bucket"] == "total" and only.get("bucket_start") is None
    assert pick(only, "run_count", "failed_run_count") == (1, 0)
    assert only["latency_ms"] == {"mean": 2000.0, "p50": 2000.0, "p90": 2000.0, "p95": 2000.0, "p99": 2000.0}
    assert only["input_tokens"] == {"sum": 100, "mean": 100.0, "p90": 100.0, "p99": 100.0}
    assert only["cost_usd"] == pytest.approx({"sum": 0.001, "mean": 0.001, "p90": 0.001, "p99": 0.001})
    bad_zone = ok(out, "metrics_bad_zone")  # NeMo's message (the service may end it with a full stop)
    assert pick(bad_zone, "status", "error") == (400, "BadRequestError")
    assert bad_zone["detail"].startswith("Unknown timezone: Mars/Olympus_Mons")


def test_spans(nemo04_flow: dict[str, Any]) -> None:
    out, (_, day1) = nemo04_flow, days_of(nemo04_flow)
    assert ok(out, "spans_otel") == [[OTLP_ROOT, None, "UNKNOWN"], [OTLP_CHILD, OTLP_ROOT, "LLM"]]
    child = ok(out, "span_child")
    assert pick(child, "trace_id", "session_id", "source", "kind") == (OTLP_TRACE, "s-otel", "otel", "LLM")
    assert pick(child, "model", "input_tokens", "output_tokens") == ("gpt-y", 100, 10)
    assert child["cost_total_usd"] == 0.001
    assert (instant(child["started_at"]), instant(child["ended_at"])) == (
        at(day1, "10:00:00.1"),
        at(day1, "10:00:00.5"),
    )
    direct = ok(out, "span_direct")  # /ingest/spans keeps the source's name
    assert pick(direct, "source", "trace_id", "session_id", "parent_span_id") == (
        "langsmith",
        "t-direct",
        "s-direct",
        "d-root",
    )
    assert pick(direct, "kind", "status", "model", "cost_total_usd") == ("LLM", "success", "gpt-z", 0.002)
    assert pick(direct, "input_tokens", "output_tokens") == (7, 3)


@pytest.mark.xfail(
    strict=True, reason="not served yet: the spans filter evaluation_name (SDK 0.4+), a span's provider (gen_ai.system)"
)
def test_span_fields_of_04(nemo04_flow: dict[str, Any]) -> None:
    """The span filter by the 0.4+ name of the evaluation, and a span's provider (gen_ai.system)."""
    assert ok(nemo04_flow, "spans_ev_b") == [OTLP_ROOT]  # only the root carries nemo.evaluation.name
    assert ok(nemo04_flow, "span_child")["provider"] == "openai"


@pytest.mark.xfail(strict=True, reason="not served yet: a span group's started_at and the sort on it (SDK 0.4.0)")
def test_span_groups(nemo04_flow: dict[str, Any]) -> None:
    """SDK 0.4.0's span groups carry their earliest span's started_at (required) and sort by it."""
    out, (_, day1) = nemo04_flow, days_of(nemo04_flow)
    groups = [(g["group"], g["span_count"], instant(g["started_at"])) for g in ok(out, "groups")]
    assert groups == [  # DAY1 from 10:00 to 11:30, the latest first
        ({"trace_id": "t-direct"}, 2, at(day1, "11:00:00")),
        ({"trace_id": OTLP_TRACE}, 2, at(day1, "10:00:00")),
    ]


def test_session(nemo04_flow: dict[str, Any]) -> None:
    session = ok(nemo04_flow, "session")
    assert pick(session, "id", "trace_count", "span_count", "status") == ("s-otel", 1, 2, "success")
    assert pick(session, "duration_ms", "cost_usd", "input_tokens", "output_tokens") == (2000.0, 0.001, 100, 10)


def test_annotations(nemo04_flow: dict[str, Any]) -> None:
    out = nemo04_flow
    note = ok(out, "note")
    assert pick(note, "kind", "session_id", "text", "span_id") == ("note", "s-otel", "looks right", None)
    feedback = ok(out, "feedback")
    assert pick(feedback, "kind", "span_id", "value") == ("feedback", OTLP_CHILD, "positive")
    label = ok(out, "label")
    assert pick(label, "name", "value", "value_type", "session_id") == ("quality", 4.0, "numeric", "chat-c")
    got = ok(out, "got_note")
    assert pick(got, "annotation_id", "text", "kind") == (note["annotation_id"], "looks right", "note")
    assert ok(out, "on_session") == ["feedback", "note"]
    assert ok(out, "note_gone")["status"] == 404 and out["note_gone"]["error"] == "NotFoundError"
    assert ok(out, "notes_after") == ["label", "note"]
