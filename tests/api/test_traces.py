"""GET /traces, /traces/{id}, /spans, /spans/groups, /spans/{span_id}(/evaluator-results) and
/sessions/{id}: spans ingested over OTLP JSON and ATIF, read back as SDK 0.3.0 sends its requests
(bracket filters, `mode`, signed sort), checked against values computed by hand from what was sent.

The OTLP fixture, all in one workspace (times from T0 = 2026-02-01T00:00:00Z):
- trace A, session sess-1: root r1 (0 s → 2 s, OK, tagged agent-eval / tc-1, 400-character input),
  child c1 (0.1 → 0.5 s, LLM gpt-a, 100/10/5 tokens, $0.001), child c2 (1 → 1.5 s, LLM gpt-b,
  200/20/5 tokens, $0.002, ERROR);
- trace B, session sess-1: root r2 (10 → 11 s, no status);
- trace C, session sess-2: root r3 (20 → 21 s, OK, 7/3 tokens, $0.5).
"""

from typing import Any

import httpx
import orjson
import pytest

from support import assert_422, client_for, create_experiment, free_port, ok, problem

pytestmark = pytest.mark.asyncio

T0_NS = 1_769_904_000 * 1_000_000_000  # 2026-02-01T00:00:00Z
A, B, C = "a" * 32, "b" * 32, "c" * 32
R1, C1, C2, R2, R3 = "1" * 16, "2" * 16, "3" * 16, "4" * 16, "5" * 16
LONG_INPUT = "x" * 250 + "y" * 150


def at(seconds: float) -> str:
    return str(T0_NS + int(seconds * 1_000_000_000))


def iso(seconds: float) -> str:
    whole, fraction = divmod(seconds, 1)
    return f"2026-02-01T00:00:{int(whole):02d}" + (f".{round(fraction * 1e6):06d}Z" if fraction else "Z")


def attrs(**values: Any) -> list[dict[str, Any]]:
    def typed(value: Any) -> dict[str, Any]:
        if isinstance(value, bool):
            return {"boolValue": value}
        if isinstance(value, int):
            return {"intValue": str(value)}
        if isinstance(value, float):
            return {"doubleValue": value}
        return {"stringValue": value}

    return [{"key": key.replace("__", "."), "value": typed(value)} for key, value in values.items()]


def span(trace: str, span_id: str, start: float, end: float, *, parent: str = "", status: int = 0, **attributes: Any):
    body: dict[str, Any] = {
        "traceId": trace, "spanId": span_id, "name": attributes.pop("name", "step"), "kind": 1,
        "startTimeUnixNano": at(start), "endTimeUnixNano": at(end), "attributes": attrs(**attributes),
        "status": {"code": status},
    }
    if parent:
        body["parentSpanId"] = parent
    return body


def llm(trace: str, span_id: str, start: float, end: float, model: str, tokens: tuple[int, int, int], cost: float,
        **extra: Any):
    return span(
        trace, span_id, start, end, parent=R1, name=f"chat {model}", session__id="sess-1",
        openinference__span__kind="LLM", gen_ai__request__model=model, gen_ai__usage__input_tokens=tokens[0],
        gen_ai__usage__output_tokens=tokens[1], gen_ai__usage__cached_tokens=tokens[2], gen_ai__usage__cost=cost,
        **extra,
    )


SPANS = [
    span(A, R1, 0, 2, status=1, name="agent.run", session__id="sess-1", nemo__experiment__id="agent-eval",
         nemo__test_case__id="tc-1", input__value=LONG_INPUT, output__value="done"),
    llm(A, C1, 0.1, 0.5, "gpt-a", (100, 10, 5), 0.001),
    {**llm(A, C2, 1, 1.5, "gpt-b", (200, 20, 5), 0.002), "status": {"code": 2}},
    span(B, R2, 10, 11, name="agent.retry", session__id="sess-1"),
    span(C, R3, 20, 21, status=1, name="agent.run", session__id="sess-2", gen_ai__usage__input_tokens=7,
         gen_ai__usage__output_tokens=3, gen_ai__usage__cost=0.5),
]


@pytest.fixture
async def stored(client: httpx.AsyncClient, base: str) -> str:
    await create_experiment(client, base, "agent-eval")
    body = {"resourceSpans": [{"resource": {"attributes": attrs(service__name="agent")},
                               "scopeSpans": [{"spans": SPANS}]}]}
    response = await client.post(
        f"{base}/ingest/otlp/v1/traces", content=orjson.dumps(body), headers={"content-type": "application/json"}
    )
    assert ok(response)["errors"] == []
    return base


