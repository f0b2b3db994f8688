"""The lifespan owns every resource the app uses and yields them as typed state."""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intake_service.api.middleware import Metrics
from intake_service.domain.formats import worker
from intake_service.embedded.postgres import EmbeddedPostgres
from intake_service.embedded.watchdog import PostgresWatchdog
from intake_service.errors import TelemetryUnavailable
from intake_service.glibc import malloc_trim
from intake_service.settings import Settings
from intake_service.store.artifacts import ArtifactStore, open_artifact_store
from intake_service.store.clickhouse.executor import ChdbExecutor
from intake_service.store.clickhouse.telemetry import TelemetryStore, open_telemetry
from intake_service.store.postgres.engine import create_engine, create_sessionmaker

# How often memory the allocators keep but no longer use goes back to the operating system.
RELEASE_MEMORY_SECONDS = 5.0


@dataclass
class State:
    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    telemetry: TelemetryStore
    # Artifact bytes of the ML-workbench API (/api/v1).
    artifacts: ArtifactStore
    # The app's Prometheus registry; the middleware that counts requests holds the same one.
    metrics: Metrics
    # Restarts the embedded PostgreSQL this process started, if it serves from one.
    postgres_watchdog: PostgresWatchdog | None = None


def _release_memory(telemetry: TelemetryStore, trim: Callable[[int], object] | None) -> None:
    """Both allocators of this process keep freed memory for reuse, so the resident size would stay
    near its peak after a bulk ingest (measured after 200,000 sessions: about 100 MB kept by chDB's
    jemalloc and 140 MB free in glibc's heap, where Python parsed the bodies; chDB's caches held
    under 1 MB, so no cache setting is lowered). Handing it back takes about a millisecond; what
    is in use, and every cache, stays."""
    if isinstance(telemetry.executor, ChdbExecutor):
        try:
            telemetry.executor.release_memory()
        except TelemetryUnavailable:
            pass
    if trim is not None:
        trim(0)


async def _release_memory_now_and_then(telemetry: TelemetryStore) -> None:
    trim = malloc_trim()
    while True:
        await asyncio.sleep(RELEASE_MEMORY_SECONDS)
        await asyncio.to_thread(_release_memory, telemetry, trim)


def lifespan_for(
    settings: Settings, metrics: Metrics
) -> Callable[[FastAPI], AbstractAsyncContextManager[dict[str, State]]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, State]]:
        if settings.database_url is None:
            raise RuntimeError("DATABASE_URL is not set; start through `intake-service serve`.")
        engine = create_engine(settings.database_url)
        telemetry = open_telemetry(settings)
        embedded = EmbeddedPostgres.started_at(settings.database_url)
        watchdog = PostgresWatchdog(embedded) if embedded is not None else None
        watching = asyncio.create_task(watchdog.run()) if watchdog is not None else None
        releasing = asyncio.create_task(_release_memory_now_and_then(telemetry))
        try:
            state = State(
                settings, create_sessionmaker(engine), telemetry, open_artifact_store(settings), metrics, watchdog
            )
            yield {"state": state}
        finally:
            releasing.cancel()
            if watching is not None:
                watching.cancel()
            worker.shutdown()
            await telemetry.settle()
            telemetry.close()
            await engine.dispose()

    return lifespan
