"""Prepares the stores: starts the embedded ones where no URL is set, then migrates both."""

import asyncio
import logging
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING

import psutil

from intake_service.embedded.postgres import EmbeddedPostgres
from intake_service.settings import Settings
from intake_service.startup import exclusive_data_dir

# Only what starts the embedded PostgreSQL is imported up front: the modules that migrate and
# repair the stores (SQLAlchemy, FastAPI through the errors, the app's domain for a repair) are
# imported once it is starting, in parallel with them.
if TYPE_CHECKING:
    from intake_service.store.clickhouse.executor import Executor

logger = logging.getLogger(__name__)

# Start-up steps are told to the user through this (the CLI prints them; tests pass nothing).
Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


# One empty file per process using the data directory (named by pid and start time); a file whose
# process is gone was left by a process that was killed.
RUNNING_MARKS = ".intake-processes"


def _repair(database_url: str, executor: "Executor") -> None:
    """Sessions and rollups an interrupted ingest may have left stale are rebuilt before serving:
    the sessions first, since the rollups are computed from them."""
    from intake_service.domain.spans import rebuild_stale_sessions
    from intake_service.store.clickhouse.repair import recompute_all_rollups
    from intake_service.store.clickhouse.telemetry import TelemetryStore
    from intake_service.store.postgres.engine import run_in_transaction
    from intake_service.store.postgres.experiments import ExperimentRepository

    # Not TelemetryStore.close: the executor stays open for the app.
    telemetry = TelemetryStore(executor)
    sessions = asyncio.run(
        run_in_transaction(database_url, lambda s: rebuild_stale_sessions(ExperimentRepository(s), telemetry))
    )
    count = recompute_all_rollups(executor)
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
def _running(settings: Settings, executor: "Executor") -> Iterator[None]:
    """Marks the data directory while this process uses it. A mark left by a killed process means
    an ingest may have stopped between its insert and its session rebuild or rollup rewrite: repair
    first, then drop those marks (if the repair fails they stay, for the next start)."""
    assert settings.database_url is not None
    marks = settings.data_dir / RUNNING_MARKS
    marks.mkdir(parents=True, exist_ok=True)
    if dead := [mark for mark in marks.iterdir() if _gone(mark.name)]:
        _repair(settings.database_url, executor)
        for mark in dead:
            mark.unlink(missing_ok=True)
    mine = marks / _identity(os.getpid())
    mine.touch()
    try:
        yield
    finally:
        mine.unlink(missing_ok=True)


@contextmanager
def _started_postgres(settings: Settings, progress: Progress) -> Iterator[Callable[[], Settings]]:
    """Starts the embedded PostgreSQL (where no URL is set) in a thread: initdb and pg_ctl are other
    processes, so this process does its own start-up work meanwhile. Yields a call that waits for it
    and returns the settings with its URL; the server stops on exit."""
    if settings.database_url is not None:
        yield lambda: settings
        return
    progress(f"Starting PostgreSQL (embedded, in {settings.data_dir / 'postgres'})…")
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="postgres-start") as pool:
        starting = pool.submit(EmbeddedPostgres, settings.data_dir)
        try:
            yield lambda: settings.model_copy(update={"database_url": starting.result().url})
        finally:
            # Also when this process failed first: the start is awaited, then the server stopped.
            if starting.exception() is None:
                progress("Stopping PostgreSQL…")
                starting.result().stop()


@contextmanager
def prepared_postgres(settings: Settings, progress: Progress = _quiet) -> Iterator[Settings]:
    """PostgreSQL alone (the keys commands): started if embedded, migrated; ClickHouse untouched."""
    with _started_postgres(settings, progress) as started:
        from intake_service.store.postgres.migrate import upgrade_postgres

        ready = started()
        assert ready.database_url is not None
        progress("Migrating PostgreSQL…")
        upgrade_postgres(ready.database_url)
        yield ready


@contextmanager
def _opened_clickhouse(settings: Settings, progress: Progress) -> Iterator[Callable[[], "Executor"]]:
    """Opens and migrates ClickHouse in a thread: chDB opens its tables and runs statements without
    holding the GIL (on a full directory about 0.2 s), so this process imports its app meanwhile.
    Yields a call that waits for it and returns the executor, which stays open until exit."""
    from intake_service.store.clickhouse.executor import create_executor
    from intake_service.store.clickhouse.migrate import apply_migrations

    # The drivers are imported here, not in the thread: chDB's import changes the working directory
    # for a moment, and a module the app imports too is better imported by one thread.
    if settings.embedded_clickhouse:
        import chdb  # noqa: F401

        progress(f"Starting ClickHouse (chDB in-process, in {settings.data_dir / 'clickhouse'}) and migrating it…")
    else:
        import clickhouse_connect  # noqa: F401

        progress("Migrating ClickHouse…")
    executor = create_executor(settings.clickhouse_url, settings.data_dir)
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="clickhouse-start") as pool:
            # Leaving the pool waits for it, also when this process failed first.
            migrating = pool.submit(apply_migrations, executor, settings.clickhouse_cluster)

            def opened() -> "Executor":
                migrating.result()
                return executor

            yield opened
    finally:
        executor.close()


@contextmanager
def prepared_stores(
    settings: Settings, progress: Progress = _quiet, meanwhile: Callable[[], object] | None = None
) -> Iterator[Settings]:
    """Settings with a DATABASE_URL that answers, both stores migrated and repaired; the embedded
    server stops on exit. Embedded stores belong to one server at a time: a second one on the same
    data directory fails with a StartupError before starting anything.

    While PostgreSQL starts and ClickHouse is opened and migrated, `meanwhile` runs (the server
    imports its app there). The ClickHouse connection stays open until exit, so the app's own
    connections find chDB's engine loaded rather than loading it again."""
    # Read before initdb may start. Were it wrong (another process made the cluster meanwhile),
    # Alembic, which reads the database's revision itself, would find nothing to do.
    new_database = settings.embedded_postgres and not (settings.data_dir / "postgres" / "PG_VERSION").exists()
    with (
        exclusive_data_dir(settings.data_dir),
        _started_postgres(settings, progress) as started,
        _opened_clickhouse(settings, progress) as opened,
    ):
        from intake_service.store.postgres.migrate import load_migration, upgrade_postgres

        if meanwhile is not None:
            meanwhile()
        # initdb takes 0.5-2 s; what the migration imports loads while it runs (or while chDB migrates).
        load_migration(new_database)
        executor = opened()
        ready = started()
        assert ready.database_url is not None
        progress("Migrating PostgreSQL…")
        upgrade_postgres(ready.database_url, new_database)
        with _running(ready, executor):
            yield ready
