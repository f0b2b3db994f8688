"""Computed rollup rows stored later (store/clickhouse/rollup_writer.py): readers waiting for them are
answered when a round stores them, or fail with it; shutdown lets a round finish first."""

import asyncio
import time

import pytest

from intake_service.errors import TelemetryUnavailable
from intake_service.store.clickhouse.rollup_writer import RollupWriter, Rows


async def test_readers_that_came_during_a_failed_insert_fail_with_it() -> None:
    def refused(batch: Rows) -> None:
        time.sleep(0.3)
        raise TelemetryUnavailable()

    writer = RollupWriter(refused)
    writer.add("w", {"e1": b"{}"})
    first = asyncio.ensure_future(writer.stored("w", {"e1"}))
    await asyncio.sleep(0.1)  # the round's INSERT is running
    second = asyncio.ensure_future(writer.stored("w", None))
    for reader in (first, second):
        with pytest.raises(TelemetryUnavailable):
            await asyncio.wait_for(reader, 5)  # the second waited for ever before


async def test_settle_lets_the_pending_round_store_its_rows_once() -> None:
    stored: list[Rows] = []
    writer = RollupWriter(stored.append)
    writer.add("w", {"e1": b"{}", "e2": b"{}"})
    await asyncio.wait_for(writer.settle(), 5)
    writer.flush()  # nothing left for it
    assert stored == [{"w": {"e1": b"{}", "e2": b"{}"}}]
