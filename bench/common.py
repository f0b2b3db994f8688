"""Helpers the benchmark scripts share (they run as `python bench/<script>.py`, so this imports
as `common`)."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, timeout: float = 120.0, path: str = "/health/live") -> None:
    """Until the server at `url` answers `path`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}{path}", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError("the server did not start")


def load_average() -> str:
    """The machine's 1, 5 and 15 minute load averages: figures from a shared machine go beside them."""
    with open("/proc/loadavg") as loadavg:
        return " ".join(loadavg.read().split()[:3])


def percentile(samples: list[float], q: float) -> float:
    """Linear interpolation between closest ranks, as numpy.percentile's default."""
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    index = (len(ordered) - 1) * q / 100
    low = int(index)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (index - low)


def cpu_by_process(pid: int) -> dict[int, float]:
    """User and system CPU time, by pid, of a service and its descendants alive now (its parse worker)
    and of the embedded PostgreSQL serving its --data-dir: pg_ctl starts the postmaster detached (its
    parent is init), so it is found by its data directory, and its backends as its children."""
    root = psutil.Process(pid)
    processes = [root, *root.children(recursive=True)]
    command = root.cmdline()
    if "--data-dir" in command:
        pgdata = str(Path(command[command.index("--data-dir") + 1]).resolve() / "postgres")
        for found in psutil.process_iter(["name", "cmdline"]):
            if found.info["name"] == "postgres" and pgdata in " ".join(found.info["cmdline"] or []):
                processes += [found, *found.children(recursive=True)]
    seconds = {}
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        seconds[process.pid] = times.user + times.system
    return seconds


def cpu_seconds(pid: int) -> float:
    """The total of cpu_by_process. Unlike wall time, it barely moves with what else the machine runs,
    so it compares two builds on a shared machine."""
    return sum(cpu_by_process(pid).values())


def _environment(src: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INTAKE_", "DATABASE_URL", "CLICKHOUSE_URL"))}
    if src is not None:
        env["PYTHONPATH"] = str(src)
    return env


def launch(
    data_dir: str, src: Path | None = None, stdout: int | None = subprocess.DEVNULL, serve_args: tuple[str, ...] = ()
) -> tuple[subprocess.Popen[bytes], str, float]:
    """`intake-service serve` on a free loopback port with `data_dir` (embedded stores), started from
    `src` when given (another source tree, first on PYTHONPATH), `serve_args` added: the process, its
    URL and its seconds from launch to /health/ready."""
    url = f"http://127.0.0.1:{free_port()}"
    env = _environment(src)
    began = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "intake_service", "serve", "--port", url.rsplit(":", 1)[1], "--data-dir", data_dir,
         "--log-level", "warning", *serve_args],
        stdout=stdout, stderr=stdout, env=env,
    )  # fmt: skip
    while True:
        if server.poll() is not None:
            raise RuntimeError("the server exited")
        try:
            if httpx.get(f"{url}/health/ready", timeout=2).status_code == 200:
                return server, url, time.perf_counter() - began
        except httpx.TransportError:
            pass
        time.sleep(0.05)


def create_key(data_dir: str, src: Path | None = None) -> str:
    """The secret of a new API key (intake read and write, every workspace) in `data_dir`'s stores,
    made by `intake-service keys create` from `src` (before the server starts)."""
    printed = subprocess.run(
        [sys.executable, "-m", "intake_service", "keys", "create", "bench", "--scope", "intake:read",
         "--scope", "intake:write", "--data-dir", data_dir],
        env=_environment(src), capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    found = re.search(r"isk_\S+", printed)
    assert found, printed
    return found.group(0)


def source_trees(against: Path | None) -> dict[str, Path]:
    """The source trees a benchmark measures: this checkout's, and `against` (another tree's src/)."""
    trees = {"this": Path(__file__).resolve().parent.parent / "src"}
    if against:
        trees["against"] = against.resolve()
    return trees


@dataclass
class Served:
    url: str
    pid: int


@contextmanager
def serve(data_dir: str) -> Iterator[Served]:
    """`intake-service serve` on a free loopback port with `data_dir` (embedded stores), ready."""
    server, url, _ = launch(data_dir, stdout=None)
    try:
        yield Served(url, server.pid)
    finally:
        server.terminate()
        server.wait(timeout=60)


@contextmanager
def profiled(pid: int, py_spy: Path | None, profile: Path) -> Iterator[None]:
    """With `py_spy`, the server is profiled (every thread, raw stacks to `profile`) for the block
    only: the timed requests, not the setup or the count of what was stored afterwards."""
    if py_spy is None:
        yield
        return
    sampling = subprocess.Popen(
        [str(py_spy), "record", "--pid", str(pid), "--rate", "50", "--format", "raw", "--nonblocking",
         "-o", str(profile)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield
    finally:
        sampling.send_signal(signal.SIGINT)  # py-spy writes its stacks on SIGINT
        sampling.wait(timeout=60)
