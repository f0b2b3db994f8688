"""Restart persistence in embedded mode: `intake-service serve` keeps experiments in its data
directory across a SIGTERM and a fresh start, and stops its embedded PostgreSQL cleanly."""

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from support import Server, assert_postgres_shut_down, postgres_processes, workspace_base

WORKSPACE = "restart-ws"


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # Outside pytest's numbered temp dirs: a concurrent pytest run prunes those, even while in use.
    path = Path(tempfile.mkdtemp(prefix="intake-restart-")) / "intake-data"
    yield path
    shutil.rmtree(path.parent, ignore_errors=True)


def start(serve: Callable[..., Server], data_dir: Path) -> Server:
    server = serve(data_dir)
    # The leftover check after SIGTERM means something only if it sees the server while it runs.
    assert postgres_processes(data_dir.resolve() / "postgres"), "no embedded PostgreSQL found for the data dir"
    return server


def stop_cleanly(server: Server, data_dir: Path) -> None:
    returncode = server.stop()
    assert returncode == 0, f"serve exited with {returncode} after SIGTERM:\n{server.output()}"
    assert_postgres_shut_down(data_dir)


def test_experiments_survive_a_restart(data_dir: Path, serve):
    first = start(serve, data_dir)
    base = f"{first.url}{workspace_base(WORKSPACE)}"
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
    # Ingested and never read: the rollups this process left stale are written before it exits.
    assert httpx.post(f"{base}/experiments", json={"name": "ingested", "dataset_name": "ds"}).status_code == 201
    sessions = [{"session_id": f"s{i}", "started_at": "2026-01-01T00:00:00Z"} for i in range(3)]
    ingested = httpx.post(f"{base}/experiments/ingested/sessions", json={"sessions": sessions}, timeout=30)
    assert ingested.status_code == 201, ingested.text
    stop_cleanly(first, data_dir)

    second = start(serve, data_dir)
    base = f"{second.url}{workspace_base(WORKSPACE)}"
    got = httpx.get(f"{base}/experiments/survivor%20run", timeout=30)
    assert got.status_code == 200, got.text
    assert got.json() == pinned.json()
    assert httpx.get(f"{base}/experiments/deleted%20one", timeout=30).status_code == 404
    listed = httpx.get(f"{base}/experiments", timeout=30).json()
    assert [row["name"] for row in listed["data"]] == ["survivor run", "ingested"]
    assert httpx.get(f"{base}/experiments/ingested", timeout=30).json()["run_count"] == 3
    deleted = httpx.get(f"{base}/experiments", params={"filter[is_deleted]": "true"}, timeout=30).json()
    assert [row["id"] for row in deleted["data"]] == [gone.json()["id"]]
    # The name stays taken across the restart.
    again = httpx.post(f"{base}/experiments", json={"name": "survivor run", "dataset_name": "ds"}, timeout=30)
    assert again.status_code == 409
    stop_cleanly(second, data_dir)
