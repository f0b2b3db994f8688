"""domain.compare against scipy computed independently from the raw per-test-case values: the paired
bootstrap (scipy's paired=True form), Wilcoxon on the two samples, McNemar's exact p-value from the
binomial distribution, and Holm's adjustment from its step-down definition."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from intake_service.domain.compare import Options, SessionValues, compare, holm, overall_verdict, pair_sessions

OPTIONS = Options(resamples=500, seed=11, top_movers=3)


def run(values: dict[str, list[float | None]], cases: list[str]) -> list[SessionValues]:
    """One session per test case, the metric values of the i-th test case in position i."""
    return [SessionValues(case, {m: v[i] for m, v in values.items()}) for i, case in enumerate(cases)]


def metric(body: dict, name: str) -> dict:
    return next(m for m in body["metrics"] if m["metric"] == name)


def scipy_interval(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    result = stats.bootstrap(
        (x, y), lambda a, b, axis=-1: np.mean(a - b, axis=axis), paired=True, n_resamples=OPTIONS.resamples,
        confidence_level=0.95, method="percentile", rng=np.random.default_rng(OPTIONS.seed),
    )  # fmt: skip
    return result.confidence_interval.low, result.confidence_interval.high


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_continuous_metrics_match_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(8, 60))
    cases = [f"case-{i:03d}" for i in range(n)]
    score_b, score_a = rng.normal(0.5, 0.2, n), rng.normal(0.5, 0.2, n) + rng.normal(0.1, 0.1, n)
    cost_b, cost_a = rng.gamma(2, 0.01, n), rng.gamma(2, 0.01, n)
    evaluation = run({"evaluators.quality": list(score_a), "cost_usd": list(cost_a)}, cases)
    baseline = run({"evaluators.quality": list(score_b), "cost_usd": list(cost_b)}, cases)
    body = compare("a", "b", pair_sessions(evaluation, baseline), OPTIONS)

    p_values = []
    for name, x, y in (("evaluators.quality", score_a, score_b), ("cost_usd", cost_a, cost_b)):
        got = metric(body, name)
        assert got["kind"] == "continuous" and got["n_common"] == n
        assert got["evaluation_mean"] == pytest.approx(x.mean())
        assert got["baseline_mean"] == pytest.approx(y.mean())
        assert got["mean_difference"] == pytest.approx((x - y).mean())
        assert (got["ci_low"], got["ci_high"]) == pytest.approx(scipy_interval(x, y))
        assert got["p_value"] == pytest.approx(stats.wilcoxon(x, y).pvalue)
        higher = name.startswith("evaluators.")
        assert got["higher_is_better"] is higher
        assert got["improved"] == int(((x > y) if higher else (x < y)).sum())
        assert got["regressed"] == int(((x < y) if higher else (x > y)).sum())
        assert got["improved"] + got["regressed"] + got["unchanged"] == n
        movers = np.argsort(-np.abs(x - y), kind="stable")[: OPTIONS.top_movers]
        assert [m["test_case_id"] for m in got["top_movers"]] == [cases[i] for i in movers]
        p_values.append(got["p_value"])
    adjusted = sorted(p_values)
    expected = [min(1.0, 2 * adjusted[0]), min(1.0, max(2 * adjusted[0], adjusted[1]))]
    assert sorted(m["p_value_holm"] for m in body["metrics"]) == pytest.approx(expected)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 1)), min_size=2, max_size=80))
def test_pass_fail_matches_mcnemar_exact(outcomes: list[tuple[int, int]]) -> None:
    cases = [f"t{i:03d}" for i in range(len(outcomes))]  # sorted as listed: pairs come by test case
    x = np.array([a for a, _ in outcomes], dtype=float)
    y = np.array([b for _, b in outcomes], dtype=float)
    body = compare(
        "a", "b", pair_sessions(run({"evaluators.pass": list(x)}, cases), run({"evaluators.pass": list(y)}, cases)),
        OPTIONS,
    )
    got = metric(body, "evaluators.pass")
    assert got["kind"] == "pass_fail" and got["test"] == "mcnemar_exact"
    gained, lost = int(((x == 1) & (y == 0)).sum()), int(((x == 0) & (y == 1)).sum())
    table = got["pass_fail"]
    assert (table["improved"], table["regressed"]) == (gained, lost)
    assert table["both_pass"] + table["both_fail"] + gained + lost == len(outcomes)
    # The exact test from its definition: twice the smaller tail of Binomial(b + c, 1/2), at most 1.
    expected = 1.0 if gained + lost == 0 else min(1.0, 2 * stats.binom.cdf(min(gained, lost), gained + lost, 0.5))
    assert table["p_value"] == pytest.approx(expected) and got["p_value"] == table["p_value"]
    assert table["pass_rate_difference"] == pytest.approx(x.mean() - y.mean())
    if len(set(x - y)) > 1:
        assert (table["ci_low"], table["ci_high"]) == pytest.approx(scipy_interval(x, y))


def holm_by_definition(p: list[float]) -> list[float]:
    """The smallest level at which Holm's step-down procedure rejects each hypothesis."""
    m = len(p)
    levels = sorted({min(1.0, q * k) for q in p for k in range(1, m + 1)} | {1.0})

    def rejected(alpha: float) -> set[int]:
        out: set[int] = set()
        for rank, i in enumerate(sorted(range(m), key=lambda i: p[i])):
            if min(1.0, p[i] * (m - rank)) > alpha:
                break
            out.add(i)
        return out

    return [next(a for a in levels if i in rejected(a) or a == 1.0) for i in range(m)]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=7))
