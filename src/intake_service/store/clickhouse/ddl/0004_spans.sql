-- Spans from OTLP traces, ATIF trajectories and captured chat completions, kept so that a session
-- whose spans arrive over several requests (in any order) is rebuilt from all of them. A span sent
-- again replaces the earlier copy. Sessions are rebuilt from here into `sessions`; rollups never
-- read this table.
CREATE TABLE IF NOT EXISTS spans ${on_cluster}
(
    workspace LowCardinality(String),
    session_id String,
    span_id String,
    trace_id String,
    parent_span_id String,
    source LowCardinality(String),
    name String,
    kind LowCardinality(String),
    start_time DateTime64(9, 'UTC'),
    end_time Nullable(DateTime64(9, 'UTC')),
    status LowCardinality(String),
    experiment_name Nullable(String),
    test_case_id Nullable(String),
    model_name Nullable(String),
    agent_name Nullable(String),
    agent_version Nullable(String),
    input_tokens Nullable(Int64),
    output_tokens Nullable(Int64),
    cached_tokens Nullable(Int64),
    cost_usd Nullable(Float64),
    input Nullable(String),
    output Nullable(String),
    attributes String,
    version UInt64
)
ENGINE = ${replicated}ReplacingMergeTree(version)
ORDER BY (workspace, session_id, span_id)
