"""SDK 0.4.0, 0.5.1 and 0.6.0 under /nemo-0.4, over every resource they expose: containers
(/experiments) with the 0.4+ fields, evaluations (CRUD, PATCH, pin, the 0.4+ filters, sessions),
ingest through ATIF, OTLP (0.6.0: protobuf bytes), /ingest/spans and chat completions, all tagged
with the 0.4+ names (evaluation_name, test_case_name), then traces (list, get, metrics), spans
(list, get, groups, evaluator results), sessions, evaluator results and annotations. Each step is
recorded on its own (see Steps); the data is described in nemo04_data.py and the test."""

from datetime import datetime
from typing import Any

from _flow import Steps, client, config, emit, plain, status_of
from nemo_platform.types.experiments import ExperimentResponse, ExperimentResponsesPage

cfg = config()
nemo = client(cfg)
ws, D0, D1 = cfg["workspace"], cfg["day0"], cfg["day1"]
V060 = cfg["sdk_version"] == "0.6.0"
OTLP_ROOT, OTLP_CHILD = "3" * 16, "4" * 16
exps, evals, intake = nemo.experiments, nemo.evaluations, nemo.intake
step = Steps()


def names(page: Any) -> list[str]:
    return [row.name for row in page]


# --- containers: create with every field, exist_ok, the 409 ---
layout = {"column_layout": {"order": ["name", "cost_usd"], "hidden": ["latency_ms"]}} if V060 else {}
c_plain = step("c_plain", lambda: plain(exps.create(name="c-plain")))
c_full = step(
    "c_full",
    lambda: plain(
        exps.create(
            name="c-full",
            description="first",
            is_favorite=True,
            show_evaluations_over_time=True,
            default_sort="-evaluators.correct.mean,cost_usd.mean",
            insight_id="ins-1",
            summary="B wins",
            pareto={"x_metric": "cost_usd", "y_metric": "evaluators.correct"},
            metadata={"team": "search"},
            **layout,
        )  # fmt: skip
    ),
)
FULL, PLAIN = (c_full or {}).get("id"), (c_plain or {}).get("id")
step("c_again_id", lambda: exps.create(name="c-full", description="ignored", exist_ok=True).id)
step("c_taken", lambda: status_of(lambda: exps.create(name="c-full")))

# --- evaluations: ev-a and ev-b in c-full, ev-c in both containers ---
step(
    "ev_created",
    lambda: plain(
        evals.create(name="ev-a", dataset_name="ds", experiment_ids=[FULL], description="first", metadata={"k": "v"})
    ),
)
step("ev_again_id", lambda: evals.create(name="ev-a", dataset_name="other", experiment_ids=[FULL], exist_ok=True).id)
step("ev_taken", lambda: status_of(lambda: evals.create(name="ev-a", dataset_name="ds", experiment_ids=[FULL])))
step("ev_b_created", lambda: evals.create(name="ev-b", dataset_name="ds", experiment_ids=[FULL]).name)
step("ev_c_created", lambda: plain(evals.create(name="ev-c", dataset_name="ds", experiment_ids=[FULL, PLAIN])))


# --- ingest, every channel tagged with the 0.4+ keys ---
def trajectory(session_id: str, test_case: str, hour: int, seconds: int, cost: float) -> None:
    """A session of ev-a on DAY0: a question at `hour`:00:00 and its answer `seconds` later."""
    intake.ingest.atif.create(
        schema_version="ATIF-v1.5",
        session_id=session_id,
        agent={"name": "terminus", "version": "2.0", "model_name": "gpt-x"},
        steps=[
            {"step_id": 1, "source": "user", "message": f"question {session_id}", "timestamp": f"{D0}T{hour}:00:00Z"},
            {
                "step_id": 2,
                "source": "agent",
                "message": f"answer {session_id}",
                "timestamp": f"{D0}T{hour}:00:{seconds:02d}Z",
                "metrics": {"prompt_tokens": 10, "completion_tokens": 5, "cost_usd": cost},
            },
        ],  # fmt: skip
        evaluation_context={"evaluation_name": "ev-a", "test_case_name": test_case},
    )


