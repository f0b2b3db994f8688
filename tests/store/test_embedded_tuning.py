"""The embedded chDB's tables build no column statistics (ddl/0012_*.embedded.sql): chDB's engine
built them for every column of each part it wrote or merged, which no statement reads. A ClickHouse
server skips that file (tests/store/test_clickhouse_connect_path.py)."""

from support import app_telemetry


async def test_no_table_of_the_embedded_store_builds_column_statistics(app) -> None:
    executor = (await app_telemetry(app)).executor
    tables = executor.query(
        "SELECT name, engine_full FROM system.tables "
        "WHERE database = currentDatabase() AND engine LIKE '%MergeTree' AND name != 'intake_schema_migrations'"
    )
    assert len(tables) >= 7, tables
    for table in tables:
        assert "auto_statistics_types = ''" in table["engine_full"], table
        assert "materialize_statistics_on_merge = 0" in table["engine_full"], table
