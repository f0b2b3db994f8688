"""glibc's allocator, told to keep less: few heaps, and freed memory handed back (lifespan.py).
Elsewhere (musl, macOS) these calls are absent and nothing changes."""

import ctypes
import ctypes.util
from collections.abc import Callable

# mallopt's parameter for the number of heaps ("arenas"), from glibc's malloc.h.
M_ARENA_MAX = -8
# glibc gives each new thread a heap of its own, up to 8 per core: the pages freed in one of them
# stay with it, so after a bulk ingest (bodies parsed in worker threads) each kept tens of MB that
# malloc_trim could not hand back. Two heaps: +14 MB after 400,000 sessions instead of +54 MB.
ARENAS = 2


def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def malloc_trim() -> Callable[[int], object] | None:
    """glibc's malloc_trim, where the C library is glibc."""
    return getattr(_libc(), "malloc_trim", None)


def limit_arenas(count: int = ARENAS) -> None:
    """Call before the process starts its threads: a thread that has a heap keeps it."""
    mallopt = getattr(_libc(), "mallopt", None)
    if mallopt is not None:
        mallopt(M_ARENA_MAX, count)
