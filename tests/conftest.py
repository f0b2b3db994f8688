"""Shared fixtures: one embedded PostgreSQL and one chDB directory per test session, a fresh
workspace per test (so tests never see each other's rows), and an httpx client over the real app."""

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from intake_service.app import create_app
from intake_service.embedded.bootstrap import prepared_stores
from intake_service.settings import Settings


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("intake-data")


@pytest.fixture(scope="session")
def settings(data_dir: Path) -> Iterator[Settings]:
    """Embedded PostgreSQL and chDB in a temp directory, migrated, stopped at the end."""
    with prepared_stores(Settings(data_dir=data_dir, database_url=None, clickhouse_url=None)) as ready:
        yield ready


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[object]:
    application = create_app(settings)
    async with LifespanManager(application) as manager:
        yield manager.app


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def workspace() -> str:
    return f"ws-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def base(workspace: str) -> str:
    return f"/apis/intake/v2/workspaces/{workspace}"
