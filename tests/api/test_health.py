"""Liveness and readiness probes (used by the Dockerfile and docker-compose.yml health checks)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from intake_service.api import health

from support import asgi_client, running


class TestLive:
    async def test_ok(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/health/live")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}


class TestReady:
    async def test_ok_when_postgres_answers(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/health/ready")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}

    async def test_503_when_postgres_is_unreachable(self) -> None:
        # Nothing listens on port 1; the probe must answer 503 in the contract's shape, not 500.
        engine = create_async_engine("postgresql+asyncpg://intake@127.0.0.1:1/intake")

        @asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[dict[str, object]]:
            yield {"state": SimpleNamespace(sessionmaker=async_sessionmaker(engine))}
            await engine.dispose()

        application = FastAPI(lifespan=lifespan)
        application.include_router(health.router)
        async with running(application) as manager, asgi_client(manager.app) as http:
            response = await http.get("/health/ready")
        assert response.status_code == 503
        assert response.json() == {"detail": "Metadata store unavailable."}

    async def test_documented_under_the_health_tag(self, client: httpx.AsyncClient) -> None:
        paths = (await client.get("/openapi.json")).json()["paths"]
        for path in ("/health/live", "/health/ready", "/metrics"):
            assert paths[path]["get"]["tags"] == ["health"], path
