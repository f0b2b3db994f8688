"""The intake resources of SDK 0.2.0 and 0.3.0 (the same in both but for sessions): OTLP JSON and a
chat completion capture ingested through the SDK's ingest resources, then traces, spans, span groups,
evaluator results (top level and per span), annotations created, read, listed and deleted, and the
tagged run read back (0.3.0: an evaluation and the session; 0.2.0: an experiment)."""

from typing import Any

from _flow import client, config, emit, plain, status_of

cfg = config()
nemo = client(cfg)
intake = nemo.intake
T0_NS = 1_769_904_000 * 1_000_000_000  # 2026-02-01T00:00:00Z
TRACE, ROOT, CHILD = "a" * 32, "1" * 16, "2" * 16


def attributes(**values: Any) -> list[dict[str, Any]]:
    def typed(value: Any) -> dict[str, Any]:
        if isinstance(value, int):
            return {"intValue": str(value)}
        if isinstance(value, float):
            return {"doubleValue": value}
        return {"stringValue": value}

    return [{"key": key.replace("__", "."), "value": typed(value)} for key, value in values.items()]


def span(span_id: str, start: float, end: float, parent: str = "", **values: Any) -> dict[str, Any]:
    return {
        "traceId": TRACE, "spanId": span_id, "parentSpanId": parent, "name": values.pop("name"), "kind": 1,
        "startTimeUnixNano": str(T0_NS + int(start * 1e9)), "endTimeUnixNano": str(T0_NS + int(end * 1e9)),
        "attributes": attributes(session__id="sess-o", **values), "status": {"code": 1},
    }  # fmt: skip


V030 = cfg["sdk_version"] == "0.3.0"
group = nemo.experiment_groups.create(name="g-tel")
if V030:
    nemo.evaluations.create(name="ev-t", dataset_name="ds", experiment_ids=[group.id])
else:  # 0.2.0's runs are experiments
    nemo.experiments.create(name="ev-t", dataset_name="ds", experiment_group_id=group.id)
otlp = intake.ingest.otlp.v1.traces.create(
    extra_body={
        "resourceSpans": [
            {
                "scopeSpans": [
                    {
                        "spans": [
                            span(
                                ROOT,
                                0,
                                2,
                                name="agent.run",
                                nemo__experiment__id="ev-t",
                                nemo__test_case__id="tc-1",
                                input__value="in",
                                output__value="out",
                            ),
                            span(
                                CHILD,
                                0.1,
                                0.5,
                                ROOT,
                                name="chat gpt-a",
                                openinference__span__kind="LLM",
                                gen_ai__request__model="gpt-a",
                                gen_ai__usage__input_tokens=100,
                                gen_ai__usage__output_tokens=10,
                                gen_ai__usage__cost=0.001,
                            ),
                        ]  # fmt: skip
                    }
                ]
            }
        ]
    }
)
chat = intake.ingest.chat_completions.create(
    session_id="chat-1",
    cost_usd=0.01,
    request={"model": "m", "messages": [{"role": "user", "content": "Capital of France?"}]},
    response={
        "id": "c",
        "object": "chat.completion",
        "created": 1767225600,
        "model": "m-1",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris."}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16},
    },  # fmt: skip
)

results = intake.evaluator_results
judged = results.create(session_id="sess-o", span_id=CHILD, name="judge", data_type="NUMERIC", value=0.8)
results.create(session_id="sess-o", span_id=ROOT, name="passed", data_type="BOOLEAN", value=1)
listed_results = [(r.name, r.span_id, r.value) for r in results.list(filter={"session_id": "sess-o"}, sort="value")]
got_result = results.retrieve(judged.evaluator_result_id)

traces = [plain(t) for t in intake.traces.list(sort="started_at")]
trace = intake.traces.retrieve(TRACE, mode="detailed")
spans = [
    (s.span_id, s.parent_span_id, s.kind) for s in intake.spans.list(filter={"trace_id": TRACE}, sort="started_at")
]
child = intake.spans.retrieve(CHILD)
groups = [plain(g) for g in intake.spans.groups.list(by="session_id", sort="-span_count")]
span_results = [plain(r) for r in intake.spans.evaluator_results.list(CHILD)]
# An ATIF trajectory of test case tc-2 (1.5 s, $0.004, reward 0.5), tagged the way each SDK names it.
tag = (
    {"evaluation_context": {"evaluation_id": "ev-t", "test_case_id": "tc-2"}}
    if V030
    else {"experiment_context": {"experiment_id": "ev-t", "test_case_id": "tc-2"}}
)
intake.ingest.atif.create(
    schema_version="ATIF-v1.5",
    session_id="traj-1",
    agent={"name": "terminus", "version": "2.0", "model_name": "gpt-x"},
    steps=[
        {"step_id": 1, "source": "user", "message": "2+2?", "timestamp": "2026-03-01T10:00:00Z"},
        {
            "step_id": 2,
            "source": "agent",
            "message": "4",
            "timestamp": "2026-03-01T10:00:01.5Z",
            "metrics": {"prompt_tokens": 20, "completion_tokens": 2, "cost_usd": 0.004},
        },
    ],  # fmt: skip
    extra={"verifier_result": {"reward": 0.5}},
    **tag,
)
trajectory = intake.traces.list(filter={"session_id": "traj-1"})
# The OTLP root tagged ev-t too; 0.2.0 has no sessions resource.
session = intake.sessions.retrieve("sess-o") if V030 else None
run = nemo.evaluations.retrieve("ev-t") if V030 else nemo.experiments.retrieve("ev-t")

notes = intake.annotations
note = notes.create(kind="note", session_id="sess-o", text="looks right")
feedback = notes.create(kind="feedback", session_id="sess-o", span_id=CHILD, value="positive")
label = notes.create(kind="label", session_id="chat-1", name="quality", value=4, value_type="numeric")
got_note = notes.retrieve(note.annotation_id)
on_session = sorted(a.kind for a in notes.list(filter={"session_id": "sess-o"}))
notes.delete(feedback.annotation_id)
gone = status_of(lambda: notes.retrieve(feedback.annotation_id))
after = sorted(a.kind for a in notes.list())

emit(
    {
        "otlp": plain(otlp),
        "chat": plain(chat),
        "judged": plain(judged),
        "listed_results": listed_results,
        "got_result": plain(got_result),
        "traces": traces,
        "trace": plain(trace),
        "spans": spans,
        "child": plain(child),
        "groups": groups,
        "span_results": span_results,
        "session": session and plain(session),
        "run": plain(run),
        "trajectory": [plain(t) for t in trajectory],
        "note": plain(note),
        "label": plain(label),
        "got_note": plain(got_note),
        "on_session": on_session,
        "gone": gone,
        "after": after,
    }
)
