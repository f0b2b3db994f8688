-- The embedded chDB (ClickHouse 26.9) builds statistics of every column ('basic, uniq_v2') for each
-- part it writes or merges: about a fifth of the CPU of storing 100 sessions. No statement of this
-- service uses them (every read filters by the tables' sorting keys). Embedded only (`.embedded.sql`):
-- a ClickHouse server of another version may not know these settings.
ALTER TABLE sessions MODIFY SETTING auto_statistics_types = '', materialize_statistics_on_merge = 0;
ALTER TABLE spans MODIFY SETTING auto_statistics_types = '', materialize_statistics_on_merge = 0;
ALTER TABLE span_sessions MODIFY SETTING auto_statistics_types = '', materialize_statistics_on_merge = 0;
ALTER TABLE evaluator_results MODIFY SETTING auto_statistics_types = '', materialize_statistics_on_merge = 0;
ALTER TABLE experiment_rollups MODIFY SETTING auto_statistics_types = '', materialize_statistics_on_merge = 0;
ALTER TABLE annotations MODIFY SETTING auto_statistics_types = '', materialize_statistics_on_merge = 0;
ALTER TABLE workbench_metrics MODIFY SETTING auto_statistics_types = '', materialize_statistics_on_merge = 0