async def get(client: httpx.AsyncClient, url: str, **params: Any) -> Any:
    return ok(await client.get(url, params=params))


def ids(page: dict[str, Any], key: str = "id") -> list[str]:
    return [row[key] for row in page["data"]]


class TestTraces:
    async def test_preview_rows_carry_the_roots_and_the_rollups(self, client, stored, workspace):
        page = await get(client, f"{stored}/traces")
        assert ids(page) == [C, B, A]  # -started_at by default
        assert page["pagination"] == {
            "page": 1, "page_size": 10, "current_page_size": 3, "total_pages": 1, "total_results": 3
        }
        assert (page["sort"], page["filter"]) == ("-started_at", {})
        a = page["data"][2]
        assert a.pop("cost_usd") == pytest.approx(0.003)
        assert a == {
            "id": A, "root_span_id": R1, "session_id": "sess-1", "workspace": workspace, "name": "agent.run",
            "input": LONG_INPUT[:300], "output": "done",
            "evaluation_context": {"evaluation_name": "agent-eval", "test_case_name": "tc-1",
                                   "evaluation_id": "agent-eval", "test_case_id": "tc-1"},
            "experiment_context": {"experiment_id": "agent-eval", "test_case_id": "tc-1"},
            "started_at": iso(0), "ended_at": iso(2), "duration_ms": 2000.0, "status": "success",
            "input_tokens": 300, "output_tokens": 30, "cached_tokens": 10, "total_tokens": 330,
            "span_count": 3, "error_count": 1,
        }
        b = page["data"][1]
        assert (b["status"], b["span_count"], b["error_count"], b["session_id"]) == ("unknown", 1, 0, "sess-1")
        assert "input_tokens" not in b and "evaluation_context" not in b and "input" not in b

    async def test_modes(self, client, stored):
        summary = (await get(client, f"{stored}/traces", mode="summary"))["data"][2]
        assert summary["id"] == A and summary["duration_ms"] == 2000.0
        for left_out in ("input", "output", "input_tokens", "cost_usd", "span_count", "error_count"):
            assert left_out not in summary
        detailed = (await get(client, f"{stored}/traces", mode="detailed"))["data"][2]
        assert detailed["input"] == LONG_INPUT and detailed["span_count"] == 3
        assert (await client.get(f"{stored}/traces", params={"mode": "full"})).status_code == 422

    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ({"sort": "started_at"}, [A, B, C]),
            ({"filter[status]": "success"}, [C, A]),
            ({"filter[session_id]": "sess-1"}, [B, A]),
            ({"filter[evaluation_id]": "agent-eval"}, [A]),
            ({"filter[experiment_id]": "agent-eval"}, [A]),
            ({"filter[test_case_id]": "tc-1"}, [A]),
            ({"filter[id]": B}, [B]),
            ({"filter[id][$in]": f"{A},{C}"}, [C, A]),
            ({"filter[started_at][$gte]": iso(5)}, [C, B]),
            ({"filter[started_at][gte]": iso(5), "filter[started_at][$lte]": iso(15)}, [B]),
        ],
    )
    async def test_filters_and_sort(self, client, stored, params, expected):
        assert ids(await get(client, f"{stored}/traces", **params)) == expected

    async def test_paging_and_filter_echo(self, client, stored):
        page = await get(client, f"{stored}/traces", page=2, page_size=2, **{"filter[session_id]": "sess-1"})
        assert ids(page) == []
        page = await get(client, f"{stored}/traces", page=2, page_size=2)
        assert ids(page) == [A]
        assert page["pagination"]["total_pages"] == 2 and page["pagination"]["total_results"] == 3
        echoed = await get(
            client, f"{stored}/traces", **{"filter[status]": "success", "filter[started_at][$gte]": iso(5)}
        )
        assert echoed["filter"] == {"status": "success", "started_at": {"$gte": iso(5)}}

    @pytest.mark.parametrize(
        "params",
        [
            {"filter[name]": "agent.run"},
            {"filter[status]": "great"},
            {"filter[started_at][$gte]": "yesterday"},
            {"filter[session_id][$gte]": "a"},
            {"filter[evaluation_id]": "x", "filter[experiment_id]": "y"},
        ],
    )
    async def test_bad_filter_is_400(self, client, stored, params):
        problem(await client.get(f"{stored}/traces", params=params), 400)

    async def test_bad_sort_is_422(self, client, stored):
        # NeMo's sort is an enum: another value is a validation error on the parameter.
        assert_422(await client.get(f"{stored}/traces", params={"sort": "name"}), ("query", "sort"))

    async def test_ten_rows_unless_asked(self, client, stored):
        assert (await get(client, f"{stored}/traces"))["pagination"]["page_size"] == 10

    async def test_unknown_parameter_is_422(self, client, stored):
        assert (await client.get(f"{stored}/traces", params={"limit": 3})).status_code == 422

    async def test_one_trace(self, client, stored, workspace):
        trace = await get(client, f"{stored}/traces/{A}")
        assert trace["input"] == LONG_INPUT and trace["span_count"] == 3  # detailed by default
        assert (await get(client, f"{stored}/traces/{A}", mode="preview"))["input"] == LONG_INPUT[:300]
        detail = problem(await client.get(f"{stored}/traces/{'f' * 32}"), 404)
        assert detail == f"Trace '{workspace}/{'f' * 32}' not found."

    async def test_a_trace_without_its_root_is_not_listed(self, client, base):
        orphan = {**span("d" * 32, "6" * 16, 0, 1, name="child"), "parentSpanId": "7" * 16}
        body = {"resourceSpans": [{"scopeSpans": [{"spans": [orphan]}]}]}
        await client.post(f"{base}/ingest/otlp/v1/traces", content=orjson.dumps(body),
                          headers={"content-type": "application/json"})
        assert ids(await get(client, f"{base}/traces")) == []
        assert ids(await get(client, f"{base}/spans"), "span_id") == ["6" * 16]


