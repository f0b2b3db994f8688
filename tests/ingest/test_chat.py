"""POST /ingest/chat-completions: one captured request/response pair → one LLM span in a session."""

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from support import create_experiment, session_rows

pytestmark = pytest.mark.asyncio


def capture(prompt_tokens: int = 12, completion_tokens: int = 4, **extra) -> dict:
    body = {
        "request": {"model": "gpt-4o-mini", "messages": [
            {"role": "system", "content": "Be brief."}, {"role": "user", "content": "Capital of France?"}
        ], "temperature": 0},
        "response": {
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1767225600,
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris."}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens,
                      "prompt_tokens_details": {"cached_tokens": 2}},
        },
    }
    body.update(extra)
    return body


class TestCapture:
    async def test_one_call_is_one_session(self, client, base):
        await create_experiment(client, base, "chat-exp")
        body = capture(experiment_context={"experiment_id": "chat-exp", "test_case_id": "q-1"})
        response = await client.post(f"{base}/ingest/chat-completions", json=body)
        assert response.status_code == 201, response.text
        created = response.json()
        assert set(created) == {"session_id", "span_id"}
        [row] = await session_rows(client, base, "chat-exp")
        assert row["session_id"] == created["session_id"]
        assert (row["model_name"], row["input_tokens"], row["output_tokens"], row["cached_tokens"]) == (
            "gpt-4o-mini-2024-07-18", 12, 4, 2
        )
        assert (row["test_case_id"], row["started_at"], row["input"]) == ("q-1", "2026-01-01T00:00:00Z", "Capital of France?")
        rollups = (await client.get(f"{base}/experiments/chat-exp")).json()
        assert rollups["run_count"] == 1 and rollups["model_names"] == ["gpt-4o-mini-2024-07-18"]

    async def test_calls_with_a_session_header_join_one_session(self, client, base):
        await create_experiment(client, base, "chat-exp")
        headers = {"X-Session-Id": "conversation-42"}
        first = capture(
            experiment_context={"experiment_id": "chat-exp"},
            started_at="2026-01-01T00:00:00Z", ended_at="2026-01-01T00:00:01Z",
        )
        second = capture(
            prompt_tokens=30, completion_tokens=6,
            started_at="2026-01-01T00:00:05Z", ended_at="2026-01-01T00:00:07.5Z",
        )
        second["response"]["usage"]["cost"] = 0.25
        ids = []
        for body in (first, second):
            response = await client.post(f"{base}/ingest/chat-completions", json=body, headers=headers)
            assert response.status_code == 201, response.text
            ids.append(response.json())
        assert {i["session_id"] for i in ids} == {"conversation-42"}
        assert ids[0]["span_id"] != ids[1]["span_id"]
        [row] = await session_rows(client, base, "chat-exp")
        assert (row["input_tokens"], row["output_tokens"], row["cost_usd"]) == (42, 10, 0.25)
        assert (row["started_at"], row["ended_at"], row["latency_ms"]) == (
            "2026-01-01T00:00:00Z", "2026-01-01T00:00:07.500000Z", 7500.0
        )
        assert (await client.get(f"{base}/experiments/chat-exp")).json()["run_count"] == 1

    async def test_a_call_joins_an_otlp_session_under_its_root(self, client, base):
        await create_experiment(client, base, "chat-exp")
        trace, root = bytes.fromhex("ab" * 16), bytes.fromhex("cd" * 8)
        request = ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=[Span(
            trace_id=trace, span_id=root, name="agent", start_time_unix_nano=1_767_225_600_000_000_000,
            end_time_unix_nano=1_767_225_602_000_000_000,
            attributes=[KeyValue(key="nemo.experiment.id", value=AnyValue(string_value="chat-exp"))],
        )])])])
        response = await client.post(
            f"{base}/ingest/otlp/v1/traces", content=request.SerializeToString(),
            headers={"content-type": "application/x-protobuf"},
        )
        assert response.json() == {"errors": []}
        response = await client.post(
            f"{base}/ingest/chat-completions", json=capture(), headers={"X-Session-Id": trace.hex()}
        )
        assert response.status_code == 201
        [row] = await session_rows(client, base, "chat-exp")
        assert (row["session_id"], row["input_tokens"], row["latency_ms"]) == (trace.hex(), 12, 2000.0)

    async def test_evaluation_context_and_untagged(self, client, base):
        await create_experiment(client, base, "chat-exp")
        untagged = await client.post(f"{base}/ingest/chat-completions", json=capture())
        assert untagged.status_code == 201
        assert await session_rows(client, base, "chat-exp") == []
        tagged = await client.post(
            f"{base}/ingest/chat-completions", json=capture(evaluation_context={"evaluation_id": "chat-exp"}),
        )
        assert tagged.status_code == 201
        assert [r["session_id"] for r in await session_rows(client, base, "chat-exp")] == [tagged.json()["session_id"]]


class TestBadInput:
    async def test_unknown_experiment_is_400_and_nothing_stored(self, client, base):
        response = await client.post(
            f"{base}/ingest/chat-completions", json=capture(experiment_context={"experiment_id": "nope"}),
            headers={"X-Session-Id": "s-nope"},
        )
        assert response.status_code == 400
        assert response.json() == {"detail": "Experiment 'nope' must be created before it can be logged."}

    @pytest.mark.parametrize(
        ("mutate", "loc"),
        [
            (lambda b: b.pop("response"), ["body", "response"]),
            (lambda b: b["request"].pop("messages"), ["body", "request", "messages"]),
            (lambda b: b["response"]["usage"].update(prompt_tokens=-3), ["body", "response", "usage", "prompt_tokens"]),
            (lambda b: b.update(surprise=1), ["body", "surprise"]),
        ],
    )
    async def test_missing_or_wrong_fields_are_422(self, client, base, mutate, loc):
        body = capture()
        mutate(body)
        response = await client.post(f"{base}/ingest/chat-completions", json=body)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == loc

    async def test_wrong_content_type_is_415(self, client, base):
        response = await client.post(
            f"{base}/ingest/chat-completions", content=b"request=1",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code == 415


async def test_a_nul_in_the_experiment_tag_is_a_400_not_a_500(client, base) -> None:
    capture = {
        "request": {"model": "m", "messages": [{"role": "user", "content": "hi"}]},
        "response": {"id": "r", "model": "m", "choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 1}},
        "evaluation_context": {"evaluation_id": "a\u0000b"},
    }
    response = await client.post(f"{base}/ingest/chat-completions", json=capture)
    assert response.status_code == 400, response.text
