"""Inserts into one table that wait while another runs go in as one INSERT (store/clickhouse/executor.py
InsertGroups), each caller answered only once its own rows are stored, and with its own outcome."""

import asyncio
import time
from typing import Any

from intake_service.errors import TelemetryUnavailable
from intake_service.models.generated import SessionInput
from intake_service.store.clickhouse.executor import InsertGroups, json_each_row
from intake_service.store.clickhouse.sessions import SessionRecord, session_rows

from support import app_telemetry, ts


def batch(experiment: str, count: int) -> bytes:
    records = [
        SessionRecord(SessionInput(session_id=f"s{i}", started_at=ts("2026-01-01T00:00:00Z")), None, {}, "{}")
        for i in range(count)
    ]
    return json_each_row(session_rows("groups", experiment, records))


async def stored(executor: Any, experiment: str) -> int:
    sql = "SELECT count() AS n FROM sessions FINAL WHERE workspace = 'groups' AND experiment_id = {e:String}"
    return (await asyncio.to_thread(executor.query, sql, {"e": experiment}))[0]["n"]


async def test_inserts_waiting_together_go_in_as_one_and_each_is_stored(app) -> None:
    executor = (await app_telemetry(app)).executor
    statements: list[int] = []

    def insert(table: str, data: bytes) -> None:
        statements.append(data.count(b'"session_id"'))
        executor.insert_json(table, data)

    groups = InsertGroups(insert)
    await asyncio.gather(*(groups.insert("sessions", batch(f"g{k}", 10 + k)) for k in range(5)))

    # The first starts at once; the four that arrive while it runs follow as one INSERT.
    assert statements == [10, 11 + 12 + 13 + 14]
    assert [await stored(executor, f"g{k}") for k in range(5)] == [10 + k for k in range(5)]


async def test_a_failing_insert_fails_its_caller_only(app) -> None:
    executor = (await app_telemetry(app)).executor
    groups = InsertGroups(executor.insert_json)
    broken = batch("bad", 3).replace(b"2026-01-01 00:00:00", b"not a time", 1)
    results = await asyncio.gather(
        groups.insert("sessions", batch("ok0", 2)),
        groups.insert("sessions", batch("ok1", 3)),
        groups.insert("sessions", broken),
        groups.insert("sessions", batch("ok2", 4)),
        return_exceptions=True,
    )
    assert [type(r) for r in results] == [type(None), type(None), TelemetryUnavailable, type(None)]
    assert [await stored(executor, e) for e in ("ok0", "ok1", "bad", "ok2")] == [2, 3, 0, 4]


async def test_a_caller_that_goes_away_leaves_its_group_stored(app) -> None:
    executor = (await app_telemetry(app)).executor
    loop = asyncio.get_running_loop()
    leading = asyncio.Event()

    def insert(table: str, data: bytes) -> None:
        if b'"late-b"' in data:  # b leads the group of b and c, which waited while a ran
            loop.call_soon_threadsafe(leading.set)
            time.sleep(0.2)
        executor.insert_json(table, data)

    groups = InsertGroups(insert)
    a, b, c = (asyncio.ensure_future(groups.insert("sessions", batch(f"late-{x}", 2))) for x in "abc")
    await leading.wait()
    b.cancel()
    await asyncio.wait_for(asyncio.gather(a, c), 30)  # without the shield, c waits forever
    assert [await stored(executor, f"late-{x}") for x in "abc"] == [2, 2, 2]


async def test_a_caller_that_goes_away_before_its_turn_stores_nothing(app) -> None:
    executor = (await app_telemetry(app)).executor
    loop = asyncio.get_running_loop()
    running = asyncio.Event()
    writes: list[bytes] = []

    def insert(table: str, data: bytes) -> None:
        writes.append(data)
        if b'"gone-a"' in data:
            loop.call_soon_threadsafe(running.set)
            time.sleep(0.2)
        executor.insert_json(table, data)

    groups = InsertGroups(insert)
    a = asyncio.ensure_future(groups.insert("sessions", batch("gone-a", 2)))
    await running.wait()
    b = asyncio.ensure_future(groups.insert("sessions", batch("gone-b", 2)))
    await asyncio.sleep(0)  # b waits for a's INSERT
    b.cancel()
    await a
    await groups.insert("sessions", batch("gone-c", 2))
    assert [await stored(executor, f"gone-{x}") for x in "abc"] == [2, 0, 2]
    assert len(writes) == 2
