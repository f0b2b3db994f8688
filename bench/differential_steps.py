"""The requests bench/differential.py sends to both servers, in order, and the differences that are
on purpose. `{name}` in a path, parameter or body is the id an earlier step captured as `name`."""

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

# An hour ago, to the minute: NeMo drops spans that started more than 90 days ago (a TTL).
T0 = datetime.fromtimestamp(time.time() // 60 * 60 - 3600, UTC)
T0_NS = int(T0.timestamp()) * 1_000_000_000
TRACE, ROOT, CHILD = "a" * 32, "1" * 16, "2" * 16


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Step:
    name: str
    method: str
    path: str
    body: Any = None
    params: dict[str, Any] = field(default_factory=dict)
    capture: dict[str, str] = field(default_factory=dict)  # id name -> key of the response body
    compare_body: bool = True
    protobuf: bytes | None = None  # sent as application/x-protobuf instead of `body`


def _otlp_span(span_id: str, start: float, end: float, parent: str = "", **attributes: Any) -> dict[str, Any]:
    return {
        "trace_id": bytes.fromhex(TRACE),
        "span_id": bytes.fromhex(span_id),
        "parent_span_id": bytes.fromhex(parent),
        "name": attributes.pop("name"),
        "kind": 1,
        "start_time_unix_nano": T0_NS + int(start * 1e9),
        "end_time_unix_nano": T0_NS + int(end * 1e9),
        "attributes": [KeyValue(key=k.replace("__", "."), value=_typed(v)) for k, v in attributes.items()],
        "status": {"code": 1},
    }


def _typed(value: Any) -> AnyValue:
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    return AnyValue(string_value=value)


# NeMo 0.3.0 takes OTLP as protobuf only (415 for JSON); ours takes both.
OTLP = ExportTraceServiceRequest(
    resource_spans=[
        {
            "scope_spans": [
                {
                    "spans": [
                        _otlp_span(
                            ROOT,
                            0,
                            2,
                            name="agent.run",
                            session__id="sess-o",
                            nemo__experiment__id="ev-a",
                            nemo__test_case__id="C",
                            input__value="in",
                            output__value="out",
                        ),
                        _otlp_span(
                            CHILD,
                            0.1,
                            0.5,
                            ROOT,
                            name="chat gpt-a",
                            session__id="sess-o",
                            openinference__span__kind="LLM",
                            gen_ai__request__model="gpt-a",
                            gen_ai__usage__input_tokens=100,
                            gen_ai__usage__output_tokens=10,
                        ),
                    ]
                }
            ]
        }
    ]
).SerializeToString()


def _trajectory(session: str, test_case: str, seconds: float, cost: float, **context: Any) -> dict[str, Any]:
    start = 10 * int(session[1:])  # each trajectory its own start, so that no sort meets a tie
    return {
        "schema_version": "ATIF-v1.5",
        "session_id": session,
        "agent": {"name": "terminus", "version": "2.0", "model_name": "gpt-x"},
        "evaluation_context": {"evaluation_id": "ev-a", "test_case_id": test_case, **context},
        "steps": [
            {"step_id": 1, "source": "user", "message": f"question {session}", "timestamp": at(start)},
            {
                "step_id": 2,
                "source": "agent",
                "message": f"answer {session}",
                "timestamp": at(start + seconds),
                "metrics": {"prompt_tokens": 10, "completion_tokens": 5, "cost_usd": cost},
            },
        ],
    }


CHAT = {
    "session_id": "chat-1",
    "cost_usd": 0.01,
    "provider": "openai",
    "request": {"model": "m", "messages": [{"role": "user", "content": "Capital of France?"}]},
    "response": {
        "id": "c",
        "object": "chat.completion",
        "created": int(T0.timestamp()),
        "model": "m-1",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris."}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16},
    },
}


def _result(session: str, name: str, value: float, data_type: str = "NUMERIC", span: str = "") -> Step:
    body = {"session_id": session, "span_id": span, "name": name, "data_type": data_type, "value": value}
    return Step(
        f"result {session} {name}",
        "POST",
        "/evaluator-results",
        body,
        capture={f"r-{session}-{name}": "evaluator_result_id"},
    )


GROUP_G1 = {
    "name": "g1",
    "description": "first",
    "insight_id": "ins-1",
    "summary": "s",
    "metadata": {"team": "nlp"},
    "default_sort": "-evaluators.correct.mean,name",
    "pareto": {"x_metric": "cost_usd", "y_metric": "evaluators.correct"},
}

STEPS: list[Step] = [
    # --- experiment groups ---
    Step("group create g1", "POST", "/experiment-groups", GROUP_G1, capture={"g1": "id"}),
    Step("group create g2 (defaults)", "POST", "/experiment-groups", {"name": "g2"}, capture={"g2": "id"}),
    Step("group create taken name", "POST", "/experiment-groups", {"name": "g1"}),
    Step(
        "group create bad pareto",
        "POST",
        "/experiment-groups",
        {"name": "g3", "pareto": {"x_metric": "nope", "y_metric": "cost_usd"}},
    ),
    Step("group create bad default_sort", "POST", "/experiment-groups", {"name": "g3", "default_sort": "bogus"}),
    Step("group create metadata not text", "POST", "/experiment-groups", {"name": "g3", "metadata": {"n": 1}}),
    Step("group get", "GET", "/experiment-groups/g1"),
    Step("group list default", "GET", "/experiment-groups"),
    Step("group get missing", "GET", "/experiment-groups/nope"),
    Step("group put keeps pareto", "PUT", "/experiment-groups/g1", {"name": "g1", "description": "again"}),
    Step("group put rename", "PUT", "/experiment-groups/g1", {"name": "g9"}),
    Step("group list", "GET", "/experiment-groups", params={"sort": "name"}),
    Step("group list filter name", "GET", "/experiment-groups", params={"filter[name]": "g2"}),
    Step("group list filter metadata", "GET", "/experiment-groups", params={"filter[metadata.team]": "nlp"}),
    Step("group list filter insight", "GET", "/experiment-groups", params={"filter[insight_id]": "ins-1"}),
    Step("group list bad sort", "GET", "/experiment-groups", params={"sort": "bogus"}),
    Step("group list bad filter", "GET", "/experiment-groups", params={"filter[bogus]": "x"}),
    # --- evaluations ---
    Step(
        "eval create ev-a",
        "POST",
        "/evaluations",
        {
            "name": "ev-a",
            "dataset_name": "qa",
            "dataset_version": "1",
            "experiment_ids": ["{g1}"],
            "metadata": {"team": "nlp"},
            "status": "running",
            "description": "d",
        },
        capture={"ev-a": "id"},
    ),
    Step(
        "eval create ev-b (group id alias, parent)",
        "POST",
        "/evaluations",
        {"name": "ev-b", "dataset_name": "qa", "experiment_group_id": "{g2}", "parent_experiment_id": "{ev-a}"},
        capture={"ev-b": "id"},
    ),
    Step(
        "eval create ev-c (two groups)",
        "POST",
        "/evaluations",
        {"name": "ev-c", "dataset_name": "qa", "experiment_ids": ["{g1}", "{g2}", "{g1}"]},
        capture={"ev-c": "id"},
    ),
    Step(
        "eval create taken name",
        "POST",
        "/evaluations",
        {"name": "ev-a", "dataset_name": "qa", "experiment_ids": ["{g1}"]},
    ),
    Step(
        "eval create unknown group",
        "POST",
        "/evaluations",
        {"name": "ev-x", "dataset_name": "qa", "experiment_ids": ["grp-nope"]},
    ),
    Step("eval create no group", "POST", "/evaluations", {"name": "ev-x", "dataset_name": "qa"}),
    Step(
        "eval create empty groups", "POST", "/evaluations", {"name": "ev-x", "dataset_name": "qa", "experiment_ids": []}
    ),
    Step(
        "eval create unknown parent",
        "POST",
        "/evaluations",
        {"name": "ev-x", "dataset_name": "qa", "experiment_ids": ["{g1}"], "parent_evaluation_id": "nope"},
    ),
    Step(
        "eval create metadata not text",
        "POST",
        "/evaluations",
        {"name": "ev-x", "dataset_name": "qa", "experiment_ids": ["{g1}"], "metadata": {"n": 1}},
    ),
    Step(
        "eval create unknown field",
        "POST",
        "/evaluations",
        {"name": "ev-x", "dataset_name": "qa", "experiment_ids": ["{g1}"], "bogus": 1},
    ),
    Step("eval get", "GET", "/evaluations/ev-b"),
    Step("eval get missing", "GET", "/evaluations/nope"),
    Step(
        "eval put",
        "PUT",
        "/evaluations/ev-c",
        {"name": "ev-c", "dataset_name": "qa", "experiment_ids": ["{g2}"], "status": "done", "root_cause": "none"},
    ),
    Step(
        "eval put dataset change",
        "PUT",
        "/evaluations/ev-c",
        {"name": "ev-c", "dataset_name": "other", "experiment_ids": ["{g2}"]},
    ),
    Step(
        "eval put rename",
        "PUT",
        "/evaluations/ev-c",
        {"name": "ev-z", "dataset_name": "qa", "experiment_ids": ["{g2}"]},
    ),
    Step("eval patch", "PATCH", "/evaluations/ev-c", {"status": "failed", "root_cause": "oom"}),
    Step("eval patch clears", "PATCH", "/evaluations/ev-c", {"root_cause": None, "description": "x"}),
    Step("eval patch empty groups", "PATCH", "/evaluations/ev-c", {"experiment_ids": []}),
    Step("eval patch name", "PATCH", "/evaluations/ev-c", {"name": "ev-q"}),
    Step("eval patch missing", "PATCH", "/evaluations/nope", {"status": "x"}),
    Step("eval pin", "POST", "/evaluations/ev-b/pin"),
    Step("eval list pinned first", "GET", "/evaluations"),
    Step("eval list sort name", "GET", "/evaluations", params={"sort": "-name"}),
    Step("eval list filter metadata", "GET", "/evaluations", params={"filter[metadata.team]": "nlp"}),
    Step("eval list filter group", "GET", "/evaluations", params={"filter[experiment_group_id]": "{g2}"}),
    Step("eval list bad sort", "GET", "/evaluations", params={"sort": "bogus"}),
    Step("eval list page 2", "GET", "/evaluations", params={"page": 2, "page_size": 2, "sort": "name"}),
    Step("group counts evaluations", "GET", "/experiment-groups/g2"),
    Step("eval list bad filter", "GET", "/evaluations", params={"filter[bogus]": "1"}),
    Step("eval unpin", "DELETE", "/evaluations/ev-b/pin"),
    # --- ingest and evaluator results ---
    Step("atif a1", "POST", "/ingest/atif", _trajectory("a1", "A", 1, 0.2)),
    Step("atif a2", "POST", "/ingest/atif", _trajectory("a2", "A", 3, 0.4)),
    Step("atif a3", "POST", "/ingest/atif", _trajectory("a3", "B", 2, 1.0)),
    Step("atif a4 (no test case)", "POST", "/ingest/atif", _trajectory("a4", "", 2, 5.0)),
    Step(
        "atif unknown evaluation",
        "POST",
        "/ingest/atif",
        {**_trajectory("a5", "A", 1, 0.1), "evaluation_context": {"evaluation_id": "nope"}},
    ),
    Step(
        "atif v1.7 fields",
        "POST",
        "/ingest/atif",
        {
            **_trajectory("a6", "B", 1, 0.1),
            "schema_version": "ATIF-v1.7",
            "trajectory_id": "t-6",
            "evaluation_context": {"evaluation_id": "ev-b", "test_case_id": "B"},
        },
    ),
    _result("a1", "correct", 1),
    _result("a2", "correct", 0),
    _result("a3", "correct", 1),
    _result("a1", "passed", 0, "BOOLEAN"),
    Step(
        "result bad type",
        "POST",
        "/evaluator-results",
        {"session_id": "a1", "span_id": "", "name": "x", "data_type": "NOPE"},
    ),
    Step(
        "result numeric without value",
        "POST",
        "/evaluator-results",
        {"session_id": "a1", "span_id": "", "name": "x", "data_type": "NUMERIC"},
    ),
    Step("result get", "GET", "/evaluator-results/{r-a1-correct}"),
    Step("result list", "GET", "/evaluator-results", params={"filter[session_id]": "a1", "sort": "-value"}),
    Step("otlp", "POST", "/ingest/otlp/v1/traces", protobuf=OTLP),
    Step("chat", "POST", "/ingest/chat-completions", CHAT),
    _result("sess-o", "judge", 0.8, span=CHILD),
    # --- rollups and sessions ---
    Step("eval rollups", "GET", "/evaluations/ev-a"),
    Step("eval list sort rollup", "GET", "/evaluations", params={"sort": "-evaluators.correct.mean,cost_usd.mean"}),
    Step("eval list sort tokens", "GET", "/evaluations", params={"sort": "test_case_count,tokens.p95"}),
    Step("eval list filter rollup", "GET", "/evaluations", params={"filter[cost_usd.mean][$lte]": "0.5"}),
    Step("eval list filter rollup typed", "GET", "/evaluations", params={"filter[test_case_count][gte]": "2"}),
    Step("eval list bad rollup", "GET", "/evaluations", params={"sort": "evaluators.correct.bogus"}),
    Step("sessions detailed", "GET", "/evaluations/ev-a/sessions", params={"sort": "-test_case_id,latency_ms"}),
    Step(
        "sessions summary", "GET", "/evaluations/ev-a/sessions", params={"mode": "summary", "filter[test_case_id]": "B"}
    ),
    Step(
        "sessions preview", "GET", "/evaluations/ev-a/sessions", params={"mode": "preview", "sort": "-cost_total_usd"}
    ),
    Step("sessions bad sort", "GET", "/evaluations/ev-a/sessions", params={"sort": "bogus"}),
    Step("sessions missing evaluation", "GET", "/evaluations/nope/sessions"),
    Step("session get", "GET", "/sessions/a1"),
    Step("session get otlp", "GET", "/sessions/sess-o"),
    Step("session get missing", "GET", "/sessions/nope"),
    # --- traces and spans ---
    Step("traces list", "GET", "/traces", params={"sort": "started_at", "mode": "summary"}),
    Step("traces filter session", "GET", "/traces", params={"filter[session_id]": "sess-o"}),
    Step("trace get", "GET", f"/traces/{TRACE}", params={"mode": "detailed"}),
    Step("trace get missing", "GET", "/traces/nope"),
    Step("traces by evaluation", "GET", "/traces", params={"filter[evaluation_id]": "ev-a", "sort": "started_at"}),
    Step(
        "traces page 2", "GET", "/traces", params={"page": 2, "page_size": 2, "sort": "started_at", "mode": "summary"}
    ),
    Step("traces bad filter", "GET", "/traces", params={"filter[bogus]": "x"}),
    Step("traces bad sort", "GET", "/traces", params={"sort": "bogus"}),
    Step("spans of trace", "GET", "/spans", params={"filter[trace_id]": TRACE, "sort": "started_at"}),
    Step(
        "spans summary", "GET", "/spans", params={"mode": "summary", "filter[session_id]": "a1", "sort": "started_at"}
    ),
    Step(
        "spans by evaluation", "GET", "/spans", params={"filter[evaluation_id]": "ev-a", "filter[parent_span_id]": ""}
    ),
    Step("spans bad filter", "GET", "/spans", params={"filter[bogus]": "x"}),
    Step("span get", "GET", f"/spans/{CHILD}"),
    Step("span get missing", "GET", "/spans/nope"),
    Step("span groups", "GET", "/spans/groups", params={"by": "session_id", "sort": "-span_count"}),
    Step("span groups bad by", "GET", "/spans/groups", params={"by": "name"}),
    Step("span evaluator results", "GET", f"/spans/{CHILD}/evaluator-results"),
    # --- annotations ---
    Step(
        "annotation note",
        "POST",
        "/annotations",
        {"kind": "note", "session_id": "sess-o", "text": "looks right"},
        capture={"note": "annotation_id"},
    ),
    Step(
        "annotation feedback",
        "POST",
        "/annotations",
        {"kind": "feedback", "session_id": "sess-o", "span_id": CHILD, "value": "positive"},
        capture={"feedback": "annotation_id"},
    ),
    Step(
        "annotation label",
        "POST",
        "/annotations",
        {"kind": "label", "session_id": "chat-1", "name": "quality", "value": 4, "value_type": "numeric"},
        capture={"label": "annotation_id"},
    ),
    Step(
        "annotation metadata",
        "POST",
        "/annotations",
        {"kind": "metadata", "session_id": "a1", "metadata": {"k": "v"}},
        capture={"meta": "annotation_id"},
    ),
    Step("annotation bad feedback", "POST", "/annotations", {"kind": "feedback", "session_id": "a1", "value": "meh"}),
    Step("annotation get", "GET", "/annotations/{note}"),
    Step("annotation list by kind", "GET", "/annotations", params={"filter[kind]": "label"}),
    Step("annotation list", "GET", "/annotations", params={"filter[session_id]": "sess-o", "sort": "created_at"}),
    Step("annotation delete", "DELETE", "/annotations/{feedback}"),
    Step("annotation get deleted", "GET", "/annotations/{feedback}"),
    # --- deletes ---
    Step("eval delete", "DELETE", "/evaluations/ev-b"),
    Step("eval get deleted", "GET", "/evaluations/ev-b"),
    Step("eval list deleted", "GET", "/evaluations", params={"filter[is_deleted]": "true"}),
    Step(
        "eval create reused name",
        "POST",
        "/evaluations",
        {"name": "ev-b", "dataset_name": "qa", "experiment_ids": ["{g2}"]},
        capture={"ev-b2": "id"},
    ),
    Step("group delete cascades", "DELETE", "/experiment-groups/g2"),
    Step("eval after group delete", "GET", "/evaluations", params={"sort": "name"}),
    Step("group list deleted", "GET", "/experiment-groups", params={"filter[is_deleted]": "true"}),
    Step("group get deleted", "GET", "/experiment-groups/g2"),
    # last: ours stores it (the seeds' span_id is optional), which would change the rollups above
    Step(
        "result list without span",
        "POST",
        "/evaluator-results",
        {"session_id": "a1", "name": "x", "data_type": "NUMERIC", "value": 1},
    ),
]
