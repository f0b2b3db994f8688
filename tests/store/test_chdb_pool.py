"""The embedded chDB serves queries through a pool of connections to one data path: queries run at
the same time, and each query's parameters stay its own under concurrency."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from intake_service.store.clickhouse.executor import ChdbExecutor

from support import app_telemetry

ECHO = "SELECT {text:String} AS text, {n:UInt64} AS n, {items:Array(String)} AS items, {none:Nullable(String)} AS none"


async def test_parameters_stay_with_their_query_under_concurrency(app) -> None:
    executor = (await app_telemetry(app)).executor
    assert isinstance(executor, ChdbExecutor)

    def echo(worker: int) -> list[tuple[dict[str, object], dict[str, object]]]:
        pairs = []
        for i in range(150):
            text = f"w{worker}'\\\t{i}"
            params = {"text": text, "n": worker * 1000 + i, "items": [f"{worker}", f"{i}"], "none": None}
            pairs.append((params, executor.query(ECHO, params)[0]))
        return pairs

    with ThreadPoolExecutor(max_workers=8) as threads:
        results = [pair for pairs in threads.map(echo, range(8)) for pair in pairs]

    assert len(results) == 8 * 150
    for sent, received in results:
        assert received == sent
    assert len(executor._opened) > 1  # the threads did hold several connections at once


async def test_a_short_query_does_not_wait_for_a_long_one(app) -> None:
    executor = (await app_telemetry(app)).executor
    started = threading.Event()

    def long_query() -> None:
        started.set()
        executor.query("SELECT sleepEachRow(0.5) AS s FROM numbers(3) SETTINGS max_block_size = 1")

    with ThreadPoolExecutor(max_workers=1) as thread:
        running = thread.submit(long_query)
        started.wait()
        time.sleep(0.2)
        began = time.monotonic()
        assert executor.query("SELECT 1 AS one") == [{"one": 1}]
        waited = time.monotonic() - began
        assert not running.done()
        running.result()
    assert waited < 1.0
