-- One row per (workspace, session, span, evaluator name): a repeat replaces the earlier value.
-- experiment_id is '' when the result names no experiment (it then counts in every experiment
-- of the workspace that has the session). 0006 adds `scope` to the replacement key.
CREATE TABLE IF NOT EXISTS evaluator_results ${on_cluster}
(
    workspace LowCardinality(String),
    session_id String,
    span_id String,
    name String,
    evaluator_result_id String,
    experiment_id String,
    experiment_name Nullable(String),
    data_type LowCardinality(String),
    value Nullable(Float64),
    string_value Nullable(String),
    comment Nullable(String),
    created_by Nullable(String),
    created_at DateTime64(6, 'UTC'),
    version UInt64
)
ENGINE = ${replicated}ReplacingMergeTree(version)
ORDER BY (workspace, session_id, span_id, name)
