"""POST /ingest/chat-completions: one captured request/response pair → one LLM span in a session."""

import re

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from support import create_experiment, get_experiment, session_rows, stored_spans

pytestmark = pytest.mark.asyncio


def capture(prompt_tokens: int = 12, completion_tokens: int = 4, **extra) -> dict:
    body = {
        "request": {
            "model": "gpt-4o-mini",
            "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Capital of France?"}],
            "temperature": 0,
        },
        "response": {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1767225600,
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris."}, "finish_reason": "stop"}],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
                "prompt_tokens_details": {"cached_tokens": 2},
            },
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
            "gpt-4o-mini-2024-07-18",
            12,
            4,
            2,
        )
        assert (row["test_case_id"], row["started_at"], row["input"]) == (
            "q-1",
            "2026-01-01T00:00:00Z",
            "Capital of France?",
        )
        rollups = (await client.get(f"{base}/experiments/chat-exp")).json()
        assert rollups["run_count"] == 1 and rollups["model_names"] == ["gpt-4o-mini-2024-07-18"]

    async def test_calls_with_a_session_header_join_one_session(self, client, base):
        await create_experiment(client, base, "chat-exp")
        headers = {"X-Session-Id": "conversation-42"}
        first = capture(
            experiment_context={"experiment_id": "chat-exp"},
            started_at="2026-01-01T00:00:00Z",
            ended_at="2026-01-01T00:00:01Z",
        )
        second = capture(
            prompt_tokens=30,
            completion_tokens=6,
            started_at="2026-01-01T00:00:05Z",
            ended_at="2026-01-01T00:00:07.5Z",
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
            "2026-01-01T00:00:00Z",
            "2026-01-01T00:00:07.500000Z",
            7500.0,
        )
        assert (await client.get(f"{base}/experiments/chat-exp")).json()["run_count"] == 1

    async def test_a_call_joins_an_otlp_session_under_its_root(self, client, base):
        await create_experiment(client, base, "chat-exp")
        trace, root = bytes.fromhex("ab" * 16), bytes.fromhex("cd" * 8)
        request = ExportTraceServiceRequest(
            resource_spans=[
                ResourceSpans(
                    scope_spans=[
                        ScopeSpans(
                            spans=[
                                Span(
                                    trace_id=trace,
                                    span_id=root,
                                    name="agent",
                                    start_time_unix_nano=1_767_225_600_000_000_000,
                                    end_time_unix_nano=1_767_225_602_000_000_000,
                                    attributes=[
                                        KeyValue(key="nemo.experiment.id", value=AnyValue(string_value="chat-exp"))
                                    ],
                                )
                            ]
                        )
                    ]
                )
            ]
        )
        response = await client.post(
            f"{base}/ingest/otlp/v1/traces",
            content=request.SerializeToString(),
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
            f"{base}/ingest/chat-completions",
            json=capture(evaluation_context={"evaluation_id": "chat-exp"}),
        )
        assert tagged.status_code == 201
        assert [r["session_id"] for r in await session_rows(client, base, "chat-exp")] == [tagged.json()["session_id"]]


