-- Precomputed rollups, one row per experiment, rewritten after every ingest that touches it.
-- A leaderboard sorted by a metric reads one row per experiment, however many sessions exist.
CREATE TABLE IF NOT EXISTS experiment_rollups ${on_cluster}
(
    workspace LowCardinality(String),
    experiment_id String,
    run_count UInt64,
    cost Tuple(sum Nullable(Float64), mean Nullable(Float64), median Nullable(Float64),
               p90 Nullable(Float64), p95 Nullable(Float64), p99 Nullable(Float64), count UInt64),
    latency Tuple(sum Nullable(Float64), mean Nullable(Float64), median Nullable(Float64),
                  p90 Nullable(Float64), p95 Nullable(Float64), p99 Nullable(Float64), count UInt64),
    evaluators Map(String, Tuple(sum Float64, mean Float64, median Float64,
                                 p90 Float64, p95 Float64, p99 Float64, count UInt64)),
    model_names Array(String),
    agent_names Array(String),
    agent_versions Array(String),
    computed_at DateTime64(9, 'UTC')
)
ENGINE = ${replicated}ReplacingMergeTree(computed_at)
ORDER BY (workspace, experiment_id)
