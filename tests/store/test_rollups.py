"""Rollups (CONTRACT.md section 4) against numpy: every statistic of every metric, on random data,
through the HTTP API over the real embedded PostgreSQL and chDB; and the rollup SQL run directly
through the app's chDB executor."""

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from intake_service.domain.rollup_metrics import STATS, RollupPath
from intake_service.store.clickhouse import rollups as rollup_sql
from intake_service.store.clickhouse.executor import ChdbExecutor

from support import T, app_telemetry, create_experiment, get_experiment, ingest_ok, iso, post_result_ok

T0 = datetime(2026, 1, 1, tzinfo=UTC)
EVALUATORS = ("acc", "a.b.c", "flag")
HYPOTHESIS = hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


# ---------------------------------------------------------------------------------------------------
# helpers


def expected_stats(values: list[float]) -> dict[str, Any] | None:
    if not values:
        return None
    arr = np.asarray(values, dtype=np.float64)
    return {
        "sum": float(arr.sum()),
        "mean": float(arr.mean()),
        "median": float(np.percentile(arr, 50)),
        "p90": float(np.percentile(arr, 90)),
        "p95": float(np.percentile(arr, 95)),
        "p99": float(np.percentile(arr, 99)),
        "count": len(values),
    }


def assert_stats(actual: dict[str, Any] | None, values: list[float], what: str) -> None:
    expected = expected_stats(values)
    if expected is None:
        assert actual is None, f"{what}: expected null, got {actual}"
        return
    assert actual is not None, f"{what}: expected {expected}, got null"
    assert set(actual) == set(STATS), what
    assert actual["count"] == expected["count"], what
    assert isinstance(actual["count"], int), what
    for stat in STATS:
        if stat != "count":
            assert actual[stat] == pytest.approx(expected[stat], rel=1e-9, abs=1e-12), (what, stat, values)


def session_latency(session: dict[str, Any]) -> float | None:
    if session.get("latency_ms") is not None:
        return session["latency_ms"]
    if session.get("ended_at") is not None:
        started = datetime.fromisoformat(session["started_at"].replace("Z", "+00:00"))
        ended = datetime.fromisoformat(session["ended_at"].replace("Z", "+00:00"))
        return (ended - started).total_seconds() * 1000.0
    return None


def expected_rollups(sessions: list[dict[str, Any]], results: list[dict[str, Any]]) -> dict[str, Any]:
    """The naive computation: latest copy of each session, per-session evaluator means, then stats."""
    latest: dict[str, dict[str, Any]] = {}
    for session in sessions:
        latest[session["session_id"]] = session
    per_session: dict[str, dict[str, list[float]]] = {sid: {} for sid in latest}
    for sid, session in latest.items():
        for name, value in (session.get("scores") or {}).items():
            if value is not None:
                per_session[sid].setdefault(name, []).append(float(value))
    final_results: dict[tuple[str, str, str], dict[str, Any]] = {}
    for r in results:
        final_results[(r["session_id"], r.get("span_id", ""), r["name"])] = r
    for r in final_results.values():
        if r["data_type"] in ("NUMERIC", "BOOLEAN") and r["session_id"] in per_session:
            per_session[r["session_id"]].setdefault(r["name"], []).append(float(r["value"]))
    evaluators: dict[str, list[float]] = {}
    for values in per_session.values():
        for name, vals in values.items():
            evaluators.setdefault(name, []).append(sum(vals) / len(vals))

    def distinct(field: str) -> list[str]:
        return sorted({s[field] for s in latest.values() if s.get(field)})

    return {
        "run_count": len(latest),
        "cost": [s["cost_usd"] for s in latest.values() if s.get("cost_usd") is not None],
        "latency": [v for v in (session_latency(s) for s in latest.values()) if v is not None],
        "evaluators": evaluators,
        "model_names": distinct("model_name"),
        "agent_names": distinct("agent_name"),
        "agent_versions": distinct("agent_version"),
    }


