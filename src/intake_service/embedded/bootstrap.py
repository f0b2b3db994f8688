"""Prepares the stores: starts the embedded ones where no URL is set, then migrates both."""

import asyncio
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psutil

from intake_service.domain.spans import rebuild_stale_sessions
from intake_service.embedded.postgres import EmbeddedPostgres
from intake_service.settings import Settings
from intake_service.startup import exclusive_data_dir
from intake_service.store.clickhouse.executor import create_executor
from intake_service.store.clickhouse.repair import recompute_all_rollups
from intake_service.store.clickhouse.telemetry import TelemetryStore, migrate_telemetry
from intake_service.store.postgres.engine import run_in_transaction
from intake_service.store.postgres.experiments import ExperimentRepository
from intake_service.store.postgres.migrate import upgrade_postgres

logger = logging.getLogger(__name__)

# Start-up steps are told to the user through this (the CLI prints them; tests pass nothing).
Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


# One empty file per process using the data directory (named by pid and start time); a file whose
# process is gone was left by a process that was killed.
RUNNING_MARKS = ".intake-processes"


def _repair(settings: Settings) -> None:
    """Sessions and rollups an interrupted ingest may have left stale are rebuilt before serving:
    the sessions first, since the rollups are computed from them."""
    assert settings.database_url is not None
    database_url = settings.database_url
    executor = create_executor(settings.clickhouse_url, settings.data_dir)
    try:
        telemetry = TelemetryStore(executor)
        sessions = asyncio.run(
            run_in_transaction(database_url, lambda s: rebuild_stale_sessions(ExperimentRepository(s), telemetry))
        )
        count = recompute_all_rollups(executor)
    finally:
        executor.close()
    logger.warning("The last run did not shut down cleanly: rebuilt %d session(s) from their spans.", sessions)
    logger.warning("The last run did not shut down cleanly: recomputed the rollups of %d experiment(s).", count)


def _identity(pid: int) -> str:
    """pid and start time: a pid alone may belong to another process by now (a container restarts
    its service under the same pid every time)."""
    return f"{pid}-{psutil.Process(pid).create_time():.3f}"


def _gone(mark: str) -> bool:
    try:
        return _identity(int(mark.split("-", 1)[0])) != mark
    except (ValueError, psutil.Error):
        return True


@contextmanager
def _running(settings: Settings) -> Iterator[None]:
    """Marks the data directory while this process uses it. A mark left by a killed process means
    an ingest may have stopped between its insert and its session rebuild or rollup rewrite: repair
    first, then drop those marks (if the repair fails they stay, for the next start)."""
    marks = settings.data_dir / RUNNING_MARKS
    marks.mkdir(parents=True, exist_ok=True)
    if dead := [mark for mark in marks.iterdir() if _gone(mark.name)]:
        _repair(settings)
        for mark in dead:
            mark.unlink(missing_ok=True)
    mine = marks / _identity(os.getpid())
    mine.touch()
    try:
        yield
    finally:
        mine.unlink(missing_ok=True)


@contextmanager
def prepared_postgres(settings: Settings, progress: Progress = _quiet) -> Iterator[Settings]:
    """PostgreSQL alone (the keys commands): started if embedded, migrated; ClickHouse untouched."""
    embedded = None
    if settings.database_url is None:
        progress(f"Starting PostgreSQL (embedded, in {settings.data_dir / 'postgres'})…")
        embedded = EmbeddedPostgres(settings.data_dir)
        settings = settings.model_copy(update={"database_url": embedded.url})
    try:
        assert settings.database_url is not None
        progress("Migrating PostgreSQL…")
        upgrade_postgres(settings.database_url)
        yield settings
    finally:
        if embedded is not None:
            progress("Stopping PostgreSQL…")
            embedded.stop()


@contextmanager
def prepared_stores(settings: Settings, progress: Progress = _quiet) -> Iterator[Settings]:
    """Settings with a DATABASE_URL that answers, migrated; the embedded server stops on exit.
    Embedded stores belong to one server at a time: a second one on the same data directory fails
    with a StartupError before starting anything."""
    with exclusive_data_dir(settings.data_dir), prepared_postgres(settings, progress) as ready:
        if ready.embedded_clickhouse:
            progress(f"Starting ClickHouse (chDB in-process, in {ready.data_dir / 'clickhouse'}) and migrating it…")
        else:
            progress("Migrating ClickHouse…")
        migrate_telemetry(ready)
        with _running(ready):
            yield ready
