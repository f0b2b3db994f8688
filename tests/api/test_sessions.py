"""Session ingest, evaluator results and session listing over HTTP (CONTRACT.md section 4), against the
real app, the embedded PostgreSQL and chDB. Every test works in its own fresh workspace."""

import asyncio
import uuid
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from support import (
    T,
    assert_422,
    create_experiment,
    exp_url,
    get_experiment,
    ingest,
    ingest_ok,
    ok,
    post_result,
    sessions_of,
    workspace_base,
)

SESSION_FIELDS = {
    "workspace",
    "experiment_name",
    "session_id",
    "test_case_id",
    "trace_id",
    "root_span_id",
    "started_at",
    "ended_at",
    "latency_ms",
    "status",
    "model_name",
    "agent_name",
    "agent_version",
    "input_tokens",
    "output_tokens",
    "cached_tokens",
    "cost_usd",
    "cost_total_usd",
    "input",
    "evaluator_scores",
}


def session(sid: str, **fields: Any) -> dict[str, Any]:
    return {"session_id": sid, "started_at": T, **fields}


def ndjson(sessions: list[dict[str, Any]]) -> bytes:
    return b"\n".join(orjson.dumps(s) for s in sessions) + b"\n"


# ---------------------------------------------------------------------------------------------------
# ingest


