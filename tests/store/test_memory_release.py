"""Issue 12, memory: what the allocators keep after a large statement goes back to the operating
system (chDB's jemalloc through SYSTEM JEMALLOC PURGE, glibc's heap through malloc_trim), now and
then in the app's lifespan."""

import psutil

from intake_service import lifespan
from intake_service.store.clickhouse.executor import ChdbExecutor

from support import app_telemetry

# A statement that allocates a few hundred MB inside chDB and frees it at its end.
LARGE = "SELECT length(groupArray(toString(number))) AS n FROM numbers(10000000)"
MB = 2**20


def rss() -> int:
    return psutil.Process().memory_info().rss


async def test_chdb_hands_back_what_a_large_statement_left(app) -> None:
    telemetry = await app_telemetry(app)
    assert isinstance(telemetry.executor, ChdbExecutor)
    assert telemetry.executor.query(LARGE) == [{"n": 10_000_000}]
    kept = rss()
    lifespan._release_memory(telemetry, lifespan._malloc_trim())
    assert rss() < kept - 50 * MB
