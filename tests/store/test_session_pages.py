"""A page of an experiment's sessions is one ClickHouse statement: the page's rows carry the count."""

from typing import Any

from support import app_telemetry, create_experiment, ingest_ok, sessions_of


async def test_a_sessions_page_and_its_count_are_one_statement(client, base, app, monkeypatch) -> None:
    name = (await create_experiment(client, base))["name"]
    await ingest_ok(client, base, name, [
        {"session_id": f"s{i}", "started_at": f"2026-01-0{1 + i % 3}T00:00:00Z", "test_case_id": f"t{i % 2}"}
        for i in range(7)
    ])  # fmt: skip
    await sessions_of(client, base, name)  # the workspace's first read asks whether it has results and spans
    executor = (await app_telemetry(app)).executor
    statements: list[str] = []
    query_columns = executor.query_columns

    def counted(sql: str, params: Any = None) -> Any:
        statements.append(sql)
        return query_columns(sql, params)

    monkeypatch.setattr(executor, "query_columns", counted)
    page = await sessions_of(client, base, name, page=2, page_size=3, sort="-started_at")
    assert [row["session_id"] for row in page["data"]] == ["s4", "s0", "s3"]
    assert page["pagination"]["total_results"] == 7 and "total" not in page["data"][0]
    assert len(statements) == 1
    page = await sessions_of(client, base, name, page=2, page_size=3, **{"filter[test_case_id]": "t1"})
    assert page["pagination"]["total_results"] == 3 and len(page["data"]) == 0
    assert len(statements) == 3  # past the end: no row carries the count, which is read apart
