"""Start-up checks that run before the stores start, each failing with one sentence (StartupError):
the settings, the data directory (writable, used by no other server) and the port."""

import errno
import fcntl
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from intake_service.settings import Settings

LOCK_FILE = ".intake-lock"


class StartupError(Exception):
    """A mistake in how the service was started; its message is one sentence for the user."""


def _names(field: str) -> str:
    """How a user spells a setting: its flag where `serve` has one, and its environment variable."""
    info = Settings.model_fields[field]
    alias = info.validation_alias
    env = getattr(alias, "choices", [f"INTAKE_{field.upper()}"])[0]
    flag = f"--{field.replace('_', '-')}"
    return f"{flag} or {env}" if field in SERVE_FLAGS else str(env)


SERVE_FLAGS = {"host", "port", "data_dir", "database_url", "clickhouse_url", "log_level", "auth"}


UNSHOWN_SETTINGS = {"jwt_secret", "jwt_public_key", "metrics_key", "database_url", "clickhouse_url"}


def load_settings(**flags: Any) -> Settings:
    """Settings from flags (None = not given), the environment and the defaults; flags win."""
    try:
        return Settings(**{name: value for name, value in flags.items() if value is not None})
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else ""
        if field in Settings.model_fields:
            where = f"{field.replace('_', ' ')} ({_names(field)})"
        else:
            where = field or "settings"
        message = str(error["msg"]).removeprefix("Value error, ").rstrip(".")
        # Secrets and URLs (which may hold a password) are never echoed back.
        shown = "" if field in UNSHOWN_SETTINGS else f" {error['input']!r}"
        raise StartupError(f"Invalid {where}{shown}: {message[:1].lower()}{message[1:]}.") from None


@contextmanager
def _cannot_write(data_dir: Path) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise StartupError(
            f"The data directory {data_dir} cannot be written ({exc.strerror}): "
            "pick another with --data-dir or INTAKE_DATA_DIR."
        ) from None


def make_data_dir(data_dir: Path) -> None:
    """Creates the data directory (and its parents) or says in one sentence why it cannot."""
    with _cannot_write(data_dir):
        data_dir.mkdir(parents=True, exist_ok=True)


@contextmanager
def exclusive_data_dir(data_dir: Path) -> Iterator[None]:
    """Creates the data directory if needed and holds an exclusive lock on it while the stores run:
    chDB and the rollup repair assume one server per directory. The kernel drops the lock when the
    process dies, so a killed server never blocks the next start."""
    make_data_dir(data_dir)
    with _cannot_write(data_dir):
        lock = (data_dir / LOCK_FILE).open("a+")
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "unknown"
            raise StartupError(
                f"Another intake-service (pid {holder}) is using the data directory {data_dir}: "
                "stop it or pick another directory with --data-dir."
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()))
        lock.flush()
        try:
            yield
        finally:
            lock.truncate(0)


def listening_socket(host: str, port: int) -> socket.socket:
    """The server's socket, bound before the stores start so a busy port fails at once."""
    try:
        return socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise StartupError(f"Port {port} on {host} is already in use: pick another with --port.") from None
        raise StartupError(f"Cannot listen on {host}:{port} ({exc.strerror}): check --host and --port.") from None
