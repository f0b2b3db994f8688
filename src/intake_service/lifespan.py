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
from intake_service.settings import Settings
from intake_service.store.artifacts import ArtifactStore, open_artifact_store
from intake_service.store.clickhouse.telemetry import TelemetryStore, open_telemetry
from intake_service.store.postgres.engine import create_engine, create_read_sessionmaker, create_sessionmaker


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
    # For GET and HEAD requests: the same pool, without BEGIN and COMMIT (store/postgres/engine.py).
    read_sessionmaker: async_sessionmaker[AsyncSession] | None = None


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
        try:
            state = State(
                settings,
                create_sessionmaker(engine),
                telemetry,
                open_artifact_store(settings),
                metrics,
                watchdog,
                create_read_sessionmaker(engine),
            )
            yield {"state": state}
        finally:
            if watching is not None:
                watching.cancel()
            worker.shutdown()
            telemetry.close()
            await engine.dispose()

    return lifespan
