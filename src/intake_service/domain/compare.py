"""Comparing two runs (an evaluation against a baseline), test case by test case.

Sessions pair by test case: when every common test case has as many sessions on both sides, its
repeats pair in start order (`in_order`); otherwise each side's per-test-case mean is used
(`per_test_case_mean`), for every test case, so all pairs of one comparison mean the same thing.
Test cases on one side only are reported, never dropped silently. A metric's pairs are those where
both sides have a value (an unscored session has none).

Per metric: the mean paired difference (evaluation − baseline) with a seeded percentile bootstrap
interval, the Wilcoxon signed-rank p-value, or for a pass/fail evaluator (every paired value 0 or 1)
McNemar's exact p-value on the discordant pairs; p-values are Holm-adjusted across every metric
compared, and a metric's verdict says which way it moved when its adjusted p is below 5 %.
The statistics are scipy's and pure; `compare_evaluations` and `compare_experiments` read the runs.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio
import numpy as np

from intake_service.domain import evaluations, experiments
from intake_service.store.clickhouse.telemetry import TelemetryStore
from intake_service.store.postgres.evaluations import EvaluationRepository
from intake_service.store.postgres.experiments import ExperimentRepository
from intake_service.store.postgres.tables import Experiment


def _stats() -> Any:
    # scipy.stats takes about a second to import: paid by the first comparison, not by every start.
    from scipy import stats

    return stats

SIGNIFICANCE = 0.05
CONFIDENCE = 0.95
OPERATIONAL = ("cost_usd", "latency_ms", "tokens")  # lower is better
EVALUATOR_PREFIX = "evaluators."
BOOTSTRAP_BATCH_VALUES = 1_000_000

Verdict = Literal["improved", "regressed", "no significant change"]


@dataclass(frozen=True)
class SessionValues:
    """One session of a run: its test case and its metric values (None when it has none)."""

    test_case_id: str
    values: dict[str, float | None]


@dataclass(frozen=True)
class Pair:
    test_case_id: str
    repeat: int  # the repeat's index in start order; 0 when per-test-case means are paired
    evaluation: dict[str, float | None]
    baseline: dict[str, float | None]


@dataclass(frozen=True)
class Pairing:
    method: Literal["in_order", "per_test_case_mean"]
    common: list[str]
    unpaired_evaluation: list[str]
    unpaired_baseline: list[str]
    pairs: list[Pair]
    metrics: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Options:
    resamples: int = 2000
    seed: int = 0
    top_movers: int = 5


def _by_test_case(sessions: Iterable[SessionValues]) -> dict[str, list[dict[str, float | None]]]:
    grouped: dict[str, list[dict[str, float | None]]] = {}
    for session in sessions:
        grouped.setdefault(session.test_case_id, []).append(session.values)
    return grouped


def _mean_values(sessions: list[dict[str, float | None]], metrics: list[str]) -> dict[str, float | None]:
    """Each metric's mean over the sessions that have it; None when none has."""
    means: dict[str, float | None] = {}
    for metric in metrics:
        present = [v for s in sessions if (v := s.get(metric)) is not None]
        means[metric] = math.fsum(present) / len(present) if present else None
    return means


def pair_sessions(evaluation: list[SessionValues], baseline: list[SessionValues]) -> Pairing:
    """Pairs of the test cases both runs have; each run's sessions come in start order."""
    ours, theirs = _by_test_case(evaluation), _by_test_case(baseline)
    common = sorted(ours.keys() & theirs.keys())
    metrics = sorted({m for s in (*evaluation, *baseline) for m in s.values}, key=_metric_order)
    in_order = all(len(ours[case]) == len(theirs[case]) for case in common)
    pairs: list[Pair] = []
    for case in common:
        if in_order:
            pairs += [Pair(case, i, e, b) for i, (e, b) in enumerate(zip(ours[case], theirs[case], strict=True))]
        else:
            pairs.append(Pair(case, 0, _mean_values(ours[case], metrics), _mean_values(theirs[case], metrics)))
    return Pairing(
        method="in_order" if in_order else "per_test_case_mean",
        common=common,
        unpaired_evaluation=sorted(ours.keys() - theirs.keys()),
        unpaired_baseline=sorted(theirs.keys() - ours.keys()),
        pairs=pairs,
        metrics=metrics,
    )


def _metric_order(metric: str) -> tuple[int, str]:
    """Evaluators first (by name), then cost, latency and tokens."""
    return (OPERATIONAL.index(metric) + 1, "") if metric in OPERATIONAL else (0, metric)


