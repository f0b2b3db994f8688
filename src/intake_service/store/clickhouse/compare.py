"""The per-session values a comparison pairs: one row per session with a test case of either run,
in start order within each test case, with its cost, latency, tokens and evaluator scores.

A session's score for an evaluator is the mean of its values from the session's own `scores` and from
the NUMERIC and BOOLEAN evaluator results attached to it (scoped to its run, or to none), as the
session lists and the 0.3.0 rollups read them.
"""

from intake_service.store.clickhouse.evaluation_rollups import ordered_mean

PAIRED_VALUES = f"""
WITH scoped AS (
    SELECT experiment_id, session_id, assumeNotNull(test_case_id) AS test_case, started_at, latency_ms, cost_usd,
           if(input_tokens IS NULL AND output_tokens IS NULL, NULL,
              ifNull(input_tokens, 0) + ifNull(output_tokens, 0)) AS tokens,
           scores
    FROM sessions FINAL
    WHERE workspace = {{workspace:String}} AND experiment_id IN {{experiment_ids:Array(String)}}
      AND ifNull(test_case_id, '') != ''
),
external AS (
    SELECT s.experiment_id AS experiment_id, s.session_id AS session_id, r.name AS name, r.value AS value
    FROM (
        SELECT session_id, name, assumeNotNull(value) AS value, experiment_id
        FROM evaluator_results FINAL
        WHERE workspace = {{workspace:String}} AND session_id IN (SELECT session_id FROM scoped)
          AND data_type IN ('NUMERIC', 'BOOLEAN') AND value IS NOT NULL
    ) AS r
    INNER JOIN scoped AS s ON s.session_id = r.session_id
    WHERE r.experiment_id = '' OR r.experiment_id = s.experiment_id
),
session_scores AS (
    SELECT experiment_id, session_id, groupArray(name) AS score_names, groupArray(value) AS score_values
    FROM (
        SELECT experiment_id, session_id, name, {ordered_mean("value")} AS value
        FROM (
            SELECT experiment_id, session_id, score.1 AS name, score.2 AS value
            FROM scoped ARRAY JOIN CAST(scores, 'Array(Tuple(String, Float64))') AS score
            UNION ALL
            SELECT experiment_id, session_id, name, value FROM external
        )
        GROUP BY experiment_id, session_id, name
    )
    GROUP BY experiment_id, session_id
)
SELECT s.experiment_id AS experiment_id, s.test_case AS test_case_id, s.cost_usd AS cost_usd,
       s.latency_ms AS latency_ms, s.tokens AS tokens, ss.score_names AS score_names,
       ss.score_values AS score_values
FROM scoped AS s
LEFT JOIN session_scores AS ss ON ss.experiment_id = s.experiment_id AND ss.session_id = s.session_id
ORDER BY s.experiment_id, s.test_case, s.started_at, s.session_id
SETTINGS join_use_nulls = 0
"""