class TestSpans:
    async def test_list_by_trace(self, client, stored, workspace):
        page = await get(client, f"{stored}/spans", **{"filter[trace_id]": A})
        assert ids(page, "span_id") == [C2, C1, R1]
        c2, c1, r1 = page["data"]
        assert c1.pop("cost_total_usd") == pytest.approx(0.001)
        raw = orjson.loads(c1.pop("raw_attributes"))
        assert raw["gen_ai.request.model"] == "gpt-a" and raw["service.name"] == "agent"
        assert c1.pop("ingested_at").endswith("Z")
        assert c1 == {
            "span_id": C1, "session_id": "sess-1", "workspace": workspace, "parent_span_id": R1, "kind": "LLM",
            "name": "chat gpt-a", "source": "otel", "trace_id": A, "started_at": iso(0.1), "ended_at": iso(0.5),
            "status": "unknown", "model": "gpt-a", "input_tokens": 100, "output_tokens": 10, "cached_tokens": 5,
            "total_tokens": 110,
        }
        assert c2["status"] == "error" and c2["total_tokens"] == 220
        assert "parent_span_id" not in r1 and r1["kind"] == "UNKNOWN"
        assert r1["evaluation_context"] == {
            "evaluation_name": "agent-eval", "test_case_name": "tc-1",
            "evaluation_id": "agent-eval", "test_case_id": "tc-1",
        }
        assert (r1["input"], r1["output"]) == (LONG_INPUT, "done")

    async def test_modes(self, client, stored):
        preview = await get(client, f"{stored}/spans", mode="preview", **{"filter[parent_span_id]": ""})
        roots = {row["span_id"]: row for row in preview["data"]}
        assert set(roots) == {R1, R2, R3}
        assert roots[R1]["input"] == LONG_INPUT[:300] and "raw_attributes" not in roots[R1]
        summary = await get(client, f"{stored}/spans", mode="summary", **{"filter[trace_id]": A})
        assert all("input" not in row and "raw_attributes" not in row for row in summary["data"])
        assert [row["input_tokens"] for row in summary["data"] if "input_tokens" in row] == [200, 100]

    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ({"filter[parent_span_id]": R1, "sort": "started_at"}, [C1, C2]),
            ({"filter[status]": "error"}, [C2]),
            ({"filter[kind]": "LLM"}, [C2, C1]),
            ({"filter[model]": "gpt-a"}, [C1]),
            ({"filter[session_id]": "sess-2"}, [R3]),
            ({"filter[evaluation_id]": "agent-eval", "filter[test_case_id]": "tc-1"}, [R1]),
            ({"filter[source]": "otel", "filter[started_at][$gte]": iso(1)}, [R3, R2, C2]),
            ({"filter[source]": "otlp"}, []),
        ],
    )
    async def test_filters(self, client, stored, params, expected):
        assert ids(await get(client, f"{stored}/spans", **params), "span_id") == expected

    @pytest.mark.parametrize(
        "params", [{"filter[tool]": "x"}, {"filter[kind]": "llm"}, {"filter[id][$in]": "a"}]
    )
    async def test_bad_filter_is_400(self, client, stored, params):
        problem(await client.get(f"{stored}/spans", params=params), 400)

    @pytest.mark.parametrize(("path", "params"), [("/spans", {"sort": "-ended_at"}),
                                                  ("/spans/groups", {"by": "trace_id", "sort": "-started_at"})])
    async def test_bad_sort_is_422(self, client, stored, path, params):
        assert_422(await client.get(f"{stored}{path}", params=params), ("query", "sort"))

    async def test_ten_rows_unless_asked(self, client, stored):
        assert (await get(client, f"{stored}/spans"))["pagination"]["page_size"] == 10
        assert (await get(client, f"{stored}/spans/groups", by="trace_id"))["pagination"]["page_size"] == 10

    async def test_one_span(self, client, stored, workspace):
        one = await get(client, f"{stored}/spans/{C2}")
        assert (one["span_id"], one["trace_id"], one["model"], one["status"]) == (C2, A, "gpt-b", "error")
        assert "raw_attributes" in one
        assert problem(await client.get(f"{stored}/spans/nope"), 404) == f"Span '{workspace}/nope' not found."

    async def test_groups(self, client, stored):
        by_trace = await get(client, f"{stored}/spans/groups", by="trace_id")
        assert by_trace["data"] == [
            {"group": {"trace_id": A}, "span_count": 3},
            {"group": {"trace_id": B}, "span_count": 1},
            {"group": {"trace_id": C}, "span_count": 1},
        ]
        assert by_trace["grouped_by"] == ["trace_id"] and by_trace["pagination"]["total_results"] == 3
        by_session = await get(client, f"{stored}/spans/groups", by="session_id", sort="span_count")
        assert by_session["data"] == [
            {"group": {"session_id": "sess-2"}, "span_count": 1},
            {"group": {"session_id": "sess-1"}, "span_count": 4},
        ]
        both = await get(client, f"{stored}/spans/groups", by="session_id,trace_id", page_size=1, page=2,
                         **{"filter[session_id]": "sess-1"})
        assert both["data"] == [{"group": {"session_id": "sess-1", "trace_id": B}, "span_count": 1}]
        assert both["grouped_by"] == ["session_id", "trace_id"] and both["pagination"]["total_results"] == 2

    @pytest.mark.parametrize("params", [{"by": "name"}, {"by": "trace_id,trace_id"}, {"by": " ,"}])
    async def test_bad_group_by_is_400(self, client, stored, params):
        problem(await client.get(f"{stored}/spans/groups", params=params), 400)

    async def test_evaluator_results_of_a_span(self, client, stored):
        for name, value in (("correct", 1.0), ("helpful", 0.5)):
            body = {"session_id": "sess-1", "span_id": C1, "name": name, "data_type": "NUMERIC", "value": value}
            ok(await client.post(f"{stored}/evaluator-results", json=body), 201)
        results = await get(client, f"{stored}/spans/{C1}/evaluator-results")
        assert [(r["name"], r["value"], r["span_id"]) for r in results] == [("correct", 1.0, C1), ("helpful", 0.5, C1)]
        assert await get(client, f"{stored}/spans/{C2}/evaluator-results") == []


