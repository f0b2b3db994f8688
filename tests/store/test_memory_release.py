"""Issue 12, memory: what the allocators keep after a large statement goes back to the operating
system (chDB's jemalloc through SYSTEM JEMALLOC PURGE, glibc's heap through malloc_trim), now and
then in the app's lifespan."""

import subprocess
import sys

import psutil

from intake_service import lifespan
from intake_service.glibc import malloc_trim
from intake_service.store.clickhouse.executor import ChdbExecutor

from support import app_telemetry

# Threads alive at once, each allocating (a list of 200 pointers is glibc's, not pymalloc's), then
# glibc's own account of its heaps (malloc_info writes one <heap nr=...> per arena).
HEAPS_AFTER_THREADS = """
import ctypes, sys, tempfile, threading
from intake_service.glibc import limit_arenas
if sys.argv[1] == "limited":
    limit_arenas()
barrier = threading.Barrier(8)
kept = []
def allocate():
    kept.append([[None] * 200 for _ in range(100)])
    barrier.wait()
threads = [threading.Thread(target=allocate) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
libc = ctypes.CDLL("libc.so.6")
libc.fopen.restype = ctypes.c_void_p
with tempfile.NamedTemporaryFile() as out:
    stream = libc.fopen(out.name.encode(), b"w")
    libc.malloc_info(0, ctypes.c_void_p(stream))
    libc.fclose(ctypes.c_void_p(stream))
    print(open(out.name).read().count("<heap nr="))
"""
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
    lifespan._release_memory(telemetry, malloc_trim())
    assert rss() < kept - 50 * MB


def test_the_process_keeps_two_heaps_however_many_threads_allocate() -> None:
    def heaps(mode: str) -> int:
        command = [sys.executable, "-c", HEAPS_AFTER_THREADS, mode]
        return int(subprocess.run(command, capture_output=True, text=True, check=True).stdout)

    assert heaps("limited") == 2
    assert heaps("default") > 2  # what the limit is for: a heap per thread otherwise
