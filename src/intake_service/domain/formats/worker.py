"""Large ingest bodies are parsed in a worker process, so that `/health/live` and every other
request keep their answers within milliseconds while one is parsed.

A thread is not enough: orjson, protobuf and pydantic-core each parse a whole body in one C call
that holds the interpreter lock, seconds for a 10 MB OTLP-JSON body on a loaded machine, and
building its millions of objects brings full garbage collections of the same length. The worker
builds them instead and sends back only the result, its items pickled in small chunks that the
server unpickles one at a time (each a few milliseconds). A body up to IN_PROCESS_BYTES is parsed
in a thread of the server, as before: its parse is shorter than a trip to the worker. A caller may
name a smaller size still (`inline_bytes`) up to which the body is parsed on the event loop itself,
where the parse takes about as long as the hand-off to a thread and back.
"""

import asyncio
import multiprocessing
import os
import pickle
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

import anyio

IN_PROCESS_BYTES = 128 * 1024
CHUNK_ITEMS = 200

H = TypeVar("H")
T = TypeVar("T")
_pool: ProcessPoolExecutor | None = None


def _exit_with(parent: int) -> None:
    """In the worker: end when the server is gone (killed, it cannot shut the worker down)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def _executor() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        # spawn: forking a process that runs chDB's and uvicorn's threads is not safe.
        _pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_exit_with,
            initargs=(os.getpid(),),
        )
    return _pool


def shutdown() -> None:
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None


def _in_worker(parse: Callable[..., tuple[Any, list[Any]]], args: tuple[Any, ...]) -> tuple[bytes, list[bytes]]:
    head, items = parse(*args)
    chunks = [pickle.dumps(items[i : i + CHUNK_ITEMS]) for i in range(0, len(items), CHUNK_ITEMS)]
    return pickle.dumps(head), chunks


async def parse_body(
    parse: Callable[..., tuple[H, list[T]]], body: bytes, *args: Any, inline_bytes: int = 0
) -> tuple[H, list[T]]:
    """`parse(body, *args)` (a module-level function: it runs in the worker), whose result is a head
    and a list of items. Its exceptions (400, 413, 415, 422) reach the caller as they were raised."""
    if len(body) <= inline_bytes:
        return parse(body, *args)
    if len(body) <= IN_PROCESS_BYTES:
        return await anyio.to_thread.run_sync(parse, body, *args)
    loop = asyncio.get_running_loop()
    try:
        head, chunks = await loop.run_in_executor(_executor(), _in_worker, parse, (body, *args))
    except BrokenProcessPool:
        shutdown()  # the worker died (killed, out of memory): the next body gets a new one
        raise
    items: list[T] = []
    for chunk in chunks:
        items += await anyio.to_thread.run_sync(pickle.loads, chunk)
    return pickle.loads(head), items