# --- statistics ---------------------------------------------------------------------------------


def bootstrap_interval(differences: np.ndarray, options: Options) -> tuple[float, float]:
    """The percentile bootstrap interval of the mean difference: resampling pairs keeps each pair's
    two values together (the paired bootstrap). Seeded, so one request always gives one answer."""
    if len(differences) == 1 or np.all(differences == differences[0]):
        value = float(differences[0])
        return value, value
    result = _stats().bootstrap(
        (differences,),
        np.mean,
        n_resamples=options.resamples,
        confidence_level=CONFIDENCE,
        method="percentile",
        # Resamples in batches of about a million values: a large run never needs R × n floats at once.
        batch=max(1, BOOTSTRAP_BATCH_VALUES // len(differences)),
        rng=np.random.default_rng(options.seed),
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def wilcoxon_p(differences: np.ndarray) -> float:
    """The two-sided Wilcoxon signed-rank p-value (zero differences dropped); 1 when every
    difference is zero, as no pair moved."""
    if not np.any(differences != 0):
        return 1.0
    return float(_stats().wilcoxon(differences).pvalue)


def mcnemar_exact_p(improved: int, regressed: int) -> float:
    """McNemar's exact test: the discordant pairs against a fair coin (two-sided binomial)."""
    discordant = improved + regressed
    if discordant == 0:
        return 1.0
    return float(_stats().binomtest(min(improved, regressed), discordant, 0.5).pvalue)


def holm(p_values: list[float | None]) -> list[float | None]:
    """Holm's step-down adjustment of the p-values that are not None (the others stay None)."""
    present = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, index) in enumerate(present):
        running = max(running, min(1.0, (len(present) - rank) * p))
        adjusted[index] = running
    return adjusted


def _direction(differences: np.ndarray) -> int:
    """Which way the pairs moved, as the signed-rank test sees it: the sign of (sum of the ranks of
    the positive differences − that of the negative ones); the mean's sign on a tie."""
    nonzero = differences[differences != 0]
    ranks = _stats().rankdata(np.abs(nonzero))
    balance = float(ranks[nonzero > 0].sum() - ranks[nonzero < 0].sum())
    return int(np.sign(balance) or np.sign(differences.mean()))


# --- comparing one metric -----------------------------------------------------------------------


def compare_metric(metric: str, pairs: list[Pair], options: Options) -> dict[str, Any]:
    """Every statistic of one metric over the pairs where both sides have a value."""
    higher_is_better = metric not in OPERATIONAL
    kept = [
        (pair, e, b)
        for pair in pairs
        if (e := pair.evaluation.get(metric)) is not None and (b := pair.baseline.get(metric)) is not None
    ]
    x = np.array([e for _, e, _ in kept], dtype=float)
    y = np.array([b for _, _, b in kept], dtype=float)
    binary = bool(kept) and bool(np.all(np.isin(np.concatenate([x, y]), (0, 1))))
    pass_fail = metric.startswith(EVALUATOR_PREFIX) and binary
    body: dict[str, Any] = {
        "metric": metric,
        "kind": "pass_fail" if pass_fail else "continuous",
        "higher_is_better": higher_is_better,
        "n_common": len(kept),
        "evaluation_mean": None,
        "baseline_mean": None,
        "mean_difference": None,
        "ci_low": None,
        "ci_high": None,
        "p_value": None,
        "p_value_holm": None,
        "test": "mcnemar_exact" if pass_fail else "wilcoxon_signed_rank",
        "improved": 0,
        "regressed": 0,
        "unchanged": 0,
        "pass_fail": None,
        "top_movers": [],
        "direction": 0,
    }
    if not kept:
        return body
    differences = x - y
    better = differences > 0 if higher_is_better else differences < 0
    worse = differences < 0 if higher_is_better else differences > 0
    low, high = bootstrap_interval(differences, options)
    body |= {
        "evaluation_mean": float(x.mean()),
        "baseline_mean": float(y.mean()),
        "mean_difference": float(differences.mean()),
        "ci_low": low,
        "ci_high": high,
        "improved": int(better.sum()),
        "regressed": int(worse.sum()),
        "unchanged": int((differences == 0).sum()),
        "direction": _direction(differences) if np.any(differences != 0) else 0,
        "top_movers": _top_movers(kept, differences, options.top_movers),
    }
    if pass_fail:
        table = {
            "both_pass": int(((x == 1) & (y == 1)).sum()),
            "both_fail": int(((x == 0) & (y == 0)).sum()),
            "improved": int(((x == 1) & (y == 0)).sum()),
            "regressed": int(((x == 0) & (y == 1)).sum()),
        }
        p = mcnemar_exact_p(table["improved"], table["regressed"])
        body["pass_fail"] = table | {
            "p_value": p,
            "pass_rate_difference": body["mean_difference"],
            "ci_low": low,
            "ci_high": high,
        }
        body["p_value"] = p
    else:
        body["p_value"] = wilcoxon_p(differences)
    return body


def _top_movers(kept: list[tuple[Pair, float, float]], differences: np.ndarray, count: int) -> list[dict[str, Any]]:
    """The pairs that moved most (largest |difference|, then by test case), moved ones only."""
    order = sorted(
        (i for i in range(len(kept)) if differences[i] != 0),
        key=lambda i: (-abs(differences[i]), kept[i][0].test_case_id, kept[i][0].repeat),
    )
    return [
        {
            "test_case_id": kept[i][0].test_case_id,
            "repeat": kept[i][0].repeat,
            "evaluation": kept[i][1],
            "baseline": kept[i][2],
            "difference": float(differences[i]),
        }
        for i in order[:count]
    ]


# --- the whole comparison -----------------------------------------------------------------------


def _verdict(metric: dict[str, Any]) -> Verdict:
    p = metric["p_value_holm"]
    if p is None or p >= SIGNIFICANCE or metric["direction"] == 0:
        return "no significant change"
    moved_up = metric["direction"] > 0
    return "improved" if moved_up == metric["higher_is_better"] else "regressed"


def overall_verdict(verdicts: Iterable[str]) -> str:
    seen = set(verdicts)
    if {"improved", "regressed"} <= seen:
        return "mixed"
    for verdict in ("improved", "regressed"):
        if verdict in seen:
            return verdict
    return "no significant change"


def compare(
    evaluation: str, baseline: str, pairing: Pairing, options: Options
) -> dict[str, Any]:
    """The comparison's body (see the CompareResponse schema)."""
    metrics = [compare_metric(m, pairing.pairs, options) for m in pairing.metrics]
    for metric, adjusted in zip(metrics, holm([m["p_value"] for m in metrics]), strict=True):
        metric["p_value_holm"] = adjusted
        metric["verdict"] = _verdict(metric)
        del metric["direction"]
    return {
        "evaluation": evaluation,
        "baseline": baseline,
        "bootstrap": {
            "resamples": options.resamples,
            "seed": options.seed,
            "confidence": CONFIDENCE,
            "method": "percentile",
        },
        "pairing": {
            "n_common": len(pairing.common),
            "n_pairs": len(pairing.pairs),
            "unpaired_evaluation": pairing.unpaired_evaluation,
            "unpaired_baseline": pairing.unpaired_baseline,
            "method": pairing.method,
        },
        "significance": SIGNIFICANCE,
        "metrics": metrics,
        "verdict": overall_verdict(m["verdict"] for m in metrics),
    }


async def _compare_rows(
    telemetry: TelemetryStore, row: Experiment, baseline: Experiment, options: Options
) -> dict[str, Any]:
    runs = await telemetry.paired_values(row.workspace, [row.id, baseline.id])

    def sessions(experiment_id: str) -> list[SessionValues]:
        return [SessionValues(s["test_case_id"], s["values"]) for s in runs[experiment_id]]

    pairing = pair_sessions(sessions(row.id), sessions(baseline.id))
    # Thousands of bootstrap resamples per metric: off the event loop.
    return await anyio.to_thread.run_sync(lambda: compare(row.name, baseline.name, pairing, options))


async def compare_evaluations(
    repo: EvaluationRepository, telemetry: TelemetryStore, workspace: str, name: str, baseline: str, options: Options
) -> dict[str, Any]:
    """GET /evaluations/{name}/compare: 404 when either evaluation is not live."""
    row = await evaluations.require_live(repo, workspace, name)
    other = await evaluations.require_live(repo, workspace, baseline)
    return await _compare_rows(telemetry, row, other, options)


async def compare_experiments(
    repo: ExperimentRepository, telemetry: TelemetryStore, workspace: str, name: str, baseline: str, options: Options
) -> dict[str, Any]:
    """GET /experiments/{name}/compare: the same comparison, with the seeds' 404."""
    row = await experiments.require_live(repo, workspace, name)
    other = await experiments.require_live(repo, workspace, baseline)
    return await _compare_rows(telemetry, row, other, options)