class TestIngest:
    async def test_json_body(self, client, base) -> None:
        name = (await create_experiment(client, base))["name"]
        response = await ingest(client, base, name, [session("a"), session("b")])
        assert response.status_code == 201
        assert response.json() == {"accepted": 2}
        # Read-your-writes: the very next read includes the ingest.
        assert (await get_experiment(client, base, name))["run_count"] == 2
        assert (await sessions_of(client, base, name))["pagination"]["total_results"] == 2

    @pytest.mark.parametrize("content_type", ["application/x-ndjson", "application/x-ndjson; charset=utf-8"])
    async def test_ndjson_body(self, client, base, content_type) -> None:
        name = (await create_experiment(client, base))["name"]
        body = ndjson([session("a", cost_usd=1.5), session("b"), session("c")]).replace(b"\n", b"\n\n", 1)
        response = await client.post(
            exp_url(base, name, "/sessions"), content=body, headers={"content-type": content_type}
        )
        assert response.status_code == 201, response.text
        assert response.json() == {"accepted": 3}
        body = await get_experiment(client, base, name)
        assert body["run_count"] == 3
        assert body["cost_usd"]["sum"] == 1.5

    async def test_resent_session_replaces_it(self, client, base) -> None:
        name = (await create_experiment(client, base))["name"]
        await ingest_ok(
            client, base, name, [session("a", cost_usd=1.0, status="error", scores={"acc": 0.0}), session("b")]
        )
        await ingest_ok(client, base, name, [session("a", cost_usd=5.0, status="success", scores={"acc": 1.0})])
        body = await get_experiment(client, base, name)
        assert body["run_count"] == 2
        assert body["cost_usd"]["sum"] == 5.0
        assert body["aggregate_scores"]["acc"]["mean"] == 1.0
        rows = {r["session_id"]: r for r in (await sessions_of(client, base, name))["data"]}
        assert set(rows) == {"a", "b"}
        assert rows["a"]["status"] == "success"
        assert rows["a"]["cost_usd"] == 5.0
        assert rows["a"]["evaluator_scores"] == {"acc": 1.0}

    async def test_duplicate_in_one_request_last_copy_wins(self, client, base) -> None:
        name = (await create_experiment(client, base))["name"]
        await ingest_ok(client, base, name, [session("a", cost_usd=1.0), session("a", cost_usd=2.0)])
        body = await get_experiment(client, base, name)
        assert body["run_count"] == 1
        assert body["cost_usd"]["sum"] == 2.0

    async def test_retry_never_double_counts(self, client, base) -> None:
        name = (await create_experiment(client, base))["name"]
        batch = [session(str(i), cost_usd=float(i), scores={"acc": i / 10}) for i in range(10)]
        for _ in range(3):
            await ingest_ok(client, base, name, batch)
        body = await get_experiment(client, base, name)
        assert body["run_count"] == 10
        assert body["cost_usd"]["sum"] == 45.0
        assert body["aggregate_scores"]["acc"]["count"] == 10

    async def test_concurrent_ingests_all_count(self, client, base) -> None:
        name = (await create_experiment(client, base))["name"]
        batches = [[session(f"b{b}-{i}", cost_usd=1.0, scores={"acc": 0.5}) for i in range(5)] for b in range(8)]
        responses = await asyncio.gather(*(ingest(client, base, name, batch) for batch in batches))
        assert [r.status_code for r in responses] == [201] * 8
        body = await get_experiment(client, base, name)
        assert body["run_count"] == 40
        assert body["cost_usd"]["sum"] == 40.0
        assert body["aggregate_scores"]["acc"]["count"] == 40

    async def test_unknown_experiment_404(self, client, base, workspace) -> None:
        response = await ingest(client, base, "nope", [session("a")])
        assert response.status_code == 404
        assert response.json() == {"detail": f"Experiment '{workspace}/nope' not found."}

    async def test_deleted_experiment_404(self, client, base, workspace) -> None:
        name = (await create_experiment(client, base))["name"]
        assert (await client.delete(exp_url(base, name))).status_code == 204
        response = await ingest(client, base, name, [session("a")])
        assert response.status_code == 404
        assert response.json() == {"detail": f"Experiment '{workspace}/{name}' not found."}
        listed = await client.get(exp_url(base, name, "/sessions"))
        assert listed.status_code == 404

    async def test_delete_and_recreate_does_not_mix_sessions(self, client, base) -> None:
        old = await create_experiment(client, base, "same name")
        await ingest_ok(client, base, "same name", [session("a", cost_usd=1.0, scores={"acc": 1.0})])
        assert (await client.delete(exp_url(base, "same name"))).status_code == 204
        new = await create_experiment(client, base, "same name")
        assert new["id"] != old["id"]
        assert new["run_count"] == 0
        assert new["aggregate_scores"] == {} and new["cost_usd"] is None
        assert (await sessions_of(client, base, "same name"))["data"] == []
        await ingest_ok(client, base, "same name", [session("b", cost_usd=2.0)])
        body = await get_experiment(client, base, "same name")
        assert body["run_count"] == 1
        assert body["cost_usd"]["sum"] == 2.0
        assert body["aggregate_scores"] == {}
        # A NeMo-style result (no experiment_name) for the old session id lands nowhere live.
        assert (
            await post_result(client, base, session_id="a", name="acc", data_type="NUMERIC", value=0.5)
        ).status_code == 201
        assert (await get_experiment(client, base, "same name"))["aggregate_scores"] == {}
        deleted = await client.get(f"{base}/experiments", params={"filter[is_deleted]": "true"})
        [row] = deleted.json()["data"]
        assert row["id"] == old["id"]
        assert row["run_count"] == 1

    async def test_numbers_kept_as_sent(self, client, base) -> None:
        name = (await create_experiment(client, base))["name"]
        values = [
            0.1,
            1 / 3,
            2.2250738585072014e-308,
            1.7976931348623157e308,
            123456.78901234567,
            5e-324,
            0.30000000000000004,
        ]
        await ingest_ok(client, base, name, [session(f"s{i}", cost_usd=v, latency_ms=v) for i, v in enumerate(values)])
        rows = {r["session_id"]: r for r in (await sessions_of(client, base, name))["data"]}
        for i, v in enumerate(values):
            assert rows[f"s{i}"]["cost_usd"] == v
            assert rows[f"s{i}"]["latency_ms"] == v

    @hsettings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(value=st.floats(min_value=0, allow_nan=False, allow_infinity=False))
    async def test_any_float_round_trips_exactly(self, client, base, value) -> None:
        name = (await create_experiment(client, base))["name"]
        await ingest_ok(client, base, name, [session("a", cost_usd=value, scores={"x": value})])
        [row] = (await sessions_of(client, base, name))["data"]
        assert row["cost_usd"] == value
        assert row["evaluator_scores"] == {"x": value}

    async def test_text_fields_round_trip(self, client, base) -> None:
        name = (await create_experiment(client, base))["name"]
        tricky = "tab\there, new\nline, quote ' and \" and back\\slash \\N, ünïcode ✓, {curly}"
        s = session(
            tricky,
            test_case_id=tricky,
            model_name=tricky,
            agent_name=tricky,
            agent_version=tricky,
            input=tricky,
            output=tricky,
            metadata={"k": tricky},
            scores={tricky: 0.5},
        )
        await ingest_ok(client, base, name, [s])
        page = await sessions_of(client, base, name, **{"filter[test_case_id]": tricky})
        [row] = page["data"]
        assert row["session_id"] == row["test_case_id"] == row["model_name"] == row["input"] == tricky
        assert row["evaluator_scores"] == {tricky: 0.5}
        body = await get_experiment(client, base, name)
        assert body["model_names"] == [tricky]
        assert body["evaluator_names"] == [tricky]

    async def test_timestamps_in_utc_with_microseconds(self, client, base) -> None:
        name = (await create_experiment(client, base))["name"]
        await ingest_ok(
            client,
            base,
            name,
            [
                {
                    "session_id": "a",
                    "started_at": "2026-03-01T12:00:00.123456+02:00",
                    "ended_at": "2026-03-01T10:00:01.5Z",
                },
            ],
        )
        [row] = (await sessions_of(client, base, name))["data"]
        assert row["started_at"].replace("+00:00", "Z") == "2026-03-01T10:00:00.123456Z"
        assert row["ended_at"].replace("+00:00", "Z") in ("2026-03-01T10:00:01.500000Z", "2026-03-01T10:00:01.5Z")
        assert row["latency_ms"] == pytest.approx(1376.544, rel=1e-12)