def assert_rollups(body: dict[str, Any], expected: dict[str, Any]) -> None:
    assert body["run_count"] == expected["run_count"]
    assert_stats(body["cost_usd"], expected["cost"], "cost_usd")
    assert_stats(body["latency_ms"], expected["latency"], "latency_ms")
    assert set(body["aggregate_scores"]) == set(expected["evaluators"])
    for name, values in expected["evaluators"].items():
        assert_stats(body["aggregate_scores"][name], values, f"evaluators.{name}")
    assert body["evaluator_names"] == sorted(expected["evaluators"])
    assert body["model_names"] == expected["model_names"]
    assert body["agent_names"] == expected["agent_names"]
    assert body["agent_versions"] == expected["agent_versions"]


# ---------------------------------------------------------------------------------------------------
# random data

score_value = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(min_value=0, max_value=1, allow_nan=False),
    st.integers(min_value=0, max_value=100),
    st.floats(min_value=0, max_value=1e6, allow_nan=False),
)
name_value = st.sampled_from([None, "", "m-a", "m-b", "Model Ü"])


@st.composite
def session_strategy(draw: st.DrawFn, index: int) -> dict[str, Any]:
    started = T0 + timedelta(microseconds=draw(st.integers(0, 10**12)))
    session: dict[str, Any] = {"session_id": f"s{index}", "started_at": iso(started)}
    timing = draw(st.sampled_from(["none", "latency", "ended", "both"]))
    if timing in ("latency", "both"):
        session["latency_ms"] = draw(st.floats(min_value=0, max_value=1e7, allow_nan=False))
    if timing in ("ended", "both"):
        session["ended_at"] = iso(started + timedelta(microseconds=draw(st.integers(0, 10**10))))
    if draw(st.booleans()):
        session["cost_usd"] = draw(st.one_of(st.none(), st.floats(min_value=0, max_value=1e4, allow_nan=False)))
    for field in ("model_name", "agent_name", "agent_version"):
        value = draw(name_value)
        if value is not None or draw(st.booleans()):
            session[field] = value
    session["scores"] = draw(st.dictionaries(st.sampled_from(EVALUATORS), score_value, max_size=3))
    return session


