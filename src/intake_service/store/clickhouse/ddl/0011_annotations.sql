-- Post-hoc annotations (feedback, note, metadata, label) on a session or one of its spans; the
-- columns are flat, the kind says which of them are set. A delete writes the same id again as a
-- tombstone (is_deleted = 1, higher version), so reads with FINAL see one current row per id.
CREATE TABLE IF NOT EXISTS annotations ${on_cluster}
(
    workspace LowCardinality(String),
    annotation_id String,
    session_id String,
    span_id Nullable(String),
    kind LowCardinality(String),
    name Nullable(String),
    value_text Nullable(String),
    value_numeric Nullable(Float64),
    text Nullable(String),
    metadata Nullable(String),
    created_by Nullable(String),
    created_at DateTime64(6, 'UTC'),
    ingested_at DateTime64(6, 'UTC'),
    is_deleted UInt8,
    version UInt64
)
ENGINE = ${replicated}ReplacingMergeTree(version)
ORDER BY (workspace, annotation_id)
