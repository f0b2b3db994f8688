"""Rollup SQL: recompute per-experiment rollups after ingest, and read them back.

Statistics are exact: quantileExactInclusive interpolates linearly between closest ranks, the
numbers numpy.percentile gives by default. A session's value for an evaluator is the mean of its
numeric/boolean values for it, from its own `scores` and from evaluator results alike. FINAL makes
every read correct before background merges have collapsed replaced rows.
"""

from typing import Any

from intake_service.domain.listing import STATS, RollupPath

_EVALUATOR_MAP = (
    "Map(String, Tuple(sum Float64, mean Float64, median Float64, p90 Float64, p95 Float64, p99 Float64, count UInt64))"
)


def _stats(value: str, alias: str) -> str:
    """sum, mean, median, p90, p95, p99, count of `value` in one pass (one sort for the quantiles)."""
    return (
        f"quantilesExactInclusive(0.5, 0.9, 0.95, 0.99)({value}) AS {alias}_q, "
        f"tuple(sum({value}), avg({value}), {alias}_q[1], {alias}_q[2], {alias}_q[3], {alias}_q[4], "
        f"count({value})) AS {alias}"
    )


_SCOPED = """
        SELECT experiment_id, session_id, cost_usd, latency_ms, model_name, agent_name, agent_version, scores
        FROM sessions FINAL
        WHERE workspace = {workspace:String} AND experiment_id IN {experiment_ids:Array(String)}"""

# Sessions whose scores also take in evaluator results: a session's value for an evaluator is the
# mean of all its values for it (avgMap averages each key over the rows that hold it).
_SCOPED_WITH_RESULTS = """
        SELECT experiment_id, session_id, any(cost_usd) AS cost_usd, any(latency_ms) AS latency_ms,
            any(model_name) AS model_name, any(agent_name) AS agent_name,
            any(agent_version) AS agent_version, avgMap(scores) AS scores
        FROM (
            SELECT * FROM scoped
            UNION ALL
            SELECT s.experiment_id, r.session_id, NULL, NULL, NULL, NULL, NULL, map(r.name, r.value)
            FROM (
                SELECT session_id, name, assumeNotNull(value) AS value, experiment_id
                FROM evaluator_results FINAL
                WHERE workspace = {workspace:String}
                  AND session_id IN (SELECT session_id FROM scoped)
                  AND data_type IN ('NUMERIC', 'BOOLEAN') AND value IS NOT NULL
            ) AS r
            INNER JOIN scoped AS s ON s.session_id = r.session_id
            WHERE r.experiment_id = '' OR r.experiment_id = s.experiment_id
        )
        GROUP BY experiment_id, session_id"""


def _recompute(source: str) -> str:
    """One scan over the experiments' sessions; -Map combinators give per-evaluator statistics."""
    return f"""
INSERT INTO experiment_rollups
    (workspace, experiment_id, run_count, cost, latency, evaluators, model_names, agent_names,
     agent_versions, computed_at)
WITH scoped AS ({_SCOPED})
SELECT workspace, experiment_id, run_count, cost, latency,
    CAST((mapKeys(ev_count), arrayMap(k -> tuple(ev_sum[k], ev_mean[k], ev_q[k][1], ev_q[k][2], ev_q[k][3],
        ev_q[k][4], ev_count[k]), mapKeys(ev_count))), '{_EVALUATOR_MAP}') AS evaluators,
    model_names, agent_names, agent_versions, computed_at
FROM (
    SELECT {{workspace:String}} AS workspace, experiment_id, count() AS run_count,
        {_stats("cost_usd", "cost")},
        {_stats("latency_ms", "latency")},
        sumMap(scores) AS ev_sum,
        avgMap(scores) AS ev_mean,
        quantilesExactInclusiveMap(0.5, 0.9, 0.95, 0.99)(scores) AS ev_q,
        sumMap(mapApply((k, v) -> (k, toUInt64(1)), scores)) AS ev_count,
        arraySort(groupUniqArrayIf(model_name, model_name != '')) AS model_names,
        arraySort(groupUniqArrayIf(agent_name, agent_name != '')) AS agent_names,
        arraySort(groupUniqArrayIf(agent_version, agent_version != '')) AS agent_versions,
        now64(9) AS computed_at
    FROM ({source})
    GROUP BY experiment_id
)
"""


# Two texts, chosen by whether the workspace has any evaluator results: most ingests carry their
# scores inline, and skipping the join with evaluator_results halves the cost of a recompute.
RECOMPUTE_ROLLUPS = _recompute("SELECT * FROM scoped")
RECOMPUTE_ROLLUPS_WITH_RESULTS = _recompute(_SCOPED_WITH_RESULTS)
HAS_EVALUATOR_RESULTS = """
SELECT count() AS n FROM (SELECT 1 FROM evaluator_results WHERE workspace = {workspace:String} LIMIT 1)
"""

READ_ROLLUPS = """
SELECT experiment_id, run_count, cost, latency, evaluators, model_names, agent_names, agent_versions
FROM experiment_rollups FINAL
WHERE workspace = {workspace:String} AND experiment_id IN {experiment_ids:Array(String)}
"""

# One constant text per metric family; the evaluator name and the stat travel as parameters.
METRIC_VALUES = {
    "run_count": """
        SELECT experiment_id, toFloat64(run_count) AS value
        FROM experiment_rollups FINAL WHERE workspace = {workspace:String}""",
    "cost_usd": """
        SELECT experiment_id, toNullable(toFloat64(tupleElement(cost, {stat:String}))) AS value
        FROM experiment_rollups FINAL WHERE workspace = {workspace:String} AND cost.count > 0""",
    "latency_ms": """
        SELECT experiment_id, toNullable(toFloat64(tupleElement(latency, {stat:String}))) AS value
        FROM experiment_rollups FINAL WHERE workspace = {workspace:String} AND latency.count > 0""",
    "evaluator": """
        SELECT experiment_id, toFloat64(tupleElement(evaluators[{evaluator:String}], {stat:String})) AS value
        FROM experiment_rollups FINAL
        WHERE workspace = {workspace:String} AND mapContains(evaluators, {evaluator:String})""",
}


def metric_query(path: RollupPath) -> tuple[str, dict[str, Any]]:
    assert path.stat in STATS
    params: dict[str, Any] = {"stat": path.stat}
    if path.evaluator is not None:
        params["evaluator"] = path.evaluator
    return METRIC_VALUES[path.metric], params


def _aggregate(stats: dict[str, Any] | None) -> dict[str, Any] | None:
    if not stats or not stats.get("count"):
        return None
    return {stat: stats[stat] for stat in STATS}


def to_rollups(row: dict[str, Any]) -> dict[str, Any]:
    """One experiment_rollups row → the rollup fields of an ExperimentResponse."""
    evaluators: dict[str, Any] = row["evaluators"] or {}
    return {
        "run_count": row["run_count"],
        "cost_usd": _aggregate(row["cost"]),
        "latency_ms": _aggregate(row["latency"]),
        "aggregate_scores": {name: _aggregate(stats) for name, stats in sorted(evaluators.items())},
        "evaluator_names": sorted(evaluators),
        "model_names": row["model_names"],
        "agent_names": row["agent_names"],
        "agent_versions": row["agent_versions"],
    }