def atif() -> bool:
    for args in [("a1", "A", 10, 1, 0.2), ("a2", "A", 11, 3, 0.4), ("a3", "B", 12, 2, 1.0)]:
        trajectory(*args)
    return True


def otlp() -> Any:
    traces = intake.ingest.otlp.v1.traces
    if V060:  # 0.6.0 sends a serialized ExportTraceServiceRequest as application/x-protobuf
        return plain(traces.create(bytes.fromhex(cfg["otlp_protobuf_hex"])))
    return plain(traces.create(extra_body=cfg["otlp_json"]))


def direct_spans() -> bool:
    """ev-c, test case C: a failed agent run 11:00:00 → 11:00:00.5 on DAY1 with one LLM call (gpt-z,
    7/3 tokens, $0.002), from a trace store named langsmith."""
    intake.ingest.spans.create(
        source="langsmith",
        spans=[
            {
                "span_id": "d-root",
                "trace_id": "t-direct",
                "session_id": "s-direct",
                "name": "agent",
                "kind": "AGENT",
                "status": "error",
                "started_at": f"{D1}T11:00:00Z",
                "ended_at": f"{D1}T11:00:00.500Z",
                "input": "hi",
                "output": "oops",
                "attributes": {
                    "nemo.evaluation.name": "ev-c",
                    "nemo.test_case.name": "C",
                    "gen_ai.agent.name": "spanner",
                },
            },
            {
                "span_id": "d-llm",
                "trace_id": "t-direct",
                "session_id": "s-direct",
                "parent_span_id": "d-root",
                "name": "llm",
                "kind": "LLM",
                "status": "success",
                "started_at": f"{D1}T11:00:00.100Z",
                "ended_at": f"{D1}T11:00:00.300Z",
                "attributes": {
                    "gen_ai.request.model": "gpt-z",
                    "gen_ai.usage.input_tokens": 7,
                    "gen_ai.usage.output_tokens": 3,
                    "gen_ai.usage.cost": 0.002,
                    "team": "x",
                },
            },
        ],  # fmt: skip
    )
    return True


def chat() -> Any:
    """ev-c, test case D: one captured completion at 12:00 on DAY1 (12/4 tokens, $0.01)."""
    created = int(datetime.fromisoformat(f"{D1}T12:00:00+00:00").timestamp())
    return plain(
        intake.ingest.chat_completions.create(
            session_id="chat-c",
            cost_usd=0.01,
            evaluation_context={"evaluation_name": "ev-c", "test_case_name": "D"},
            request={"model": "m", "messages": [{"role": "user", "content": "Capital of France?"}]},
            response={
                "id": "c",
                "object": "chat.completion",
                "created": created,
                "model": "m-1",
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": "Paris."}, "finish_reason": "stop"}
                ],
                "usage": {"prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16},
            },  # fmt: skip
        )
    )


step("atif", atif)
step("otlp", otlp)
if V060:
    step("otlp_corrupt", lambda: status_of(lambda: intake.ingest.otlp.v1.traces.create(b"\x0a\xff")))
step("direct", direct_spans)
step("chat", chat)

# --- evaluator results: ev-a's trajectories scored 1, 0, 1; ev-b's root 0.5 ---
results = intake.evaluator_results


def score(session_id: str, span_id: str, value: float) -> Any:
    return results.create(session_id=session_id, span_id=span_id, name="correct", data_type="NUMERIC", value=value)


step("scored", lambda: [score(s, "trajectory", v).value for s, v in [("a1", 1.0), ("a2", 0.0), ("a3", 1.0)]])
judged = step("judged", lambda: plain(score("s-otel", OTLP_ROOT, 0.5)))
step("got_result", lambda: plain(results.retrieve(judged["evaluator_result_id"])))
step(
    "listed_results", lambda: [(r.session_id, r.value) for r in results.list(filter={"name": "correct"}, sort="value")]
)
step("span_results", lambda: [plain(r) for r in intake.spans.evaluator_results.list(OTLP_ROOT)])

