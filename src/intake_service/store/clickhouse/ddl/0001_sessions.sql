-- One row per session; re-sending a session (same workspace, experiment id, session id) replaces it.
-- Tenant and experiment first in ORDER BY, so one experiment's sessions are contiguous.
CREATE TABLE IF NOT EXISTS sessions ${on_cluster}
(
    workspace LowCardinality(String),
    experiment_id String,
    session_id String,
    test_case_id Nullable(String),
    started_at DateTime64(6, 'UTC'),
    ended_at Nullable(DateTime64(6, 'UTC')),
    latency_ms Nullable(Float64),
    status LowCardinality(String),
    model_name Nullable(String),
    agent_name Nullable(String),
    agent_version Nullable(String),
    input_tokens Nullable(Int64),
    output_tokens Nullable(Int64),
    cached_tokens Nullable(Int64),
    cost_usd Nullable(Float64),
    input Nullable(String),
    output Nullable(String),
    metadata String,
    scores Map(String, Float64),
    version UInt64,
    INDEX idx_session_id session_id TYPE bloom_filter GRANULARITY 4
)
ENGINE = ${replicated}ReplacingMergeTree(version)
ORDER BY (workspace, experiment_id, session_id)
