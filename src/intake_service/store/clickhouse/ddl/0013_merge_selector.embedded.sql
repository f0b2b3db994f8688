-- merge_selector_base sets the write amplification of ClickHouse's merges. At the default (5), 220
-- inserts of 1,000 sessions into the embedded chDB spent about a third of the CPU of storing them on
-- merging their parts again and again (24 ms per 1,000 sessions, 15.5 with merges stopped); at 10,
-- 15-17.7 ms, leaving 5 parts instead of 3. The two tables that take bulk rows only; embedded only
-- (`.embedded.sql`): a ClickHouse server is tuned by its operator.
ALTER TABLE sessions MODIFY SETTING merge_selector_base = 10;
ALTER TABLE spans MODIFY SETTING merge_selector_base = 10