def test_holm_is_the_step_down_procedure(p: list[float]) -> None:
    got = holm([*p, None])
    assert got[-1] is None
    assert got[:-1] == pytest.approx(holm_by_definition(p))


def test_repeats_pair_in_start_order_when_counts_match() -> None:
    evaluation = [SessionValues("q1", {"cost_usd": 1.0}), SessionValues("q1", {"cost_usd": 5.0})]
    baseline = [SessionValues("q1", {"cost_usd": 2.0}), SessionValues("q1", {"cost_usd": 3.0})]
    pairing = pair_sessions(evaluation, baseline)
    assert pairing.method == "in_order"
    assert [(p.evaluation["cost_usd"], p.baseline["cost_usd"]) for p in pairing.pairs] == [(1.0, 2.0), (5.0, 3.0)]


def test_unequal_repeats_pair_per_test_case_means_and_unpaired_cases_are_listed() -> None:
    evaluation = [
        SessionValues("q1", {"cost_usd": 1.0, "evaluators.ok": 1.0}),
        SessionValues("q1", {"cost_usd": 3.0, "evaluators.ok": None}),
        SessionValues("q2", {"cost_usd": 4.0, "evaluators.ok": 0.0}),
        SessionValues("only-ours", {"cost_usd": 9.0}),
    ]
    baseline = [
        SessionValues("q1", {"cost_usd": 10.0, "evaluators.ok": 0.0}),
        SessionValues("q2", {"cost_usd": 4.0, "evaluators.ok": 1.0}),
        SessionValues("q2", {"cost_usd": 6.0, "evaluators.ok": 0.0}),
        SessionValues("only-theirs", {"cost_usd": 9.0}),
    ]
    pairing = pair_sessions(evaluation, baseline)
    assert pairing.method == "per_test_case_mean"
    assert (pairing.unpaired_evaluation, pairing.unpaired_baseline) == (["only-ours"], ["only-theirs"])
    means = {p.test_case_id: (p.evaluation, p.baseline) for p in pairing.pairs}
    assert means["q1"] == ({"cost_usd": 2.0, "evaluators.ok": 1.0}, {"cost_usd": 10.0, "evaluators.ok": 0.0})
    assert means["q2"] == ({"cost_usd": 4.0, "evaluators.ok": 0.0}, {"cost_usd": 5.0, "evaluators.ok": 0.5})
    body = compare("a", "b", pairing, OPTIONS)
    assert metric(body, "evaluators.ok")["kind"] == "continuous"  # 0.5 is no pass/fail value
    assert body["pairing"]["n_common"] == 2


def test_verdicts_follow_direction_and_holm() -> None:
    n = 40
    cases = [f"c{i}" for i in range(n)]
    rng = np.random.default_rng(5)
    base = rng.uniform(0.2, 0.4, n)
    evaluation = run({"evaluators.q": list(base + 0.3), "latency_ms": list(base * 1000 + 200)}, cases)
    baseline = run({"evaluators.q": list(base), "latency_ms": list(base * 1000)}, cases)
    body = compare("a", "b", pair_sessions(evaluation, baseline), OPTIONS)
    assert metric(body, "evaluators.q")["verdict"] == "improved"
    assert metric(body, "latency_ms")["verdict"] == "regressed"  # slower is worse
    assert body["verdict"] == "mixed"
    same = compare("a", "a", pair_sessions(baseline, baseline), OPTIONS)
    assert {m["verdict"] for m in same["metrics"]} == {"no significant change"}
    assert all(m["p_value"] == 1.0 and m["ci_low"] == m["ci_high"] == 0 for m in same["metrics"])
    assert same["verdict"] == "no significant change"


def test_overall_verdict() -> None:
    words = ("improved", "regressed", "no significant change")
    for combination in itertools.product(words, repeat=2):
        got = overall_verdict(combination)
        if set(combination) == {"improved", "regressed"}:
            assert got == "mixed"
        elif "improved" in combination or "regressed" in combination:
            assert got in combination
        else:
            assert got == "no significant change"


def test_seeded_bootstrap_is_reproducible() -> None:
    rng = np.random.default_rng(9)
    cases = [f"c{i}" for i in range(25)]
    ours, theirs = (run({"tokens": list(rng.normal(size=25))}, cases) for _ in range(2))
    pairing = pair_sessions(ours, theirs)
    first, again = compare("a", "b", pairing, OPTIONS), compare("a", "b", pairing, OPTIONS)
    other = compare("a", "b", pairing, Options(resamples=500, seed=12))
    assert metric(first, "tokens") == metric(again, "tokens")
    assert metric(first, "tokens")["ci_low"] != metric(other, "tokens")["ci_low"]
