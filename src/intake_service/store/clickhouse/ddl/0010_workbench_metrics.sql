-- ML-workbench step metrics (/api/v1): every logged value is kept (appended, never replaced).
-- Tenant, run and metric key first in ORDER BY, so one metric's history is one contiguous range,
-- already in the order it is read back: by step, then timestamp, then arrival.
CREATE TABLE IF NOT EXISTS workbench_metrics ${on_cluster}
(
    workspace LowCardinality(String),
    experiment_id String,
    run_id String,
    key String,
    step Int64,
    timestamp DateTime64(6, 'UTC'),
    value Float64,
    logged_at DateTime64(6, 'UTC'),
    seq UInt32
)
ENGINE = ${replicated}MergeTree
ORDER BY (workspace, run_id, key, step, timestamp, logged_at, seq)
