"""Helpers the benchmark scripts share (they run as `python bench/<script>.py`, so this imports
as `common`)."""

import socket
import time

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, timeout: float = 120.0) -> None:
    """Until the server at `url` answers /health/live."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health/live", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError("the server did not start")


def percentile(samples: list[float], q: float) -> float:
    """Linear interpolation between closest ranks, as numpy.percentile's default."""
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    index = (len(ordered) - 1) * q / 100
    low = int(index)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (index - low)