class TestSessions:
    async def test_aggregates_over_every_span(self, client, stored, workspace):
        one = await get(client, f"{stored}/sessions/sess-1")
        assert one.pop("cost_usd") == pytest.approx(0.003)
        assert one == {
            "id": "sess-1", "workspace": workspace, "started_at": iso(0), "ended_at": iso(11), "duration_ms": 11000.0,
            "status": "error", "input_tokens": 300, "output_tokens": 30, "cached_tokens": 10, "total_tokens": 330,
            "trace_count": 2, "span_count": 4,
        }
        two = await get(client, f"{stored}/sessions/sess-2")
        assert (two["status"], two["total_tokens"], two["cost_usd"], two["trace_count"]) == ("success", 10, 0.5, 1)
        assert "cached_tokens" not in two
        assert problem(await client.get(f"{stored}/sessions/nope"), 404) == f"Session '{workspace}/nope' not found."


class TestAtif:
    async def test_a_trajectory_is_one_trace_of_its_session(self, client, base):
        trajectory = {
            "schema_version": "ATIF-v1.5", "session_id": "traj-1",
            "agent": {"name": "terminus", "version": "2.0", "model_name": "gpt-x"},
            "steps": [
                {"step_id": 1, "source": "user", "message": "What is 2+2?", "timestamp": "2026-03-01T10:00:00Z"},
                {"step_id": 2, "source": "agent", "message": "4", "timestamp": "2026-03-01T10:00:01.5Z",
                 "metrics": {"prompt_tokens": 100, "completion_tokens": 20, "cost_usd": 0.002}},
            ],
        }
        ok(await client.post(f"{base}/ingest/atif", json=trajectory), 201)
        traces = (await get(client, f"{base}/traces"))["data"]
        assert [(t["id"], t["session_id"], t["root_span_id"], t["name"]) for t in traces] == [
            ("traj-1", "traj-1", "trajectory", "terminus")
        ]
        assert (traces[0]["input_tokens"], traces[0]["output_tokens"], traces[0]["span_count"]) == (100, 20, 3)
        # ATIF reports no outcome: NeMo maps every span of it as a success, so the session is one.
        assert traces[0]["status"] == "success"
        assert (await get(client, f"{base}/sessions/traj-1"))["status"] == "success"
        spans = (await get(client, f"{base}/spans", sort="started_at", **{"filter[trace_id]": "traj-1"}))["data"]
        root = next(s for s in spans if s["span_id"] == "trajectory")
        assert (root["kind"], root["source"], root["trace_id"], "parent_span_id" in root) == (
            "AGENT", "atif", "traj-1", False
        )
        steps = sorted((s["started_at"], s["kind"], s["parent_span_id"]) for s in spans if s is not root)
        assert steps == [
            ("2026-03-01T10:00:00Z", "UNKNOWN", "trajectory"), ("2026-03-01T10:00:01.500000Z", "LLM", "trajectory")
        ]
        groups = await get(client, f"{base}/spans/groups", by="trace_id")
        assert groups["data"] == [{"group": {"trace_id": "traj-1"}, "span_count": 3}]


