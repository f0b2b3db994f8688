"""POST /ingest/spans (SDK 0.4+): provider-neutral spans {source, spans[]} as NeMo's 0.6.0 server
takes them; the body shaped as the 0.6.0 SDK's spans.create sends it."""

from typing import Any

import pytest

from support import create_experiment, session_rows, stored_spans

pytestmark = pytest.mark.asyncio


def span(span_id: str = "s-1", trace_id: str = "t-1", **fields: Any) -> dict[str, Any]:
    return {"span_id": span_id, "trace_id": trace_id, "started_at": "2026-01-05T09:00:00Z", **fields}


async def test_spans_become_a_tagged_session(client, base, app, workspace):
    await create_experiment(client, base, "exp")
    body = {
        "source": "langsmith",
        "spans": [
            span(
                "root", name="agent", kind="AGENT", status="success", ended_at="2026-01-05T09:00:02+00:00",
                input="Where is my order?", output={"answer": "tomorrow"},
                attributes={"nemo.evaluation.name": "exp", "nemo.test_case.name": "case-7", "team": "a"},
            ),
            span(
                "llm", parent_span_id="root", kind="LLM", started_at="2026-01-05T10:00:00.5+01:00",
                attributes={"gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 420,
                            "gen_ai.usage.output_tokens": 35, "gen_ai.usage.cost": 0.25},
            ),
        ],
    }  # fmt: skip
    response = await client.post(f"{base}/ingest/spans", json=body)
    assert (response.status_code, response.content) == (201, b"")
    [row] = await session_rows(client, base, "exp")
    assert (row["session_id"], row["test_case_id"], row["latency_ms"]) == ("t-1", "case-7", 2000.0)
    assert row["cost_usd"] == 0.25
    assert (row["input_tokens"], row["output_tokens"], row["input"]) == (420, 35, "Where is my order?")
    spans = await stored_spans(app, workspace, "t-1")
    assert {k: (s["source"], s["kind"], s["parent_span_id"], s["model_name"]) for k, s in spans.items()} == {
        "root": ("langsmith", "AGENT", "", None),
        "llm": ("langsmith", "LLM", "root", "gpt-4o-mini"),
    }
    assert (spans["root"]["output"], spans["root"]["attributes"]["team"]) == ('{"answer":"tomorrow"}', "a")
    listed = (await client.get(f"{base}/spans/llm")).json()
    assert (listed["kind"], listed["source"]) == ("LLM", "langsmith")
    assert listed["started_at"] == "2026-01-05T09:00:00.500000Z"  # 10:00:00.5+01:00


async def test_session_id_names_the_session(client, base, app, workspace):
    body = {"source": "mlflow", "spans": [span(session_id="conv-1"), span("s-2", "t-2", session_id="conv-1")]}
    assert (await client.post(f"{base}/ingest/spans", json=body)).status_code == 201
    assert set(await stored_spans(app, workspace, "conv-1")) == {"s-1", "s-2"}


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"source": "-bad", "spans": [span()]}, ["body", "source"]),
        ({"source": "x", "spans": []}, ["body", "spans"]),
        ({"source": "x", "spans": [span()] * 1001}, ["body", "spans"]),
        ({"source": "x", "spans": [span(), span()]}, ["body"]),  # (trace_id, span_id) twice
        ({"source": "x", "spans": [span()], "extra": 1}, ["body", "extra"]),
        ({"source": "x", "spans": [span(started_at="2026-01-05T09:00:00")]}, ["body", "spans", 0, "started_at"]),
        ({"source": "x", "spans": [span(ended_at="2026-01-05T08:00:00Z")]}, ["body", "spans", 0]),
        ({"source": "x", "spans": [span(parent_span_id="s-1")]}, ["body", "spans", 0]),
        ({"source": "x", "spans": [span(kind="PLANNER")]}, ["body", "spans", 0, "kind"]),
        ({"source": "x", "spans": [span(span_id="x" * 1025)]}, ["body", "spans", 0, "span_id"]),
        (
            {"source": "x", "spans": [span(attributes={"gen_ai.usage.input_tokens": -1})]},
            ["body", "spans", 0, "attributes"],
        ),
    ],
)
async def test_bad_bodies_are_422_and_store_nothing(client, base, app, workspace, body, loc):
    response = await client.post(f"{base}/ingest/spans", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == loc
    assert await stored_spans(app, workspace, "t-1") == {}


async def test_an_unknown_evaluation_is_400_and_nothing_stored(client, base, app, workspace):
    body = {"source": "x", "spans": [span(attributes={"nemo.evaluation.name": "nope"}), span("s-2")]}
    response = await client.post(f"{base}/ingest/spans", json=body)
    assert response.status_code == 400
    assert response.json() == {"detail": "Experiment 'nope' must be created before it can be logged."}
    assert await stored_spans(app, workspace, "t-1") == {}