# --- evaluations read back: rollups, PUT, PATCH, pin, the 0.4+ filters, sessions ---
step("ev_a", lambda: plain(evals.retrieve("ev-a")))
step("ev_b", lambda: plain(evals.retrieve("ev-b")))
step("ev_c", lambda: plain(evals.retrieve("ev-c")))
step(
    "ev_updated",
    lambda: plain(
        evals.update("ev-a", body_name="ev-a", dataset_name="ds", experiment_ids=[FULL], description="second")
    ),
)
step("ev_patched", lambda: plain(evals.patch("ev-a", root_cause="flaky judge", metadata={"k": "w"})))
step("ev_pinned", lambda: plain(evals.pin("ev-c")))
step("pinned_first", lambda: names(evals.list()))
step("by_rollups", lambda: names(evals.list(sort="-evaluators.correct.mean,cost_usd.mean")))
step("ev_unpinned", lambda: plain(evals.unpin("ev-c")))
for label, where in [
    ("in_plain", {"experiment_id": PLAIN}),
    ("in_full", {"experiment_id": FULL}),
    ("by_agent", {"agent_name": "otter"}),
    ("by_agent_version", {"agent_version": "2.0"}),
    ("by_model", {"model_name": "gpt-z"}),
    ("by_metadata", {"metadata": {"k": "w"}}),
    ("by_score", {"evaluators": {"correct": {"mean": {"gte": 0.7}}}}),  # the SDK sends gte as $gte
    ("by_tokens", {"tokens": {"sum": {"gte": 40}}}),
]:
    step(label, lambda where=where: names(evals.list(sort="name", filter=where)))

sessions = evals.sessions
step(
    "modes",
    lambda: {
        mode: [plain(s) for s in sessions.list("ev-a", mode=mode, sort="test_case_name,-latency_ms")]
        for mode in ("summary", "preview", "detailed")
    },
)
step("only_b", lambda: [s.session_id for s in sessions.list("ev-a", filter={"test_case_name": "B"})])
step("only_b_alias", lambda: [s.session_id for s in sessions.list("ev-a", filter={"test_case_id": "B"})])
step("ev_c_sessions", lambda: [plain(s) for s in sessions.list("ev-c", sort="test_case_name", mode="summary")])

# --- containers again: baseline, PUT keeping what it omits, filters, the alias, delete ---
step(
    "c_updated",
    lambda: plain(exps.update("c-full", body_name="c-full", baseline_evaluation_name="ev-a", summary="still B")),
)
step("c_fetched", lambda: plain(exps.retrieve("c-full")))
step(
    "c_not_member",
    lambda: status_of(lambda: exps.update("c-plain", body_name="c-plain", baseline_evaluation_name="ev-a")),
)
step("c_no_such", lambda: status_of(lambda: exps.update("c-full", body_name="c-full", baseline_evaluation_name="nope")))
step("c_rename", lambda: status_of(lambda: exps.update("c-full", body_name="c-other")))
step("baseline_delete", lambda: status_of(lambda: evals.delete("ev-a")))
step("baseline_move", lambda: status_of(lambda: evals.patch("ev-a", experiment_ids=[PLAIN])))
for label, where in [
    ("favorites", {"is_favorite": True}),
    ("not_favorites", {"is_favorite": False}),
    ("over_time", {"show_evaluations_over_time": True}),
    ("by_baseline", {"baseline_evaluation_name": "ev-a"}),
    ("by_insight", {"insight_id": "ins-1"}),
    ("by_team", {"metadata": {"team": "search"}}),
    ("by_name", {"name": "c-plain"}),
]:
    step(label, lambda where=where: names(exps.list(sort="name", filter=where)))