@st.composite
def experiment_data(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    count = draw(st.integers(min_value=1, max_value=25))
    sessions = [draw(session_strategy(i)) for i in range(count)]
    results = []
    for j in range(draw(st.integers(min_value=0, max_value=6))):
        data_type = draw(st.sampled_from(["NUMERIC", "BOOLEAN", "CATEGORICAL", "TEXT"]))
        r: dict[str, Any] = {
            "session_id": f"s{draw(st.integers(0, count - 1))}",
            "span_id": f"span-{j}",
            "name": draw(st.sampled_from(EVALUATORS)),
            "data_type": data_type,
        }
        if data_type == "NUMERIC":
            r["value"] = draw(st.floats(min_value=0, max_value=1e3, allow_nan=False))
        elif data_type == "BOOLEAN":
            r["value"] = draw(st.sampled_from([0, 1]))
        else:
            # A number on a CATEGORICAL/TEXT result must still not feed rollups.
            r["string_value"] = "label"
            r["value"] = draw(st.sampled_from([None, 7.0]))
        results.append(r)
    return sessions, results


@HYPOTHESIS
@given(data=experiment_data())
async def test_every_statistic_matches_numpy(client, base, data) -> None:
    sessions, results = data
    experiment = await create_experiment(client, base)
    name = experiment["name"]
    # Two requests, so rollups are recomputed over what is already stored, not only the new batch.
    half = len(sessions) // 2
    if half:
        await ingest_ok(client, base, name, sessions[:half])
    await ingest_ok(client, base, name, sessions[half:])
    for r in results:
        await post_result_ok(client, base, experiment_name=name, **r)
    body = await get_experiment(client, base, name)
    assert_rollups(body, expected_rollups(sessions, results))
    # The list carries the same rollups as GET.
    listed = await client.get(f"{base}/experiments", params={"filter[name]": name})
    assert listed.status_code == 200
    [row] = listed.json()["data"]
    assert {k: row[k] for k in body if k != "updated_at"} == {k: body[k] for k in body if k != "updated_at"}


# ---------------------------------------------------------------------------------------------------
# the named cases


async def test_empty_experiment(client, base) -> None:
    body = await create_experiment(client, base)
    for payload in (body, await get_experiment(client, base, body["name"])):
        assert payload["run_count"] == 0
        assert payload["aggregate_scores"] == {}
        assert payload["cost_usd"] is None
        assert payload["latency_ms"] is None
        assert payload["evaluator_names"] == []
        assert payload["model_names"] == payload["agent_names"] == payload["agent_versions"] == []


async def test_single_session(client, base) -> None:
    name = (await create_experiment(client, base))["name"]
    session = {
        "session_id": "only", "started_at": "2026-01-01T00:00:00Z", "latency_ms": 12.345,
        "cost_usd": 0.0000123, "scores": {"acc": 0.7}, "model_name": "m",
    }  # fmt: skip
    await ingest_ok(client, base, name, [session])
    body = await get_experiment(client, base, name)
    assert body["run_count"] == 1
    one = {"sum": 0.7, "mean": 0.7, "median": 0.7, "p90": 0.7, "p95": 0.7, "p99": 0.7, "count": 1}
    assert body["aggregate_scores"] == {"acc": one}
    # Kept as sent: no rounding to micro-dollars or whole milliseconds.
    assert body["cost_usd"] == {**{k: 0.0000123 for k in one}, "count": 1}
    assert body["latency_ms"] == {**{k: 12.345 for k in one}, "count": 1}


async def test_all_null_cost_and_latency(client, base) -> None:
    name = (await create_experiment(client, base))["name"]
    sessions = [
        {"session_id": "a", "started_at": "2026-01-01T00:00:00Z", "cost_usd": None},
        {"session_id": "b", "started_at": "2026-01-01T00:00:00Z"},
    ]
    await ingest_ok(client, base, name, sessions)
    body = await get_experiment(client, base, name)
    assert body["run_count"] == 2
    assert body["cost_usd"] is None
    assert body["latency_ms"] is None
    assert body["aggregate_scores"] == {}


async def test_booleans_count_as_zero_and_one(client, base) -> None:
    name = (await create_experiment(client, base))["name"]
    sessions = [
        {"session_id": str(i), "started_at": "2026-01-01T00:00:00Z", "scores": {"ok": flag}}
        for i, flag in enumerate([True, False, True, True])
    ]
    await ingest_ok(client, base, name, sessions)
    await post_result_ok(client, base, experiment_name=name, session_id="1", name="ok", data_type="BOOLEAN", value=1)
    body = await get_experiment(client, base, name)
    # session 1: mean(0, 1) = 0.5
    assert_stats(body["aggregate_scores"]["ok"], [1.0, 0.5, 1.0, 1.0], "ok")


async def test_null_scores_are_ignored(client, base) -> None:
    name = (await create_experiment(client, base))["name"]
    sessions = [
        {"session_id": "a", "started_at": "2026-01-01T00:00:00Z", "scores": {"acc": None, "f1": 0.5}},
        {"session_id": "b", "started_at": "2026-01-01T00:00:00Z", "scores": {"acc": 0.25}},
        {"session_id": "c", "started_at": "2026-01-01T00:00:00Z", "scores": {"acc": None}},
    ]
    await ingest_ok(client, base, name, sessions)
    body = await get_experiment(client, base, name)
    assert_stats(body["aggregate_scores"]["acc"], [0.25], "acc")
    assert_stats(body["aggregate_scores"]["f1"], [0.5], "f1")
    assert body["evaluator_names"] == ["acc", "f1"]


async def test_dotted_evaluator_names(client, base) -> None:
    name = (await create_experiment(client, base))["name"]
    values = [0.1, 0.9, 0.4]
    sessions = [
        {"session_id": str(i), "started_at": "2026-01-01T00:00:00Z", "scores": {"a.b.c": v, "a.b": 1 - v}}
        for i, v in enumerate(values)
    ]
    await ingest_ok(client, base, name, sessions)
    body = await get_experiment(client, base, name)
    assert body["evaluator_names"] == ["a.b", "a.b.c"]
    assert_stats(body["aggregate_scores"]["a.b.c"], values, "a.b.c")
    assert_stats(body["aggregate_scores"]["a.b"], [1 - v for v in values], "a.b")


async def test_per_session_mean_of_scores_and_results(client, base) -> None:
    name = (await create_experiment(client, base))["name"]
    sessions = [
        {"session_id": "a", "started_at": "2026-01-01T00:00:00Z", "scores": {"acc": 1.0}},
        {"session_id": "b", "started_at": "2026-01-01T00:00:00Z", "scores": {"acc": 0.0}},
    ]
    await ingest_ok(client, base, name, sessions)
    for span, value in (("x", 0.5), ("y", 0.0)):
        await post_result_ok(client, base, experiment_name=name, session_id="a", span_id=span, name="acc",
                     data_type="NUMERIC", value=value)  # fmt: skip
    body = await get_experiment(client, base, name)
    # a: mean(1.0, 0.5, 0.0) = 0.5, b: 0.0 — two sessions, not four values.
    assert_stats(body["aggregate_scores"]["acc"], [0.5, 0.0], "acc")


async def test_categorical_and_text_results_are_ignored(client, base) -> None:
    name = (await create_experiment(client, base))["name"]
    await ingest_ok(client, base, name, [{"session_id": "a", "started_at": T, "scores": {"acc": 0.2}}])
    await post_result_ok(client, base, experiment_name=name, session_id="a", name="acc", data_type="CATEGORICAL",
                 string_value="good", value=9.0)  # fmt: skip
    await post_result_ok(client, base, experiment_name=name, session_id="a", name="tone", data_type="TEXT",
                 string_value="polite")  # fmt: skip
    body = await get_experiment(client, base, name)
    assert body["evaluator_names"] == ["acc"]
    assert_stats(body["aggregate_scores"]["acc"], [0.2], "acc")


async def test_latency_from_ended_minus_started(client, base) -> None:
    name = (await create_experiment(client, base))["name"]
    sessions = [
        # 1.5 s and a quarter of a millisecond: fractions of a millisecond are kept.
        {"session_id": "a", "started_at": "2026-01-01T00:00:00Z", "ended_at": "2026-01-01T00:00:01.500250Z"},
        # Offsets are honoured: ends 2 s after it starts.
        {"session_id": "b", "started_at": "2026-01-01T02:00:00+02:00", "ended_at": "2026-01-01T00:00:02Z"},
        # An explicit latency wins over the timestamps.
        {"session_id": "c", "started_at": "2026-01-01T00:00:00Z", "ended_at": "2026-01-01T00:00:09Z",
         "latency_ms": 3.0},
        {"session_id": "d", "started_at": "2026-01-01T00:00:00Z"},
    ]  # fmt: skip
    await ingest_ok(client, base, name, sessions)
    body = await get_experiment(client, base, name)
    assert_stats(body["latency_ms"], [1500.25, 2000.0, 3.0], "latency_ms")


async def test_names_distinct_sorted_non_empty(client, base) -> None:
    name = (await create_experiment(client, base))["name"]
    specs = [
        ("m-b", "agent", "2.0"),
        ("m-a", "", "1.0"),
        ("m-b", None, "1.0"),
        ("", "Agent", None),
        (None, "agent", "10"),
    ]
    sessions = []
    for i, (model, agent, version) in enumerate(specs):
        s: dict[str, Any] = {"session_id": str(i), "started_at": "2026-01-01T00:00:00Z"}
        for field, value in (("model_name", model), ("agent_name", agent), ("agent_version", version)):
            if value is not None:
                s[field] = value
        sessions.append(s)
    await ingest_ok(client, base, name, sessions)
    body = await get_experiment(client, base, name)
    assert body["model_names"] == ["m-a", "m-b"]
    assert body["agent_names"] == ["Agent", "agent"]
    assert body["agent_versions"] == ["1.0", "10", "2.0"]


async def test_resent_session_replaces_its_values(client, base) -> None:
    name = (await create_experiment(client, base))["name"]
    first = {
        "session_id": "a",
        "started_at": "2026-01-01T00:00:00Z",
        "cost_usd": 1.0,
        "scores": {"acc": 0.0},
        "model_name": "old",
    }
    await ingest_ok(client, base, name, [first, {"session_id": "b", "started_at": T, "cost_usd": 3.0}])
    await ingest_ok(client, base, name, [{**first, "cost_usd": 2.0, "scores": {"acc": 1.0}, "model_name": "new"}])
    body = await get_experiment(client, base, name)
    assert body["run_count"] == 2
    assert_stats(body["cost_usd"], [2.0, 3.0], "cost_usd")
    assert_stats(body["aggregate_scores"]["acc"], [1.0], "acc")
    assert body["model_names"] == ["new"]


# ---------------------------------------------------------------------------------------------------
# the rollup SQL through chDB directly


async def test_rollup_sql_through_chdb(app, client, base, workspace) -> None:
    telemetry = await app_telemetry(app)
    assert isinstance(telemetry.executor, ChdbExecutor)
    rng = np.random.default_rng(7)
    experiment = await create_experiment(client, base)
    n = 57
    acc = rng.random(n)
    cost = rng.random(n) * 10
    latency = rng.random(n) * 1000
    sessions = [
        {"session_id": f"s{i}", "started_at": "2026-01-01T00:00:00Z", "cost_usd": float(cost[i]),
         "latency_ms": float(latency[i]), "scores": {"x.acc": float(acc[i])}}
        for i in range(n)
    ]  # fmt: skip
    await ingest_ok(client, base, experiment["name"], sessions)

    # The repository read, and the raw SQL text through the synchronous chDB executor.
    by_id = await telemetry.rollups(workspace, [experiment["id"]])
    rollups = by_id[experiment["id"]]
    assert rollups["run_count"] == n
    assert_stats(rollups["aggregate_scores"]["x.acc"], list(acc), "x.acc")
    assert_stats(rollups["cost_usd"], list(cost), "cost")
    assert_stats(rollups["latency_ms"], list(latency), "latency")
    await telemetry.stale.refresh(workspace)  # the computed row is stored off the read's path
    raw = telemetry.executor.query(
        rollup_sql.READ_ROLLUPS, {"workspace": workspace, "experiment_ids": [experiment["id"]]}
    )
    assert len(raw) == 1 and raw[0]["run_count"] == n

    # Recomputing again (same SQL, same data) changes nothing, and the read stays one row (FINAL).
    await telemetry.recompute_rollups(workspace, [experiment["id"]])
    assert await telemetry.rollups(workspace, [experiment["id"]]) == by_id

    # The leaderboard metric query gives the same numbers as the rollup row.
    expected = expected_stats(list(acc))
    assert expected is not None
    for stat in STATS:
        values = (await telemetry.metric_values(workspace, RollupPath("evaluators", stat, "x.acc"))).by_id
        assert values[experiment["id"]] == pytest.approx(expected[stat], rel=1e-9, abs=1e-12), stat
    cost_expected = expected_stats(list(cost))
    assert cost_expected is not None
    for stat in STATS:
        values = (await telemetry.metric_values(workspace, RollupPath("cost_usd", stat))).by_id
        assert values[experiment["id"]] == pytest.approx(cost_expected[stat], rel=1e-9, abs=1e-12), stat
    assert (await telemetry.metric_values(workspace, RollupPath("run_count"))).by_id[experiment["id"]] == n
    # No value for an evaluator nobody reported: absent, not zero.
    nope = await telemetry.metric_values(workspace, RollupPath("evaluators", "mean", "nope"))
    assert experiment["id"] not in nope.ids
