"""Prepares the stores: starts the embedded ones where no URL is set, then migrates both."""

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

from intake_service.embedded.postgres import EmbeddedPostgres
from intake_service.settings import Settings
from intake_service.store.clickhouse.executor import create_executor
from intake_service.store.clickhouse.repair import recompute_all_rollups
from intake_service.store.clickhouse.telemetry import migrate_telemetry
from intake_service.store.postgres.migrate import upgrade_postgres

logger = logging.getLogger(__name__)


# Present while a process uses the data directory; left behind by one that was killed.
RUNNING_MARK = ".intake-running"


def _repair_rollups(settings: Settings) -> None:
    """Rollups an interrupted ingest may have left stale are recomputed before serving."""
    executor = create_executor(settings.clickhouse_url, settings.data_dir)
    try:
        count = recompute_all_rollups(executor)
    finally:
        executor.close()
    logger.warning("The last run did not shut down cleanly: recomputed the rollups of %d experiment(s).", count)


def _identity(pid: int) -> str:
    """pid and start time: a pid alone may belong to another process by now (a container restarts
    its service under the same pid every time)."""
    return f"{pid} {psutil.Process(pid).create_time():.3f}"


def _killed_before(mark: Path) -> bool:
    """A mark whose process is gone: that process never reached its clean exit."""
    try:
        recorded = mark.read_text().strip()
    except FileNotFoundError:
        return False
    try:
        pid = int(recorded.split()[0])
        return pid == os.getpid() or _identity(pid) != recorded
    except (ValueError, IndexError, psutil.Error):
        return True


@contextmanager
def _running(settings: Settings) -> Iterator[None]:
    """Marks the data directory while this process uses it. A mark left by a killed process means
    an ingest may have stopped between its insert and its rollup rewrite: repair first (if that
    fails, the mark stays for the next start)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    mark = settings.data_dir / RUNNING_MARK
    if _killed_before(mark):
        _repair_rollups(settings)
    mark.write_text(_identity(os.getpid()))
    try:
        yield
    finally:
        mark.unlink(missing_ok=True)


@contextmanager
def prepared_stores(settings: Settings) -> Iterator[Settings]:
    """Settings with a DATABASE_URL that answers, migrated; the embedded server stops on exit."""
    embedded = None
    if settings.database_url is None:
        embedded = EmbeddedPostgres(settings.data_dir)
        settings = settings.model_copy(update={"database_url": embedded.url})
    try:
        assert settings.database_url is not None
        upgrade_postgres(settings.database_url)
        migrate_telemetry(settings)
        with _running(settings):
            yield settings
    finally:
        if embedded is not None:
            embedded.stop()