step("c_sorted", lambda: names(exps.list(sort="-name")))
GROUPS = f"/apis/intake/v2/workspaces/{ws}/experiment-groups"  # the hidden alias: no SDK method, the client's get
step("alias_get", lambda: plain(nemo.get(f"{GROUPS}/c-full", cast_to=ExperimentResponse)))
step("alias_list", lambda: sorted(e.name for e in nemo.get(GROUPS, cast_to=ExperimentResponsesPage).data))
step("c_cleared", lambda: plain(exps.update("c-full", body_name="c-full", baseline_evaluation_name=None)))
step("ev_b_deleted", lambda: evals.delete("ev-b"))
step("ev_b_gone", lambda: status_of(lambda: evals.retrieve("ev-b")))
step("c_plain_deleted", lambda: exps.delete("c-plain"))
step("c_plain_gone", lambda: status_of(lambda: exps.retrieve("c-plain")))
step("c_deleted", lambda: names(exps.list(filter={"is_deleted": True})))
step("c_live", lambda: plain(exps.retrieve("c-full")))
step("ev_live", lambda: names(evals.list(sort="name")))

# --- traces, metrics, spans, span groups, sessions ---
traces = intake.traces
WINDOW = {"started_at": {"gte": f"{D0}T00:00:00Z", "lte": f"{D1}T23:59:59Z"}}
step("traces", lambda: [plain(t) for t in traces.list(sort="started_at", filter=WINDOW, mode="summary")])
step("traces_ev_a", lambda: [t.id for t in traces.list(sort="started_at", filter={"evaluation_name": "ev-a"})])
step("traces_case_b", lambda: [t.id for t in traces.list(filter={"evaluation_name": "ev-a", "test_case_name": "B"})])
step("traces_otter", lambda: [t.id for t in traces.list(filter={"agent_name": "otter"})])
step("trace_otel", lambda: plain(traces.retrieve("b" * 32, mode="detailed")))
step("trace_direct", lambda: plain(traces.retrieve("t-direct")))
step("metrics_day", lambda: plain(traces.get_metrics(bucket="day", timezone="UTC", filter=WINDOW)))
step("metrics_default", lambda: plain(traces.get_metrics()))  # by day in UTC over the last 7 days
step("metrics_la", lambda: plain(traces.get_metrics(bucket="day", timezone="America/Los_Angeles", filter=WINDOW)))
step("metrics_ev_b", lambda: plain(traces.get_metrics(bucket="total", filter={**WINDOW, "evaluation_name": "ev-b"})))
step("metrics_bad_zone", lambda: status_of(lambda: traces.get_metrics(timezone="Mars/Olympus_Mons", filter=WINDOW)))

spans = intake.spans
step(
    "spans_otel",
    lambda: [
        (s.span_id, s.parent_span_id, s.kind) for s in spans.list(filter={"trace_id": "b" * 32}, sort="started_at")
    ],
)
step("spans_ev_b", lambda: [s.span_id for s in spans.list(filter={"evaluation_name": "ev-b"})])
step("span_child", lambda: plain(spans.retrieve(OTLP_CHILD)))
step("span_direct", lambda: plain(spans.retrieve("d-llm")))
MORNING = {"started_at": {"gte": f"{D1}T00:00:00Z", "lte": f"{D1}T11:30:00Z"}}
step("groups", lambda: [plain(g) for g in spans.groups.list(by="trace_id", sort="-started_at", filter=MORNING)])
step("session", lambda: plain(intake.sessions.retrieve("s-otel")))

# --- annotations ---
notes = intake.annotations
note = step("note", lambda: plain(notes.create(kind="note", session_id="s-otel", text="looks right")))
feedback = step(
    "feedback", lambda: plain(notes.create(kind="feedback", session_id="s-otel", span_id=OTLP_CHILD, value="positive"))
)
step(
    "label",
    lambda: plain(notes.create(kind="label", session_id="chat-c", name="quality", value=4, value_type="numeric")),
)
step("got_note", lambda: plain(notes.retrieve(note["annotation_id"])))
step("on_session", lambda: sorted(a.kind for a in notes.list(filter={"session_id": "s-otel"})))
step("note_deleted", lambda: notes.delete(feedback["annotation_id"]))
step("note_gone", lambda: status_of(lambda: notes.retrieve(feedback["annotation_id"])))
step("notes_after", lambda: sorted(a.kind for a in notes.list()))

emit(step.out)