class TestIngestValidation:
    async def _unchanged(self, client, base, name: str, before: dict[str, Any]) -> None:
        after = await get_experiment(client, base, name)
        for key in ("run_count", "cost_usd", "aggregate_scores", "model_names"):
            assert after[key] == before[key], key
        listed = await sessions_of(client, base, name)
        assert listed["pagination"]["total_results"] == before["run_count"]

    async def test_bad_session_in_the_middle_stores_nothing(self, client, base) -> None:
        name = (await create_experiment(client, base))["name"]
        await ingest_ok(client, base, name, [session("keep", cost_usd=1.0)])
        before = await get_experiment(client, base, name)
        batch = [session("x1", cost_usd=9.0), session("x2", model_name="m"), {"session_id": "x3"}, session("x4")]
        response = await ingest(client, base, name, batch)
        assert_422(response, ("body", "sessions", 2))
        await self._unchanged(client, base, name, before)

    async def test_ndjson_bad_line_names_its_index(self, client, base) -> None:
        name = (await create_experiment(client, base))["name"]
        body = ndjson([session("a"), session("b", bogus=1), session("c")])
        response = await client.post(
            exp_url(base, name, "/sessions"), content=body, headers={"content-type": "application/x-ndjson"}
        )
        assert_422(response, ("body", "sessions", 1))
        assert (await get_experiment(client, base, name))["run_count"] == 0
        broken = b'{"session_id": "a", "started_at": "2026-01-01T00:00:00Z"}\n{not json\n'
        response = await client.post(
            exp_url(base, name, "/sessions"), content=broken, headers={"content-type": "application/x-ndjson"}
        )
        assert_422(response, ("body", 1))
        assert (await get_experiment(client, base, name))["run_count"] == 0

    @pytest.mark.parametrize(
        "bad, field",
        [
            ({"bogus": 1}, "bogus"),
            ({"status": "weird"}, "status"),
            ({"cost_usd": -1}, "cost_usd"),
            ({"latency_ms": -0.5}, "latency_ms"),
            ({"input_tokens": -1}, "input_tokens"),
            ({"started_at": "2026-01-01T00:00:00"}, "started_at"),  # no offset
            ({"started_at": "yesterday"}, "started_at"),
            ({"ended_at": "2025-12-31T23:59:59Z"}, "ended_at"),
            ({"scores": {"acc": "high"}}, "scores"),
            ({"session_id": ""}, "session_id"),
            ({"metadata": {"big": "x" * 70_000}}, "metadata"),
        ],
    )
    async def test_bad_fields_422_with_index(self, client, base, bad, field) -> None:
        name = (await create_experiment(client, base))["name"]
        response = await ingest(client, base, name, [session("ok"), {**session("bad"), **bad}])
        assert_422(response, ("body", "sessions", 1, field))
        assert (await get_experiment(client, base, name))["run_count"] == 0

    async def test_missing_required_fields(self, client, base) -> None:
        name = (await create_experiment(client, base))["name"]
        missing_id = await ingest(client, base, name, [session("a"), {"started_at": T}])
        assert_422(missing_id, ("body", "sessions", 1, "session_id"))
        assert_422(await ingest(client, base, name, [{"session_id": "a"}]), ("body", "sessions", 0, "started_at"))

    @pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
    async def test_non_finite_numbers_422(self, client, base, literal) -> None:
        name = (await create_experiment(client, base))["name"]
        for field in ("cost_usd", "latency_ms"):
            raw = f'{{"sessions":[{{"session_id":"a","started_at":"2026-01-01T00:00:00Z","{field}":{literal}}}]}}'
            response = await client.post(
                exp_url(base, name, "/sessions"), content=raw, headers={"content-type": "application/json"}
            )
            assert_422(response)
        raw = f'{{"session_id":"a","started_at":"2026-01-01T00:00:00Z","scores":{{"acc":{literal}}}}}'
        response = await client.post(
            exp_url(base, name, "/sessions"), content=raw, headers={"content-type": "application/x-ndjson"}
        )
        assert_422(response)
        assert (await get_experiment(client, base, name))["run_count"] == 0

    @pytest.mark.parametrize("field", ["input_tokens", "output_tokens", "cached_tokens"])
    async def test_token_counts_beyond_int64_422(self, client, base, field) -> None:
        """A count ClickHouse cannot hold is the caller's error (422), not an outage (503) or a 500."""
        name = (await create_experiment(client, base))["name"]
        response = await ingest(client, base, name, [session("a"), session("b", **{field: 2**63})])
        assert_422(response, ("body", "sessions", 1, field))
        assert (await get_experiment(client, base, name))["run_count"] == 0
        await ingest_ok(client, base, name, [session("c", **{field: 2**63 - 1})])
        [row] = (await sessions_of(client, base, name))["data"]
        assert row[field] == 2**63 - 1

    async def test_metadata_with_huge_integer_is_not_a_500(self, client, base) -> None:
        name = (await create_experiment(client, base))["name"]
        response = await ingest(client, base, name, [session("a", metadata={"big": 2**64})])
        assert response.status_code in (201, 422), response.text

    @pytest.mark.parametrize(
        "body",
        [b"", b"[]", b'{"sessions": {}}', b'{"sessions": [], "extra": 1}', b"not json", b'{"session": []}'],
    )
    async def test_malformed_bodies_422(self, client, base, body) -> None:
        name = (await create_experiment(client, base))["name"]
        response = await client.post(
            exp_url(base, name, "/sessions"), content=body, headers={"content-type": "application/json"}
        )
        assert_422(response)

    async def test_over_10000_sessions_413(self, client, base) -> None:
        name = (await create_experiment(client, base))["name"]
        many = [{"session_id": str(i), "started_at": T} for i in range(10_001)]
        response = await ingest(client, base, name, many)
        assert response.status_code == 413
        assert isinstance(response.json()["detail"], str)
        response = await client.post(
            exp_url(base, name, "/sessions"), content=ndjson(many), headers={"content-type": "application/x-ndjson"}
        )
        assert response.status_code == 413
        assert (await get_experiment(client, base, name))["run_count"] == 0
        # Exactly the limit is fine.
        await ingest_ok(client, base, name, many[:10_000])
        assert (await get_experiment(client, base, name))["run_count"] == 10_000

    async def test_over_32_mib_413(self, client, base) -> None:
        name = (await create_experiment(client, base))["name"]
        limit = 32 * 1024 * 1024
        padding = "x" * (limit // 4)
        # Four valid sessions whose JSON passes 32 MiB: an honest Content-Length.
        body = orjson.dumps({"sessions": [session(str(i), input=padding) for i in range(5)]})
        assert len(body) > limit
        response = await client.post(
            exp_url(base, name, "/sessions"), content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code == 413
        assert isinstance(response.json()["detail"], str)
        del body

        # The same without a Content-Length (chunked): refused once the streamed size passes the limit.
        async def chunks():
            yield b'{"sessions": ['
            chunk = orjson.dumps(session("c", input="y" * (1024 * 1024))) + b","
            for _ in range(33):
                yield chunk
            yield orjson.dumps(session("end")) + b"]}"

        response = await client.post(
            exp_url(base, name, "/sessions"), content=chunks(), headers={"content-type": "application/json"}
        )
        assert response.status_code == 413
        assert (await get_experiment(client, base, name))["run_count"] == 0


# ---------------------------------------------------------------------------------------------------
# evaluator results


class TestEvaluatorResults:
    async def test_created_in_nemo_shape(self, client, base, workspace) -> None:
        name = (await create_experiment(client, base))["name"]
        await ingest_ok(client, base, name, [session("s1")])
        response = await post_result(
            client,
            base,
            session_id="s1",
            span_id="sp",
            name="acc",
            data_type="NUMERIC",
            value=0.25,
            comment="ok",
            experiment_name=name,
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["workspace"] == workspace
        assert body["session_id"] == "s1" and body["span_id"] == "sp" and body["name"] == "acc"
        assert body["value"] == 0.25 and body["data_type"] == "NUMERIC" and body["comment"] == "ok"
        assert body["experiment_name"] == name
        assert body["evaluator_result_id"] and body["created_at"]
        assert (await get_experiment(client, base, name))["aggregate_scores"]["acc"]["mean"] == 0.25

    async def test_same_session_span_name_replaces(self, client, base) -> None:
        name = (await create_experiment(client, base))["name"]
        await ingest_ok(client, base, name, [session("s1")])
        ids = set()
        for value in (0.1, 0.9, 0.6):
            response = await post_result(
                client,
                base,
                session_id="s1",
                span_id="sp",
                name="acc",
                data_type="NUMERIC",
                value=value,
                experiment_name=name,
            )
            assert response.status_code == 201
            ids.add(response.json()["evaluator_result_id"])
        assert len(ids) == 1
        acc = (await get_experiment(client, base, name))["aggregate_scores"]["acc"]
        assert acc["count"] == 1 and acc["mean"] == 0.6
        [row] = (await sessions_of(client, base, name))["data"]
        assert row["evaluator_scores"] == {"acc": 0.6}
        # Another span is another result: the session's value is the mean of both.
        await post_result(
            client,
            base,
            session_id="s1",
            span_id="other",
            name="acc",
            data_type="NUMERIC",
            value=0.0,
            experiment_name=name,
        )
        acc = (await get_experiment(client, base, name))["aggregate_scores"]["acc"]
        assert acc["count"] == 1 and acc["mean"] == pytest.approx(0.3)

    async def test_with_experiment_name_counts_only_there(self, client, base) -> None:
        a = (await create_experiment(client, base))["name"]
        b = (await create_experiment(client, base))["name"]
        for name in (a, b):
            await ingest_ok(client, base, name, [session("shared")])
        r = await post_result(
            client, base, session_id="shared", name="acc", data_type="NUMERIC", value=1.0, experiment_name=a
        )
        assert r.status_code == 201
        assert (await get_experiment(client, base, a))["aggregate_scores"]["acc"]["mean"] == 1.0
        assert (await get_experiment(client, base, b))["aggregate_scores"] == {}
        # Still so after b's rollups are recomputed over its sessions (a re-ingest).
        await ingest_ok(client, base, b, [session("shared"), session("more")])
        assert (await get_experiment(client, base, b))["aggregate_scores"] == {}
        rows = (await sessions_of(client, base, b))["data"]
        assert [row["evaluator_scores"] for row in rows] == [{}, {}]

    async def test_same_key_in_two_experiments_does_not_clobber(self, client, base) -> None:
        """Sessions of the same id in two experiments are two sessions: a result scoped to one
        experiment must not replace the other experiment's result for its own session."""
        a = (await create_experiment(client, base))["name"]
        b = (await create_experiment(client, base))["name"]
        for name in (a, b):
            await ingest_ok(client, base, name, [session("case-1")])
        for name, value in ((a, 0.2), (b, 0.8)):
            r = await post_result(
                client, base, session_id="case-1", name="acc", data_type="NUMERIC", value=value, experiment_name=name
            )
            assert r.status_code == 201
        # Recompute both experiments' rollups with a harmless re-ingest, then read.
        for name in (a, b):
            await ingest_ok(client, base, name, [session("case-1")])
        assert (await get_experiment(client, base, a))["aggregate_scores"]["acc"]["mean"] == 0.2
        assert (await get_experiment(client, base, b))["aggregate_scores"]["acc"]["mean"] == 0.8
        [row] = (await sessions_of(client, base, a))["data"]
        assert row["evaluator_scores"] == {"acc": 0.2}

    async def test_without_experiment_name_counts_in_every_live_experiment(self, client, base) -> None:
        a = (await create_experiment(client, base))["name"]
        b = (await create_experiment(client, base))["name"]
        c = (await create_experiment(client, base))["name"]
        sid = str(uuid.uuid4())
        for name in (a, b):
            await ingest_ok(client, base, name, [session(sid), session("other")])
        await ingest_ok(client, base, c, [session("other")])
        r = await post_result(client, base, session_id=sid, name="acc", data_type="BOOLEAN", value=1)
        assert r.status_code == 201
        assert r.json()["experiment_name"] is None
        for name in (a, b):
            acc = (await get_experiment(client, base, name))["aggregate_scores"]["acc"]
            assert acc["count"] == 1 and acc["sum"] == 1.0
            rows = {row["session_id"]: row for row in (await sessions_of(client, base, name))["data"]}
            assert rows[sid]["evaluator_scores"] == {"acc": 1.0}
            assert rows["other"]["evaluator_scores"] == {}
        assert (await get_experiment(client, base, c))["aggregate_scores"] == {}

    async def test_workspaces_are_isolated(self, client, base) -> None:
        other = workspace_base(f"ws-{uuid.uuid4().hex[:12]}")
        sid = str(uuid.uuid4())
        for b in (base, other):
            await create_experiment(client, b, "same")
            await ingest_ok(client, b, "same", [session(sid)])
        assert (
            await post_result(client, base, session_id=sid, name="acc", data_type="NUMERIC", value=1.0)
        ).status_code == 201
        assert (await get_experiment(client, base, "same"))["aggregate_scores"]["acc"]["count"] == 1
        assert (await get_experiment(client, other, "same"))["aggregate_scores"] == {}
        [row] = (await sessions_of(client, other, "same"))["data"]
        assert row["evaluator_scores"] == {}

    async def test_result_before_its_session(self, client, base) -> None:
        """A result may arrive before the session: it counts once the session is ingested."""
        name = (await create_experiment(client, base))["name"]
        sid = str(uuid.uuid4())
        assert (
            await post_result(client, base, session_id=sid, name="acc", data_type="NUMERIC", value=0.4)
        ).status_code == 201
        assert (
            await post_result(
                client, base, session_id="scoped", name="acc", data_type="NUMERIC", value=0.6, experiment_name=name
            )
        ).status_code == 201
        assert (await get_experiment(client, base, name))["aggregate_scores"] == {}
        await ingest_ok(client, base, name, [session(sid), session("scoped")])
        acc = (await get_experiment(client, base, name))["aggregate_scores"]["acc"]
        assert acc["count"] == 2 and acc["sum"] == pytest.approx(1.0)

    @pytest.mark.parametrize(
        "body",
        [
            {"data_type": "NUMERIC"},
            {"data_type": "BOOLEAN"},
            {"data_type": "BOOLEAN", "value": 2},
            {"data_type": "BOOLEAN", "value": 0.5},
            {"data_type": "TEXT"},
            {"data_type": "CATEGORICAL", "value": 1},
        ],
    )
    async def test_400s(self, client, base, body) -> None:
        response = await post_result(client, base, session_id="s", name="acc", **body)
        assert response.status_code == 400, response.text
        assert isinstance(response.json()["detail"], str)

    async def test_unknown_or_deleted_experiment_name_400(self, client, base) -> None:
        response = await post_result(
            client, base, session_id="s", name="acc", data_type="NUMERIC", value=1, experiment_name="nope"
        )
        assert response.status_code == 400
        assert isinstance(response.json()["detail"], str)
        name = (await create_experiment(client, base))["name"]
        await client.delete(exp_url(base, name))
        response = await post_result(
            client, base, session_id="s", name="acc", data_type="NUMERIC", value=1, experiment_name=name
        )
        assert response.status_code == 400

    @pytest.mark.parametrize(
        "body",
        [
            {"session_id": "s", "name": "acc", "data_type": "NUMERIC", "value": 1, "bogus": True},
            {"session_id": "s", "name": "acc", "data_type": "FLOAT", "value": 1},
            {"session_id": "s", "name": "acc", "value": 1},
            {"name": "acc", "data_type": "NUMERIC", "value": 1},
            {"session_id": "s", "data_type": "NUMERIC", "value": 1},
            {"session_id": "s", "name": "acc", "data_type": "NUMERIC", "value": "high"},
        ],
    )
    async def test_422s(self, client, base, body) -> None:
        assert_422(await post_result(client, base, **body), ("body",))

    async def test_non_finite_value_rejected(self, client, base) -> None:
        raw = '{"session_id":"s","name":"acc","data_type":"NUMERIC","value":NaN}'
        response = await client.post(
            f"{base}/evaluator-results", content=raw, headers={"content-type": "application/json"}
        )
        assert response.status_code in (400, 422)


# ---------------------------------------------------------------------------------------------------
# session listing


class TestSessionListing:
    async def _fixture(self, client, base) -> str:
        name = (await create_experiment(client, base))["name"]
        sessions = [
            session(
                "s0",
                started_at="2026-01-01T00:00:03Z",
                latency_ms=30.0,
                cost_usd=None,
                status="success",
                test_case_id="t1",
            ),
            session(
                "s1",
                started_at="2026-01-01T00:00:01Z",
                latency_ms=None,
                cost_usd=0.5,
                status="error",
                test_case_id="t2",
            ),
            session(
                "s2",
                started_at="2026-01-01T00:00:02Z",
                latency_ms=10.0,
                cost_usd=0.1,
                status="success",
                test_case_id="t1",
                scores={"acc": 1.0, "f": True},
            ),
            session("s3", started_at="2026-01-01T00:00:04Z", latency_ms=20.0, cost_usd=0.3, test_case_id="t3"),
            session(
                "s4",
                started_at="2026-01-01T00:00:00Z",
                ended_at="2026-01-01T00:00:00.005Z",
                cost_usd=None,
                status="cancelled",
                model_name="m",
                agent_name="ag",
                agent_version="1",
                input_tokens=1,
                output_tokens=2,
                cached_tokens=3,
                input="hi",
                output="hello",
            ),
        ]
        await ingest_ok(client, base, name, sessions)
        await post_result(
            client, base, session_id="s2", span_id="x", name="acc", data_type="NUMERIC", value=0.0, experiment_name=name
        )
        return name

    async def test_row_shape_and_default_sort(self, client, base, workspace) -> None:
        name = await self._fixture(client, base)
        page = await sessions_of(client, base, name)
        assert [r["session_id"] for r in page["data"]] == ["s4", "s1", "s2", "s0", "s3"]
        assert page["sort"] == "started_at"
        assert page["pagination"] == {
            "page": 1,
            "page_size": 100,
            "current_page_size": 5,
            "total_pages": 1,
            "total_results": 5,
        }
        for row in page["data"]:
            assert set(row) == SESSION_FIELDS
            assert row["workspace"] == workspace and row["experiment_name"] == name
            # Ingested in bulk, without spans: the session is its own trace and root (SDK 0.2.0 reads both).
            assert row["trace_id"] == row["root_span_id"] == row["session_id"]
            assert row["cost_total_usd"] == row["cost_usd"]  # SDK 0.2.0's name for it
        rows = {r["session_id"]: r for r in page["data"]}
        assert rows["s2"]["evaluator_scores"] == {"acc": 0.5, "f": 1.0}
        assert rows["s0"]["evaluator_scores"] == {}
        assert rows["s3"]["status"] == "unknown"
        s4 = rows["s4"]
        assert (s4["model_name"], s4["agent_name"], s4["agent_version"]) == ("m", "ag", "1")
        assert (s4["input_tokens"], s4["output_tokens"], s4["cached_tokens"], s4["input"]) == (1, 2, 3, "hi")
        assert s4["latency_ms"] == pytest.approx(5.0)

    @pytest.mark.parametrize(
        "sort, expected",
        [
            ("started_at", ["s4", "s1", "s2", "s0", "s3"]),
            ("-started_at", ["s3", "s0", "s2", "s1", "s4"]),
            ("latency_ms", ["s4", "s2", "s3", "s0", "s1"]),
            ("-latency_ms", ["s0", "s3", "s2", "s4", "s1"]),
            ("cost_usd", ["s2", "s3", "s1", "s0", "s4"]),
            ("-cost_usd", ["s1", "s3", "s2", "s0", "s4"]),
        ],
    )
    async def test_sort_nulls_last(self, client, base, sort, expected) -> None:
        name = await self._fixture(client, base)
        page = await sessions_of(client, base, name, sort=sort)
        assert [r["session_id"] for r in page["data"]] == expected
        assert page["sort"] == sort

    async def test_a_span_built_session_names_its_trace_and_root(self, client, base) -> None:
        name = (await create_experiment(client, base))["name"]
        trajectory = {
            "schema_version": "ATIF-v1.5", "session_id": "traj-7", "agent": {"name": "bot", "version": "1"},
            "experiment_context": {"experiment_id": name, "test_case_id": "t1"},
            "steps": [{"step_id": 1, "source": "user", "message": "hi", "timestamp": "2026-03-01T10:00:00Z"}],
        }  # fmt: skip
        ok(await client.post(f"{base}/ingest/atif", json=trajectory), 201)
        [row] = (await sessions_of(client, base, name))["data"]
        # A trajectory's spans name no trace: its session is its trace, as GET /traces lists it.
        assert (row["session_id"], row["trace_id"], row["root_span_id"]) == ("traj-7", "traj-7", "trajectory")
        assert ok(await client.get(f"{base}/traces/traj-7"))["root_span_id"] == "trajectory"

    async def test_paging(self, client, base) -> None:
        name = await self._fixture(client, base)
        seen = []
        for number in (1, 2, 3):
            page = await sessions_of(client, base, name, page=number, page_size=2)
            assert page["pagination"]["total_results"] == 5
            assert page["pagination"]["total_pages"] == 3
            assert page["pagination"]["current_page_size"] == (2 if number < 3 else 1)
            seen += [r["session_id"] for r in page["data"]]
        assert seen == ["s4", "s1", "s2", "s0", "s3"]
        past = await sessions_of(client, base, name, page=9, page_size=2)
        assert past["data"] == [] and past["pagination"]["total_results"] == 5
        # An offset beyond any integer type is still just a page past the end.
        far = await sessions_of(client, base, name, page=10**19, page_size=1000)
        assert far["data"] == [] and far["pagination"]["total_results"] == 5

    async def test_filters(self, client, base) -> None:
        name = await self._fixture(client, base)
        page = await sessions_of(client, base, name, **{"filter[test_case_id]": "t1"})
        assert [r["session_id"] for r in page["data"]] == ["s2", "s0"]
        assert page["pagination"]["total_results"] == 2
        page = await sessions_of(client, base, name, **{"filter[status]": "success"})
        assert [r["session_id"] for r in page["data"]] == ["s2", "s0"]
        page = await sessions_of(client, base, name, **{"filter[status]": "unknown"})
        assert [r["session_id"] for r in page["data"]] == ["s3"]
        page = await sessions_of(client, base, name, **{"filter[status]": "success", "filter[test_case_id]": "t2"})
        assert page["data"] == [] and page["pagination"]["total_results"] == 0
        assert page["pagination"]["total_pages"] == 0

    async def test_empty_experiment(self, client, base) -> None:
        name = (await create_experiment(client, base))["name"]
        page = await sessions_of(client, base, name)
        assert page["data"] == []
        assert page["pagination"]["total_results"] == 0 and page["pagination"]["total_pages"] == 0

    @pytest.mark.parametrize(
        "params, loc",
        [
            ({"filter[status]": "bad"}, "filter[status]"),
            ({"bogus": "1"}, "bogus"),
            ({"filter[model_name]": "m"}, "filter[model_name]"),
            ({"sort": "nope"}, "sort"),
            ({"sort": "-"}, "sort"),
            ({"page": "0"}, "page"),
            ({"page_size": "1001"}, "page_size"),
            ({"page_size": "0"}, "page_size"),
        ],
    )
    async def test_422(self, client, base, params, loc) -> None:
        name = (await create_experiment(client, base))["name"]
        response = await client.get(exp_url(base, name, "/sessions"), params=params)
        assert_422(response, ("query", loc))

    async def test_unknown_experiment_404(self, client, base, workspace) -> None:
        response = await client.get(exp_url(base, "missing", "/sessions"))
        assert response.status_code == 404
        assert response.json() == {"detail": f"Experiment '{workspace}/missing' not found."}


async def test_a_nul_in_an_experiment_name_is_an_unknown_experiment_not_a_500(client, base) -> None:
    """No experiment can be named with a NUL, so PostgreSQL is not asked (it would refuse the text)."""
    result = {"session_id": "s", "name": "acc", "data_type": "NUMERIC", "value": 1, "experiment_name": "a\u0000b"}
    response = await client.post(f"{base}/evaluator-results", json=result)
    assert response.status_code == 400, response.text
    assert response.json() == {"detail": "Experiment 'a\u0000b' must be created before it can be logged."}


async def test_an_evaluator_result_for_a_deleted_experiment_says_so(client, base) -> None:
    assert (await client.post(f"{base}/experiments", json={"name": "gone", "dataset_name": "d"})).status_code == 201
    assert (await client.delete(f"{base}/experiments/gone")).status_code == 204
    result = {"session_id": "s", "name": "acc", "data_type": "NUMERIC", "value": 1, "experiment_name": "gone"}
    response = await client.post(f"{base}/evaluator-results", json=result)
    assert response.status_code == 400, response.text
    assert response.json() == {"detail": "Experiment 'gone' has been deleted and cannot accept new sessions."}
