"""Issue 11, finding 7 (a dead embedded PostgreSQL stays dead), against a real `intake-service serve`:
after its postmaster is killed the service starts it again by itself, and when it cannot,
/health/live fails so that an orchestrator restarts the process."""

import asyncio
import signal
import time
import uuid
from pathlib import Path

import httpx
import psutil

from support import Server, workspace_base


def kill_postmaster(pgdata: Path) -> int:
    pid = int((pgdata / "postmaster.pid").read_text().splitlines()[0])
    process = psutil.Process(pid)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    return pid


async def wait_for(check, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, f"not within {seconds} s"
        await asyncio.sleep(0.2)


async def test_a_dead_embedded_postgres_is_restarted(tmp_path) -> None:
    service = Server(tmp_path / "data").start()
    pgdata = (tmp_path / "data").resolve() / "postgres"
    ws = workspace_base(f"pgdead-{uuid.uuid4().hex[:6]}")
    try:
        async with httpx.AsyncClient(base_url=service.url, timeout=30) as http:
            assert (
                await http.post(f"{ws}/experiments", json={"name": "before", "dataset_name": "d"})
            ).status_code == 201
            killed = kill_postmaster(pgdata)

            async def listed() -> bool:
                response = await http.get(f"{ws}/experiments")
                assert response.status_code in (200, 503), response.text
                assert (await http.get("/health/live")).status_code == 200
                return response.status_code == 200

            await wait_for(listed, 60)
            restarted = int((pgdata / "postmaster.pid").read_text().splitlines()[0])
            assert restarted != killed and psutil.pid_exists(restarted)
            assert [row["name"] for row in (await http.get(f"{ws}/experiments")).json()["data"]] == ["before"]
            assert (
                await http.post(f"{ws}/experiments", json={"name": "after", "dataset_name": "d"})
            ).status_code == 201
            assert (await http.get("/health/ready")).status_code == 200

            # The watchdog logs once its restart call returns, which can come after the first
            # requests the new postmaster already served.
            async def logged() -> bool:
                return "The embedded PostgreSQL is running again." in service.output()

            await wait_for(logged, 30)
    finally:
        service.stop()
    assert service.process is not None and service.process.returncode == 0, service.output()


async def test_a_dead_embedded_postgres_that_cannot_restart_fails_liveness(tmp_path) -> None:
    service = Server(tmp_path / "data").start()
    pgdata = (tmp_path / "data").resolve() / "postgres"
    config = pgdata / "postgresql.conf"
    try:
        async with httpx.AsyncClient(base_url=service.url, timeout=30) as http:
            assert (await http.get("/health/live")).status_code == 200
            # A setting PostgreSQL refuses: every restart attempt fails.
            config.write_text(config.read_text() + "\nnot_a_setting_at_all = on\n")
            kill_postmaster(pgdata)

            async def live_fails() -> bool:
                return (await http.get("/health/live")).status_code == 503

            await wait_for(live_fails, 90)
            live = await http.get("/health/live")
            assert live.json() == {"detail": "The embedded PostgreSQL could not be restarted."}
        assert "could not be restarted: /health/live now fails" in service.output()
    finally:
        service.stop()
