"""The pivot of evaluations' sessions: one metric by two dimensions, in one query.

Units are as in the 0.3.0 rollups (store/clickhouse/evaluation_rollups.py): a unit is one test case of
one evaluation (here, within one cell); its cost, latency or tokens is the mean over its sessions
that have one; its evaluator value is the sum of its sessions' scores over its session count (an
unscored session counts 0) when the evaluation has the evaluator at all. A cell's statistics are
taken across its units, so a cell holding one evaluation shows that evaluation's rollup. Sessions
without a test case count only in `sessions`.

Dimensions of the session (agent, model) are columns; those of the evaluation (dataset, metadata)
arrive as a parameter array aligned with `experiment_ids`. Expressions come from the whitelists
here, never from the request's text.
"""

from intake_service.store.clickhouse.evaluation_rollups import _stats, of_present, ordered_mean, ordered_sum

SESSION_DIMENSIONS = {"agent_name": "agent_name", "agent_version": "agent_version", "model": "model_name"}
# An evaluation's value of the dimension: the element of {<side>_values} at the evaluation's index.
_BY_EVALUATION = (
    "arrayElement({{{side}_values:Array(Nullable(String))}}, indexOf({{experiment_ids:Array(String)}}, experiment_id))"
)
NO_DIMENSION = "CAST(NULL, 'Nullable(String)')"
VALUES = {
    "cost_usd": "s.cost_usd",
    "latency_ms": "s.latency_ms",
    "tokens": "s.tokens",
    "evaluator": "ev.value",
}
_MEAN_OF_PRESENT = of_present(ordered_mean, "value")
_EVALUATOR_UNIT = f"if(any(scored), {ordered_sum('ifNull(value, 0)')} / count(), NULL)"

_PIVOT = """
WITH scoped AS (
    SELECT experiment_id, session_id, ifNull(test_case_id, '') AS test_case, {row} AS row_key, {column} AS column_key,
           cost_usd, latency_ms,
           if(input_tokens IS NULL AND output_tokens IS NULL, NULL,
              ifNull(input_tokens, 0) + ifNull(output_tokens, 0)) AS tokens,
           scores
    FROM sessions FINAL
    WHERE workspace = {{workspace:String}} AND experiment_id IN {{experiment_ids:Array(String)}}
),
evaluator_values AS (
    SELECT experiment_id, session_id, {ordered_mean} AS value
    FROM (
        SELECT experiment_id, session_id, scores[{{evaluator:String}}] AS value
        FROM scoped WHERE mapContains(scores, {{evaluator:String}})
        UNION ALL
        SELECT s.experiment_id AS experiment_id, s.session_id AS session_id, r.value AS value
        FROM (
            SELECT session_id, assumeNotNull(value) AS value, experiment_id
            FROM evaluator_results FINAL
            WHERE workspace = {{workspace:String}} AND name = {{evaluator:String}}
              AND session_id IN (SELECT session_id FROM scoped)
              AND data_type IN ('NUMERIC', 'BOOLEAN') AND value IS NOT NULL
        ) AS r
        INNER JOIN scoped AS s ON s.session_id = r.session_id
        WHERE r.experiment_id = '' OR r.experiment_id = s.experiment_id
    )
    GROUP BY experiment_id, session_id
),
units AS (
    SELECT row_key, column_key, experiment_id, test_case, count() AS unit_sessions, {unit} AS unit_value
    FROM (
        SELECT s.row_key AS row_key, s.column_key AS column_key, s.experiment_id AS experiment_id,
               s.test_case AS test_case, {value} AS value,
               s.experiment_id IN (SELECT experiment_id FROM evaluator_values) AS scored
        FROM scoped AS s
        LEFT JOIN evaluator_values AS ev ON ev.experiment_id = s.experiment_id AND ev.session_id = s.session_id
    )
    GROUP BY row_key, column_key, experiment_id, test_case
)
SELECT row_key, column_key, sum(unit_sessions) AS sessions, uniqExact(experiment_id) AS evaluations,
       uniqExactIf(test_case, test_case != '') AS test_cases,
       {stats}
FROM (SELECT *, if(test_case = '', NULL, unit_value) AS case_value FROM units)
GROUP BY row_key, column_key
SETTINGS join_use_nulls = 1
"""


def dimension_sql(dimension: str | None, side: str) -> str:
    """The expression of a dimension of SESSION_DIMENSIONS, of the evaluation (values passed as
    `<side>_values`), or none."""
    if dimension is None:
        return NO_DIMENSION
    if dimension in SESSION_DIMENSIONS:
        return SESSION_DIMENSIONS[dimension]
    return _BY_EVALUATION.format(side=side)


def pivot_sql(rows: str, columns: str | None, value: str) -> str:
    """The pivot query for dimension names and a VALUES key (all checked by the caller)."""
    unit = _EVALUATOR_UNIT if value == "evaluator" else _MEAN_OF_PRESENT
    return _PIVOT.format(
        row=dimension_sql(rows, "row"),
        column=dimension_sql(columns, "column"),
        value=VALUES[value],
        unit=unit,
        stats=_stats("case_value", "value"),
        ordered_mean=ordered_mean("value"),
    )
