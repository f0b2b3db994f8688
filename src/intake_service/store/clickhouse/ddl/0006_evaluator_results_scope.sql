-- A result scoped to an experiment (experiment_name given) replaces only that experiment's earlier
-- result for the same (session, span, name): two experiments may both have a session "case-1".
-- `scope` is the experiment id for a scoped result and '' for an unscoped (NeMo) one; ClickHouse
-- only lets a sorting key grow by a column added in the same ALTER, hence a column of its own.
ALTER TABLE evaluator_results ${on_cluster}
    ADD COLUMN IF NOT EXISTS scope String,
    MODIFY ORDER BY (workspace, session_id, span_id, name, scope)
