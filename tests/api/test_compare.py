"""GET …/evaluations/{name}/compare and …/experiments/{name}/compare through the real app and stores:
the statistics against scipy computed from the sessions as sent, the pairing rules, unpaired test
cases, the errors, and the CSV and NDJSON renderings. Every test works in its own workspace."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import numpy as np
import pytest
from scipy import stats

from support import assert_422, create_experiment, exp_url, ingest_ok, ok, post_result_ok, problem

pytestmark = pytest.mark.asyncio
START = datetime(2026, 1, 5, 9, tzinfo=UTC)
QUICK = {"resamples": 300, "seed": 4}


def session(session_id: str, case: str | None, offset_s: int = 0, **fields: Any) -> dict[str, Any]:
    started = START + timedelta(seconds=offset_s)
    body = {"session_id": session_id, "started_at": started.isoformat(), "status": "success", **fields}
    return body | ({"test_case_id": case} if case is not None else {})


def compare_url(base: str, name: str, resource: str = "evaluations") -> str:
    return f"{base}/{resource}/{quote(name, safe='')}/compare"


async def two_runs(client, base, ours: list[dict], theirs: list[dict]) -> tuple[str, str]:
    a, b = (await create_experiment(client, base))["name"], (await create_experiment(client, base))["name"]
    await ingest_ok(client, base, a, ours)
    await ingest_ok(client, base, b, theirs)
    return a, b


def by_metric(body: dict) -> dict[str, dict]:
    return {m["metric"]: m for m in body["metrics"]}


def interval(x: np.ndarray, y: np.ndarray, resamples: int, seed: int) -> tuple[float, float]:
    result = stats.bootstrap(
        (x, y), lambda a, b, axis=-1: np.mean(a - b, axis=axis), paired=True, n_resamples=resamples,
        method="percentile", rng=np.random.default_rng(seed),
    )  # fmt: skip
    return result.confidence_interval.low, result.confidence_interval.high


async def test_statistics_match_scipy_on_the_sessions_sent(client, base):
    rng = np.random.default_rng(2026)
    n = 24
    raw: dict[str, dict[str, np.ndarray]] = {}
    runs: dict[str, list[dict]] = {}
    for side, shift in (("ours", 0.15), ("theirs", 0.0)):
        quality = np.round(rng.uniform(0, 1, n) + shift, 6)
        passed = rng.integers(0, 2, n)
        cost = np.round(rng.gamma(2.0, 0.01, n), 8)
        latency = np.round(rng.uniform(100, 900, n), 3)
        tokens_in, tokens_out = rng.integers(10, 500, n), rng.integers(1, 100, n)
        raw[side] = {
            "evaluators.quality": quality, "evaluators.passed": passed.astype(float), "cost_usd": cost,
            "latency_ms": latency, "tokens": (tokens_in + tokens_out).astype(float),
        }  # fmt: skip
        runs[side] = [
            session(
                f"{side}-{i}", f"case-{i:02d}", i, cost_usd=float(cost[i]), latency_ms=float(latency[i]),
                input_tokens=int(tokens_in[i]), output_tokens=int(tokens_out[i]),
                scores={"quality": float(quality[i]), "passed": bool(passed[i])},
            )
            for i in range(n)
        ]  # fmt: skip
    # One test case each side has alone: reported, not compared.
    runs["ours"].append(session("ours-alone", "only-ours", cost_usd=1.0))
    runs["theirs"].append(session("theirs-alone", "only-theirs", cost_usd=1.0))
    runs["theirs"].append(session("theirs-no-case", None, cost_usd=1.0))
    a, b = await two_runs(client, base, runs["ours"], runs["theirs"])

    body = ok(await client.get(compare_url(base, a), params={"baseline": b, **QUICK}))
    assert (body["evaluation"], body["baseline"]) == (a, b)
    assert body["bootstrap"] == {"resamples": 300, "seed": 4, "confidence": 0.95, "method": "percentile"}
    assert body["pairing"] == {
        "n_common": n, "n_pairs": n, "method": "in_order",
        "unpaired_evaluation": ["only-ours"], "unpaired_baseline": ["only-theirs"],
    }  # fmt: skip
    metrics = by_metric(body)
    assert list(metrics) == ["evaluators.passed", "evaluators.quality", "cost_usd", "latency_ms", "tokens"]
    raw_p = []
    for name, got in metrics.items():
        x, y = raw["ours"][name], raw["theirs"][name]
        assert got["n_common"] == n
        assert got["evaluation_mean"] == pytest.approx(x.mean()) and got["baseline_mean"] == pytest.approx(y.mean())
        assert got["mean_difference"] == pytest.approx((x - y).mean())
        assert (got["ci_low"], got["ci_high"]) == pytest.approx(interval(x, y, 300, 4))
        if name == "evaluators.passed":
            assert got["kind"] == "pass_fail"
            gained, lost = int(((x == 1) & (y == 0)).sum()), int(((x == 0) & (y == 1)).sum())
            expected = min(1.0, 2 * stats.binom.cdf(min(gained, lost), gained + lost, 0.5))
            assert got["pass_fail"]["improved"] == gained and got["pass_fail"]["regressed"] == lost
            assert got["p_value"] == pytest.approx(expected)
        else:
            assert got["kind"] == "continuous" and got["pass_fail"] is None
            assert got["p_value"] == pytest.approx(stats.wilcoxon(x, y).pvalue)
        raw_p.append(got["p_value"])
    order = np.argsort(raw_p)
    holm = np.maximum.accumulate([min(1.0, (len(raw_p) - r) * raw_p[i]) for r, i in enumerate(order)])
    assert [metrics[list(metrics)[i]]["p_value_holm"] for i in order] == pytest.approx(list(holm))
    assert metrics["cost_usd"]["higher_is_better"] is False

    # The seeds' route gives the same comparison.
    again = ok(await client.get(compare_url(base, a, "experiments"), params={"baseline": b, **QUICK}))
    assert again == body


async def test_repeats_pair_in_start_order_or_by_mean(client, base):
    # Session ids sort against start order: pairing must follow started_at.
    ours = [session("z", "q1", 0, cost_usd=1.0), session("a", "q1", 5, cost_usd=9.0)]
    theirs = [session("y", "q1", 0, cost_usd=2.0), session("b", "q1", 5, cost_usd=4.0)]
    a, b = await two_runs(client, base, ours, theirs)
    body = ok(await client.get(compare_url(base, a), params={"baseline": b, **QUICK}))
    assert body["pairing"]["method"] == "in_order" and body["pairing"]["n_pairs"] == 2
    cost = by_metric(body)["cost_usd"]
    assert sorted((m["evaluation"], m["baseline"]) for m in cost["top_movers"]) == [(1.0, 2.0), (9.0, 4.0)]
    assert (cost["improved"], cost["regressed"]) == (1, 1)

    await ingest_ok(client, base, b, [session("x", "q1", 9, cost_usd=6.0)])  # now 2 against 3
    body = ok(await client.get(compare_url(base, a), params={"baseline": b, **QUICK}))
    assert body["pairing"]["method"] == "per_test_case_mean" and body["pairing"]["n_pairs"] == 1
    cost = by_metric(body)["cost_usd"]
    assert (cost["evaluation_mean"], cost["baseline_mean"]) == (5.0, 4.0)
    assert cost["verdict"] == "no significant change"


async def test_evaluator_results_count_and_unscored_sessions_are_missing(client, base):
    a, b = await two_runs(
        client, base,
        [session("a1", "q1", scores={"judge": 0.9}), session("a2", "q2")],
        [session("b1", "q1", scores={"judge": 0.5}), session("b2", "q2")],
    )  # fmt: skip
    await post_result_ok(client, base, session_id="a2", name="judge", data_type="NUMERIC", value=0.7, experiment_name=a)
    body = ok(await client.get(compare_url(base, a), params={"baseline": b, **QUICK}))
    judge = by_metric(body)["evaluators.judge"]
    # q2 has a judge value on our side only, so one pair counts.
    assert judge["n_common"] == 1 and judge["mean_difference"] == pytest.approx(0.4)
    assert by_metric(body)["cost_usd"]["n_common"] == 0 and by_metric(body)["cost_usd"]["mean_difference"] is None


async def test_unknown_runs_and_a_missing_baseline(client, base, workspace):
    a = (await create_experiment(client, base))["name"]
    response = await client.get(compare_url(base, a), params={"baseline": "nope"})
    assert problem(response, 404) == f"Evaluation '{workspace}/nope' not found."
    response = await client.get(compare_url(base, "nope", "experiments"), params={"baseline": a})
    assert problem(response, 404) == f"Experiment '{workspace}/nope' not found."
    assert_422(await client.get(compare_url(base, a)), ("query", "baseline"))
    assert_422(await client.get(compare_url(base, a), params={"baseline": a, "resamples": 5}), ("query", "resamples"))
    # A run compared with itself: nothing moved.
    await ingest_ok(client, base, a, [session("s", "q", cost_usd=1.0)])
    body = ok(await client.get(exp_url(base, a, "/compare"), params={"baseline": a, **QUICK}))
    assert body["verdict"] == "no significant change" and by_metric(body)["cost_usd"]["unchanged"] == 1


async def test_csv_and_ndjson(client, base):
    a, b = await two_runs(
        client, base,
        [session(f"a{i}", f"q{i}", cost_usd=1.0 + i, scores={"ok": True}) for i in range(6)],
        [session(f"b{i}", f"q{i}", cost_usd=2.0 + i, scores={"ok": i % 2 == 0}) for i in range(6)],
    )  # fmt: skip
    params = {"baseline": b, **QUICK}
    body = ok(await client.get(compare_url(base, a), params=params))
    response = await client.get(compare_url(base, a), params={**params, "format": "csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["metric"] for r in rows] == [m["metric"] for m in body["metrics"]]
    ok_row = rows[0]
    assert ok_row["evaluation"] == a and ok_row["kind"] == "pass_fail" and ok_row["pass_fail.improved"] == "3"
    assert float(ok_row["mean_difference"]) == pytest.approx(body["metrics"][0]["mean_difference"])
    assert json.loads(ok_row["top_movers"]) == body["metrics"][0]["top_movers"]
    response = await client.get(compare_url(base, a), params=params, headers={"Accept": "application/x-ndjson"})
    assert response.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [{k: v for k, v in line.items() if k not in ("evaluation", "baseline")} for line in lines] == body["metrics"]
    # format= wins over Accept.
    response = await client.get(
        compare_url(base, a), params={**params, "format": "json"}, headers={"Accept": "text/csv"}
    )
    assert response.json() == body
