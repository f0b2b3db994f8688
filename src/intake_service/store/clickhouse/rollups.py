"""Rollup SQL: recompute per-experiment rollups after ingest, and read them back.

Statistics are exact: quantileExactInclusive interpolates linearly between closest ranks, the
numbers numpy.percentile gives by default. A session's value for an evaluator is the mean of its
numeric/boolean values for it, from its own `scores` and from evaluator results alike. FINAL makes
every read correct before background merges have collapsed replaced rows.
"""

from typing import Any

from intake_service.domain.listing import STATS, RollupPath

_STATS_OF = """tuple(
        sum({v}), avg({v}),
        if(count({v}) = 0, NULL, quantileExactInclusive(0.5)({v})),
        if(count({v}) = 0, NULL, quantileExactInclusive(0.9)({v})),
        if(count({v}) = 0, NULL, quantileExactInclusive(0.95)({v})),
        if(count({v}) = 0, NULL, quantileExactInclusive(0.99)({v})),
        count({v}))"""

RECOMPUTE_ROLLUPS = f"""
INSERT INTO experiment_rollups
WITH
    scoped AS (
        SELECT experiment_id, session_id, cost_usd, latency_ms, model_name, agent_name, agent_version, scores
        FROM sessions FINAL
        WHERE workspace = {{workspace:String}} AND experiment_id IN {{experiment_ids:Array(String)}}
    ),
    external_scores AS (
        SELECT s.experiment_id AS experiment_id, r.session_id AS session_id, r.name AS name, r.value AS value
        FROM (
            SELECT session_id, name, value, experiment_id
            FROM evaluator_results FINAL
            WHERE workspace = {{workspace:String}}
              AND session_id IN (SELECT session_id FROM scoped)
              AND data_type IN ('NUMERIC', 'BOOLEAN') AND value IS NOT NULL
        ) AS r
        INNER JOIN scoped AS s ON s.session_id = r.session_id
        WHERE r.experiment_id = '' OR r.experiment_id = s.experiment_id
    ),
    session_scores AS (
        SELECT experiment_id, session_id, name, avg(value) AS value
        FROM (
            SELECT experiment_id, session_id, pair.1 AS name, pair.2 AS value
            FROM scoped ARRAY JOIN CAST(scores, 'Array(Tuple(String, Float64))') AS pair
            UNION ALL
            SELECT experiment_id, session_id, name, value FROM external_scores
        )
        GROUP BY experiment_id, session_id, name
    ),
    evaluator_stats AS (
        SELECT experiment_id, CAST((groupArray(name), groupArray(stats)),
            'Map(String, Tuple(sum Float64, mean Float64, median Float64, p90 Float64, p95 Float64, p99 Float64, count UInt64))'
        ) AS evaluators
        FROM (
            SELECT experiment_id, name, tuple(sum(value), avg(value),
                quantileExactInclusive(0.5)(value), quantileExactInclusive(0.9)(value),
                quantileExactInclusive(0.95)(value), quantileExactInclusive(0.99)(value), count()) AS stats
            FROM session_scores
            GROUP BY experiment_id, name
        )
        GROUP BY experiment_id
    ),
    session_stats AS (
        SELECT experiment_id,
            count() AS run_count,
            {_STATS_OF.format(v="cost_usd")} AS cost,
            {_STATS_OF.format(v="latency_ms")} AS latency,
            arraySort(groupUniqArrayIf(model_name, model_name != '')) AS model_names,
            arraySort(groupUniqArrayIf(agent_name, agent_name != '')) AS agent_names,
            arraySort(groupUniqArrayIf(agent_version, agent_version != '')) AS agent_versions
        FROM scoped
        GROUP BY experiment_id
    )
SELECT
    {{workspace:String}} AS workspace, b.experiment_id, b.run_count, b.cost, b.latency,
    e.evaluators, b.model_names, b.agent_names, b.agent_versions, now64(9) AS computed_at
FROM session_stats AS b
LEFT JOIN evaluator_stats AS e ON e.experiment_id = b.experiment_id
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