class TestSdk03Fields:
    """The top-level fields SDK 0.3.0 sends (nemo_platform ChatCompletionCreateParams)."""

    async def test_session_id_cost_and_provider(self, client, base, app, workspace):
        await create_experiment(client, base, "chat-exp")
        first = capture(
            evaluation_context={"evaluation_id": "chat-exp", "test_case_id": "q-2"},
            provider="openai",
            session_id="conv-9",
            cost_usd=0.0125,
            cost_input_usd=0.01,
            cost_output_usd=0.0025,
            cost_details={"cache_read": 0.001},
        )
        first["response"]["usage"]["cost"] = 0.5  # the body's cost_usd wins over the provider's
        response = await client.post(f"{base}/ingest/chat-completions", json=first)
        assert response.status_code == 201, response.text
        created = response.json()
        assert created["session_id"] == "conv-9"

        second = capture(prompt_tokens=30, completion_tokens=6, session_id="conv-9")
        second["response"]["id"] = "chatcmpl-2"
        second["response"]["usage"]["cost"] = 0.25  # no cost_usd: the usage cost counts
        response = await client.post(f"{base}/ingest/chat-completions", json=second)
        assert response.status_code == 201, response.text
        assert response.json()["session_id"] == "conv-9"

        [row] = await session_rows(client, base, "chat-exp")
        assert (row["session_id"], row["test_case_id"]) == ("conv-9", "q-2")
        assert (row["input_tokens"], row["output_tokens"]) == (12 + 30, 4 + 6)
        assert row["cost_usd"] == pytest.approx(0.0125 + 0.25)
        assert (await get_experiment(client, base, "chat-exp"))["run_count"] == 1

        call = (await stored_spans(app, workspace, "conv-9"))[created["span_id"]]
        assert call["cost_usd"] == 0.0125
        assert {
            k: call["attributes"][k] for k in ("provider", "cost_input_usd", "cost_output_usd", "cost_details")
        } == {
            "provider": "openai",
            "cost_input_usd": 0.01,
            "cost_output_usd": 0.0025,
            "cost_details": {"cache_read": 0.001},
        }

    async def test_session_id_and_the_header_are_one_thing(self, client, base):
        url = f"{base}/ingest/chat-completions"
        same = await client.post(url, json=capture(session_id="s-1"), headers={"X-Session-Id": "s-1"})
        assert (same.status_code, same.json()["session_id"]) == (201, "s-1")
        differ = await client.post(url, json=capture(session_id="s-1"), headers={"X-Session-Id": "s-2"})
        assert differ.status_code == 422
        assert differ.json()["detail"][0]["loc"] == ["body", "session_id"]

    async def test_trace_id_joins_an_otlp_trace(self, client, base, app, workspace):
        await create_experiment(client, base, "chat-exp")
        trace, root = bytes.fromhex("ef" * 16), bytes.fromhex("12" * 8)
        request = ExportTraceServiceRequest(
            resource_spans=[
                ResourceSpans(
                    scope_spans=[
                        ScopeSpans(
                            spans=[
                                Span(
                                    trace_id=trace,
                                    span_id=root,
                                    name="agent",
                                    start_time_unix_nano=1_767_225_600_000_000_000,
                                    end_time_unix_nano=1_767_225_603_000_000_000,
                                    attributes=[
                                        KeyValue(key="nemo.evaluation.name", value=AnyValue(string_value="chat-exp"))
                                    ],
                                )
                            ]
                        )
                    ]
                )
            ]
        )
        response = await client.post(
            f"{base}/ingest/otlp/v1/traces",
            content=request.SerializeToString(),
            headers={"content-type": "application/x-protobuf"},
        )
        assert response.json() == {"errors": []}
        response = await client.post(f"{base}/ingest/chat-completions", json=capture(trace_id=trace.hex()))
        assert response.status_code == 201, response.text
        created = response.json()
        assert created["session_id"] == trace.hex()
        call = (await stored_spans(app, workspace, trace.hex()))[created["span_id"]]
        assert (call["trace_id"], call["parent_span_id"]) == (trace.hex(), root.hex())
        [row] = await session_rows(client, base, "chat-exp")
        assert (row["session_id"], row["input_tokens"], row["latency_ms"]) == (trace.hex(), 12, 3000.0)

    async def test_a_new_session_keeps_its_trace_id(self, client, base, app, workspace):
        response = await client.post(
            f"{base}/ingest/chat-completions", json=capture(session_id="chat-s", trace_id="trace-7")
        )
        assert response.status_code == 201, response.text
        spans = await stored_spans(app, workspace, "chat-s")
        assert {span_id: span["trace_id"] for span_id, span in spans.items()} == {
            "session": "trace-7",
            response.json()["span_id"]: "trace-7",
        }

    async def test_calls_without_a_trace_id_share_a_generated_one(self, client, base, app, workspace):
        url = f"{base}/ingest/chat-completions"
        for _ in range(2):
            assert (await client.post(url, json=capture(), headers={"X-Session-Id": "untraced"})).status_code == 201
        [trace] = {span["trace_id"] for span in (await stored_spans(app, workspace, "untraced")).values()}
        assert re.fullmatch("[0-9a-f]{32}", trace)
        anonymous = (await client.post(url, json=capture())).json()["session_id"]
        [other] = {span["trace_id"] for span in (await stored_spans(app, workspace, anonymous)).values()}
        assert re.fullmatch("[0-9a-f]{32}", other) and other != trace

    async def test_unknown_evaluation_context_keys_are_ignored_as_nemo_does(self, client, base):
        await create_experiment(client, base, "exp")
        context = {"evaluation_name": "exp", "test_case_name": "tc-1", "evaluation_sha": "abc", "later": {"x": 1}}
        response = await client.post(f"{base}/ingest/chat-completions", json=capture(evaluation_context=context))
        assert response.status_code == 201, response.text
        assert [r["test_case_id"] for r in await session_rows(client, base, "exp")] == ["tc-1"]

    async def test_evaluation_context_wins_over_experiment_context(self, client, base):
        await create_experiment(client, base, "old")
        await create_experiment(client, base, "new")
        body = capture(
            experiment_context={"experiment_id": "old"},
            evaluation_context={"evaluation_name": "new", "test_case_name": "tc-n"},
        )
        assert (await client.post(f"{base}/ingest/chat-completions", json=body)).status_code == 201
        assert await session_rows(client, base, "old") == []
        assert [r["test_case_id"] for r in await session_rows(client, base, "new")] == ["tc-n"]

    @pytest.mark.parametrize(
        ("field", "value", "loc"),
        [
            ("cost_usd", -0.1, ["body", "cost_usd"]),
            ("cost_input_usd", "a lot", ["body", "cost_input_usd"]),
            ("cost_details", {"cache_read": -1}, ["body", "cost_details", "cache_read"]),
            ("session_id", "", ["body", "session_id"]),
            ("provider", 7, ["body", "provider"]),
        ],
    )
    async def test_bad_fields_are_422(self, client, base, field, value, loc):
        response = await client.post(f"{base}/ingest/chat-completions", json=capture(**{field: value}))
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == loc


