"""The embedded chDB's tables build no column statistics (ddl/0012_*.embedded.sql): chDB's engine
built them for every column of each part it wrote or merged, which no statement reads. The two tables
that take bulk rows merge less often (ddl/0013_*.embedded.sql). A ClickHouse server skips both files
(tests/store/test_clickhouse_connect_path.py)."""

from support import app_telemetry

MERGE_TREES = (
    "SELECT name, engine_full FROM system.tables "
    "WHERE database = currentDatabase() AND engine LIKE '%MergeTree' AND name != 'intake_schema_migrations'"
)


async def test_no_table_of_the_embedded_store_builds_column_statistics(app) -> None:
    tables = (await app_telemetry(app)).executor.query(MERGE_TREES)
    assert len(tables) >= 7, tables
    for table in tables:
        assert "auto_statistics_types = ''" in table["engine_full"], table
        assert "materialize_statistics_on_merge = 0" in table["engine_full"], table


async def test_only_sessions_and_spans_merge_less_often(app) -> None:
    tables = {table["name"]: table["engine_full"] for table in (await app_telemetry(app)).executor.query(MERGE_TREES)}
    for name, engine in tables.items():
        assert ("merge_selector_base = 10" in engine) == (name in ("sessions", "spans")), (name, engine)
