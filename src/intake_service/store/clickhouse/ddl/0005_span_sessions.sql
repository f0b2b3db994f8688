-- The experiment each span-built session is bound to ('' = none yet), so that when a session is
-- bound anew (its root arrived, or a trajectory was re-sent with another tag) the copy in the
-- previous experiment is removed. Sessions ingested in bulk never appear here.
CREATE TABLE IF NOT EXISTS span_sessions ${on_cluster}
(
    workspace LowCardinality(String),
    session_id String,
    experiment_id String,
    version UInt64
)
ENGINE = ${replicated}ReplacingMergeTree(version)
ORDER BY (workspace, session_id)