class TestBadInput:
    async def test_unknown_experiment_is_400_and_nothing_stored(self, client, base):
        response = await client.post(
            f"{base}/ingest/chat-completions",
            json=capture(experiment_context={"experiment_id": "nope"}),
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
            f"{base}/ingest/chat-completions",
            content=b"request=1",
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


async def test_whole_numbers_written_with_a_fraction_are_integers(client, base) -> None:
    """JSON has one number type, and the document's `integer` takes 86.0: so does the server."""
    await create_experiment(client, base, "whole")
    body = capture(prompt_tokens=12.0, completion_tokens=4.0, experiment_context={"experiment_id": "whole"})
    body["response"]["created"] = 1767225600.0
    response = await client.post(f"{base}/ingest/chat-completions", json=body)
    assert response.status_code == 201, response.text
    [row] = await session_rows(client, base, "whole")
    assert (row["input_tokens"], row["output_tokens"], row["started_at"]) == (12, 4, "2026-01-01T00:00:00Z")
    body["response"]["usage"]["prompt_tokens"] = None  # absent: no count (it was a 500 for a moment)
    body["response"]["created"] = None
    response = await client.post(f"{base}/ingest/chat-completions", json=body)
    assert response.status_code == 201, response.text
    body["response"]["created"] = 1767225600.5
    response = await client.post(f"{base}/ingest/chat-completions", json=body)
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "response", "created"]
