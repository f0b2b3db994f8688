"""SDK 0.3.0 evaluation rollups against a naive Python computation of the 0.3.0 definition, on
random sessions, test cases and evaluator results, through the HTTP API over the real stores."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from intake_service.domain.rollup_metrics import STATS

from support import app_telemetry, ingest_ok, iso, ok, post_result_ok

T0 = datetime(2026, 1, 1, tzinfo=UTC)
EVALUATORS = ("acc", "a.b")
QUANTILES = {"median": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99}
HYPOTHESIS = hsettings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

amounts = st.none() | st.integers(0, 10_000).map(lambda cents: cents / 100)
counts = st.none() | st.integers(0, 5_000)


def exact_quantile(values: list[float], level: float) -> float:
    """An element of the set, as ClickHouse's quantileExact takes it: the one at floor(level * n)."""
    ordered = sorted(values)
    return ordered[min(int(level * len(ordered)), len(ordered) - 1)]


def statistics(values: list[float]) -> dict[str, Any] | None:
    if not values:
        return None
    return {
        "sum": sum(values),
        "mean": sum(values) / len(values),
        **{name: exact_quantile(values, level) for name, level in QUANTILES.items()},
        "count": len(values),
    }


def mean_or_none(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def expected(sessions: list[dict[str, Any]], results: list[dict[str, Any]]) -> dict[str, Any]:
    """The 0.3.0 definition, written out plainly."""
    cases: dict[str, list[dict[str, Any]]] = {}
    for session in sessions:
        if session.get("test_case_id"):
            cases.setdefault(session["test_case_id"], []).append(session)

    def tokens(session: dict[str, Any]) -> float | None:
        parts = [session.get("input_tokens"), session.get("output_tokens")]
        return None if all(p is None for p in parts) else sum(p or 0 for p in parts)

    def session_scores(session: dict[str, Any]) -> dict[str, float]:
        values: dict[str, list[float]] = {}
        for name, value in (session.get("scores") or {}).items():
            if value is not None:
                values.setdefault(name, []).append(float(value))
        for result in results:
            if result["session_id"] == session["session_id"]:
                values.setdefault(result["name"], []).append(result["value"])
        return {name: sum(v) / len(v) for name, v in values.items()}

    rollups: dict[str, Any] = {"run_count": len(sessions), "test_case_count": len(cases)}
    for metric, value_of in (
        ("cost_usd", lambda s: s.get("cost_usd")),
        ("latency_ms", lambda s: s.get("latency_ms")),
        ("tokens", tokens),
    ):
        per_case = [mean_or_none([value_of(s) for s in members]) for members in cases.values()]
        rollups[metric] = statistics([v for v in per_case if v is not None])
    scored = {case: [session_scores(s) for s in members] for case, members in cases.items()}
    names = {name for per_session in scored.values() for scores in per_session for name in scores}
    rollups["aggregate_scores"] = {
        name: statistics(
            [sum(s.get(name, 0.0) for s in per_session) / len(per_session) for per_session in scored.values()]
        )
        for name in names
    }
    return rollups


@st.composite
def evaluation_data(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    sessions = []
    for index in range(draw(st.integers(0, 12))):
        session: dict[str, Any] = {"session_id": f"s{index}", "started_at": iso(T0 + timedelta(seconds=index))}
        test_case = draw(st.sampled_from([None, "A", "B", "C", "D"]))
        if test_case:
            session["test_case_id"] = test_case
        for field, strategy in (
            ("cost_usd", amounts),
            ("latency_ms", amounts),
            ("input_tokens", counts),
            ("output_tokens", counts),
        ):
            value = draw(strategy)
            if value is not None:
                session[field] = value
        scores = draw(
            st.dictionaries(st.sampled_from(EVALUATORS), st.none() | st.booleans() | st.floats(0, 1, width=32))
        )
        if scores:
            session["scores"] = scores
        sessions.append(session)
    results = []
    if sessions:
        for _ in range(draw(st.integers(0, 4))):
            session = draw(st.sampled_from(sessions))
            results.append({
                "session_id": session["session_id"], "span_id": f"span-{uuid.uuid4().hex[:6]}",
                "name": draw(st.sampled_from(EVALUATORS)), "data_type": "NUMERIC",
                "value": draw(st.integers(0, 100).map(lambda v: v / 100)),
            })  # fmt: skip
    return sessions, results


def assert_statistics(actual: dict[str, Any] | None, wanted: dict[str, Any] | None, what: str) -> None:
    if wanted is None:
        assert actual is None, (what, actual)
        return
    assert actual is not None and set(actual) == set(STATS), (what, actual)
    assert actual["count"] == wanted["count"], (what, actual, wanted)
    for stat in STATS:
        assert actual[stat] == pytest.approx(wanted[stat], rel=1e-9, abs=1e-9), (what, stat, actual, wanted)


@HYPOTHESIS
@given(data=evaluation_data())
async def test_rollups_match_the_0_3_0_definition(client, base, data) -> None:
    sessions, results = data
    group = ok(await client.post(f"{base}/experiment-groups", json={"name": f"grp-{uuid.uuid4().hex[:8]}"}), 201)["id"]
    name = f"ev-{uuid.uuid4().hex[:8]}"
    ok(
        await client.post(f"{base}/evaluations", json={"name": name, "dataset_name": "d", "experiment_ids": [group]}),
        201,
    )
    if sessions:
        await ingest_ok(client, base, name, sessions)
    for result in results:
        await post_result_ok(client, base, experiment_name=name, **result)
    body = ok(await client.get(f"{base}/evaluations/{name}"))
    wanted = expected(sessions, results)
    assert (body["run_count"], body["test_case_count"]) == (wanted["run_count"], wanted["test_case_count"])
    for metric in ("cost_usd", "latency_ms", "tokens"):
        assert_statistics(body[metric], wanted[metric], metric)
    assert set(body["aggregate_scores"]) == set(wanted["aggregate_scores"])
    for evaluator, stats in wanted["aggregate_scores"].items():
        assert_statistics(body["aggregate_scores"][evaluator], stats, evaluator)


async def test_rollups_are_kept_in_memory_until_a_session_or_result_changes_them(client, base, app, workspace) -> None:
    group = ok(await client.post(f"{base}/experiment-groups", json={"name": f"grp-{uuid.uuid4().hex[:8]}"}), 201)["id"]
    name = f"ev-{uuid.uuid4().hex[:8]}"
    body = {"name": name, "dataset_name": "d", "experiment_ids": [group]}
    evaluation_id = ok(await client.post(f"{base}/evaluations", json=body), 201)["id"]
    session = {"session_id": "s1", "test_case_id": "t1", "started_at": iso(T0), "cost_usd": 1.0, "scores": {"acc": 1}}
    await ingest_ok(client, base, name, [session])

    async def read() -> dict[str, Any]:
        return ok(await client.get(f"{base}/evaluations/{name}"))

    assert (await read())["cost_usd"]["sum"] == 1.0
    # The sessions gone from ClickHouse (only this process writes them): the read does not ask again.
    executor = (await app_telemetry(app)).executor
    params = {"workspace": workspace, "experiment_id": evaluation_id}
    executor.command(
        "DELETE FROM sessions WHERE workspace = {workspace:String} AND experiment_id = {experiment_id:String}", params
    )
    assert (await read())["cost_usd"]["sum"] == 1.0

    await ingest_ok(client, base, name, [{**session, "session_id": "s2", "cost_usd": 2.0, "scores": {}}])
    assert (await read())["cost_usd"]["sum"] == 2.0  # read again: s1 is gone, s2 is in
    assert (await read())["aggregate_scores"] == {}
    result = {"session_id": "s2", "span_id": "sp", "name": "acc", "data_type": "NUMERIC", "value": 0.25}
    await post_result_ok(client, base, experiment_name=name, **result)
    assert (await read())["aggregate_scores"]["acc"]["mean"] == 0.25
