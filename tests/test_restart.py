"""Restart persistence in embedded mode: `intake-service serve` keeps experiments in its data
directory across a SIGTERM and a fresh start, and stops its embedded PostgreSQL cleanly."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

STARTUP_TIMEOUT_S = 120
STOP_TIMEOUT_S = 60
WORKSPACE = "restart-ws"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_command() -> list[str]:
    script = Path(sys.executable).with_name("intake-service")
    return [str(script)] if script.exists() else [sys.executable, "-m", "intake_service"]


def processes_using(path: Path) -> list[str]:
    """Command lines of live processes that mention `path` (the embedded postgres runs `-D <path>`)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = next(
                (line for line in (entry / "status").read_text().splitlines() if line.startswith("State:")), ""
            )
        except OSError:
            continue
        if str(path) in cmdline and "zombie" not in state:
            found.append(f"{entry.name}: {cmdline.strip()}")
    return found


class Server:
    """One `intake-service serve` subprocess on a data directory."""

    def __init__(self, data_dir: Path, log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CLICKHOUSE_URL")}
        env = {k: v for k, v in env.items() if not k.startswith("INTAKE_")}
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(
            [*serve_command(), "serve", "--port", str(self.port), "--data-dir", str(data_dir)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"serve exited with {self.process.returncode} before answering:\n{self.log()}")
            try:
                response = httpx.get(f"{self.url}/apis/intake/v2/workspaces/{WORKSPACE}/experiments", timeout=2)
                if response.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        pytest.fail(f"serve did not answer within {STARTUP_TIMEOUT_S}s:\n{self.log()}")

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=STOP_TIMEOUT_S)
        finally:
            self._log.close()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT_S)
        self._log.close()


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # Outside pytest's numbered temp dirs: a concurrent pytest run prunes those, even while in use.
    path = Path(tempfile.mkdtemp(prefix="intake-restart-")) / "intake-data"
    yield path
    shutil.rmtree(path.parent, ignore_errors=True)


def start(data_dir: Path, log_path: Path, servers: list[Server]) -> Server:
    server = Server(data_dir, log_path)
    servers.append(server)
    server.wait_ready()
    # The leftover check after SIGTERM means something only if it sees the server while it runs.
    assert processes_using(data_dir.resolve() / "postgres"), "no embedded PostgreSQL found for the data dir"
    return server


def stop_cleanly(server: Server, data_dir: Path) -> None:
    returncode = server.terminate()
    assert returncode == 0, f"serve exited with {returncode} after SIGTERM:\n{server.log()}"
    postgres_dir = data_dir.resolve() / "postgres"
    leftovers = processes_using(postgres_dir)
    assert leftovers == [], f"processes still use {postgres_dir} after SIGTERM: {leftovers}"
    # pg_ctl stop removes postmaster.pid; a crash or a kill leaves it behind.
    assert not (postgres_dir / "postmaster.pid").exists(), "the embedded PostgreSQL was not stopped cleanly"


def test_experiments_survive_a_restart(data_dir: Path):
    servers: list[Server] = []
    log_path = data_dir.parent / "serve.log"
    try:
        first = start(data_dir, log_path, servers)
        base = f"{first.url}/apis/intake/v2/workspaces/{WORKSPACE}"
        created = httpx.post(
            f"{base}/experiments",
            json={"name": "survivor run", "dataset_name": "ds", "metadata": {"epochs": 10}, "description": "kept"},
            timeout=30,
        )
        assert created.status_code == 201, created.text
        pinned = httpx.post(f"{base}/experiments/survivor%20run/pin", timeout=30)
        assert pinned.status_code == 200, pinned.text
        gone = httpx.post(f"{base}/experiments", json={"name": "deleted one", "dataset_name": "ds"}, timeout=30)
        assert gone.status_code == 201
        assert httpx.delete(f"{base}/experiments/deleted%20one", timeout=30).status_code == 204
        stop_cleanly(first, data_dir)

        second = start(data_dir, log_path, servers)
        base = f"{second.url}/apis/intake/v2/workspaces/{WORKSPACE}"
        got = httpx.get(f"{base}/experiments/survivor%20run", timeout=30)
        assert got.status_code == 200, got.text
        assert got.json() == pinned.json()
        assert httpx.get(f"{base}/experiments/deleted%20one", timeout=30).status_code == 404
        listed = httpx.get(f"{base}/experiments", timeout=30).json()
        assert [row["id"] for row in listed["data"]] == [created.json()["id"]]
        deleted = httpx.get(f"{base}/experiments", params={"filter[is_deleted]": "true"}, timeout=30).json()
        assert [row["id"] for row in deleted["data"]] == [gone.json()["id"]]
        # The name stays taken across the restart.
        again = httpx.post(f"{base}/experiments", json={"name": "survivor run", "dataset_name": "ds"}, timeout=30)
        assert again.status_code == 409
        stop_cleanly(second, data_dir)
    finally:
        for server in servers:
            server.kill()