class TestChat:
    async def test_calls_under_one_session_header_are_one_trace(self, client, base):
        def capture(prompt: int, completion: int) -> dict[str, Any]:
            return {
                "request": {"model": "m", "messages": [{"role": "user", "content": "Hi?"}]},
                "response": {
                    "id": "c", "object": "chat.completion", "created": 1767225600, "model": "m-1",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello."},
                                 "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": prompt, "completion_tokens": completion},
                },
            }

        headers = {"X-Session-Id": "chat-1"}
        spans = [ok(await client.post(f"{base}/ingest/chat-completions", json=capture(*tokens), headers=headers), 201)
                 for tokens in ((12, 4), (30, 6))]
        [trace] = (await get(client, f"{base}/traces"))["data"]
        # Calls without a trace_id share one generated trace id (ingest/test_chat.py).
        assert (len(trace["id"]), trace["session_id"], trace["root_span_id"]) == (32, "chat-1", "session")
        assert (trace["input_tokens"], trace["output_tokens"], trace["total_tokens"], trace["span_count"]) == (
            42, 10, 52, 3
        )
        calls = await get(client, f"{base}/spans", **{"filter[source]": "chat_completions", "filter[kind]": "LLM"})
        assert sorted(ids(calls, "span_id")) == sorted(s["span_id"] for s in spans)
        described = {(s["model"], s["parent_span_id"], s["trace_id"]) for s in calls["data"]}
        assert described == {("m-1", "session", trace["id"])}
        session = await get(client, f"{base}/sessions/chat-1")
        assert (session["trace_count"], session["span_count"], session["total_tokens"]) == (1, 3, 52)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/traces", None), ("GET", f"/traces/{A}", None), ("GET", "/traces/metrics", None),
        ("GET", "/spans", None),
        ("GET", f"/spans/{C1}", None), ("GET", "/spans/groups?by=trace_id", None),
        ("GET", f"/spans/{C1}/evaluator-results", None), ("GET", "/sessions/sess-1", None),
        ("GET", "/annotations", None), ("GET", "/annotations/ann-1", None), ("DELETE", "/annotations/ann-1", None),
        ("POST", "/annotations", {"kind": "note", "session_id": "s", "text": "t"}),
    ],
)
async def test_without_clickhouse_every_route_is_503(settings, base, method, path, body):
    async with client_for(settings, clickhouse_url=f"http://127.0.0.1:{free_port()}") as degraded:
        response = await degraded.request(method, f"{base}{path}", json=body)
    assert response.status_code == 503 and response.json() == {"detail": "Telemetry store unavailable."}
