"""SDK 0.3.0 evaluation rollups, read on demand over `sessions` and `evaluator_results`.

The 0.3.0 definition differs from the seeds' per-session rollups (experiment_rollups): sessions
without a test case count toward no statistic; each test case's value is the mean over its sessions
that have one (cost, latency, tokens = input + output), and sum/mean/median/p90/p95/p99/count are
taken across test cases. An evaluator's value of a test case is the sum of its sessions' mean scores
over the test case's session count, so an unscored session counts as 0; every test case of an
evaluation gets a value for every evaluator scored in it. Quantiles are exact (`quantileExact`, an
element of the set), as NeMo's server takes them.
"""

from collections.abc import Callable

QUANTILES = {"median": "0.5", "p90": "0.9", "p95": "0.95", "p99": "0.99"}
STAT_NAMES = ("sum", "mean", *QUANTILES, "count")


# Float addition is not associative, and ClickHouse adds a group's rows in whatever order its threads
# and parts deliver them: the same sessions could answer 0.325 once and 0.32499999999999996 the next
# time. Adding the values in sorted order gives one answer for one set of values.
def ordered_sum(value: str, condition: str = "1") -> str:
    """The sum of `value` over the group's non-null rows meeting `condition`, added in sorted order."""
    return f"arraySum(arraySort(groupArrayIf({value}, {condition})))"


def ordered_mean(value: str, condition: str = "1") -> str:
    """The mean of `value` over the group's non-null rows meeting `condition`, added in sorted order."""
    return f"arrayAvg(arraySort(groupArrayIf({value}, {condition})))"


def of_present(aggregate: Callable[[str, str], str], value: str) -> str:
    """`aggregate(value, condition)` over the group's rows that have `value`; null, as sum and avg
    answer, when none has it."""
    present = f"isNotNull({value})"
    return f"if(countIf({present}) = 0, NULL, {aggregate(value, present)})"


def _quantile(level: str) -> Callable[[str, str], str]:
    return lambda value, condition: f"quantileExactIf({level})({value}, {condition})"


def _stats(value: str, prefix: str) -> str:
    """sum/mean/quantiles/count of `value` over its non-null rows; null (count 0) when there are none."""
    columns = [
        f"{of_present(ordered_sum, value)} AS {prefix}_sum",
        f"{of_present(ordered_mean, value)} AS {prefix}_mean",
        *(f"{of_present(_quantile(level), value)} AS {prefix}_{name}" for name, level in QUANTILES.items()),
        f"countIf(isNotNull({value})) AS {prefix}_count",
    ]
    return ",\n    ".join(columns)


def _mean_if_any(value: str) -> str:
    """The mean over the sessions that have `value`, null when none has; named `case_<value>`."""
    return f"{of_present(ordered_mean, value)} AS case_{value}"


_SCOPED = """
scoped AS (
    SELECT experiment_id, session_id, ifNull(test_case_id, '') AS test_case, latency_ms, cost_usd,
           if(input_tokens IS NULL AND output_tokens IS NULL, NULL,
              ifNull(input_tokens, 0) + ifNull(output_tokens, 0)) AS tokens,
           scores
    FROM sessions FINAL
    WHERE workspace = {workspace:String} AND experiment_id IN {experiment_ids:Array(String)}
)"""

COUNTS = f"""
WITH {_SCOPED}
SELECT experiment_id, uniqExactIf(test_case, test_case != '') AS test_case_count
FROM scoped GROUP BY experiment_id
"""

METRICS = f"""
WITH {_SCOPED},
cases AS (
    SELECT experiment_id, test_case, {_mean_if_any("cost_usd")}, {_mean_if_any("latency_ms")},
           {_mean_if_any("tokens")}
    FROM scoped WHERE test_case != '' GROUP BY experiment_id, test_case
)
SELECT experiment_id,
    {_stats("case_cost_usd", "cost_usd")},
    {_stats("case_latency_ms", "latency_ms")},
    {_stats("case_tokens", "tokens")}
FROM cases GROUP BY experiment_id
"""

EVALUATORS = f"""
WITH {_SCOPED},
results AS (
    SELECT s.experiment_id AS experiment_id, s.test_case AS test_case, s.session_id AS session_id,
           r.name AS name, r.value AS value
    FROM (
        SELECT session_id, name, assumeNotNull(value) AS value, experiment_id
        FROM evaluator_results FINAL
        WHERE workspace = {{workspace:String}}
          AND session_id IN (SELECT session_id FROM scoped WHERE test_case != '')
          AND data_type IN ('NUMERIC', 'BOOLEAN') AND value IS NOT NULL
    ) AS r
    INNER JOIN (SELECT * FROM scoped WHERE test_case != '') AS s ON s.session_id = r.session_id
    WHERE r.experiment_id = '' OR r.experiment_id = s.experiment_id
),
scores AS (
    SELECT experiment_id, test_case, session_id, name, value FROM results
    UNION ALL
    SELECT experiment_id, test_case, session_id, score.1 AS name, score.2 AS value
    FROM scoped ARRAY JOIN CAST(scores, 'Array(Tuple(String, Float64))') AS score
    WHERE test_case != ''
),
session_scores AS (
    SELECT experiment_id, test_case, name, {ordered_mean("value")} AS session_score
    FROM scores GROUP BY experiment_id, test_case, session_id, name
),
case_sessions AS (
    SELECT experiment_id, test_case, count() AS sessions
    FROM scoped WHERE test_case != '' GROUP BY experiment_id, test_case
),
evaluators AS (SELECT DISTINCT experiment_id, name FROM session_scores),
case_scores AS (
    SELECT c.experiment_id AS experiment_id, e.name AS name,
           {ordered_sum("ifNull(ss.session_score, 0)")} / any(c.sessions) AS case_score
    FROM case_sessions AS c
    INNER JOIN evaluators AS e ON e.experiment_id = c.experiment_id
    LEFT JOIN session_scores AS ss
        ON ss.experiment_id = c.experiment_id AND ss.test_case = c.test_case AND ss.name = e.name
    GROUP BY c.experiment_id, c.test_case, e.name
)
SELECT experiment_id, name, {_stats("case_score", "score")}
FROM case_scores GROUP BY experiment_id, name ORDER BY experiment_id, name
"""

# The name facets an evaluation answers (agent_names, agent_versions, model_names: those of all its
# sessions, kept in experiment_rollups): the evaluations whose list holds one of the values.
FACET_COLUMNS = ("agent_name", "agent_version", "model_name")
OBSERVING = """
SELECT experiment_id FROM experiment_rollups FINAL
WHERE workspace = {{workspace:String}} AND hasAny({column}s, {{values:Array(String)}})
"""
