"""Shared fixtures: one embedded PostgreSQL and one chDB directory per test session, a fresh
workspace per test (so tests never see each other's rows), an httpx client over the real app, and
`serve` for tests that need the real `intake-service serve` process. Helpers are in support.py."""

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import fastapi.routing
import httpx
import pytest

from intake_service.app import create_app
from intake_service.embedded.bootstrap import prepared_stores
from intake_service.settings import Settings

from support import Server, asgi_client, running, workspace_base


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
    async with running(application) as manager:
        yield manager.app


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(app) as http:
        yield http


@pytest.fixture
def workspace() -> str:
    return f"ws-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def base(workspace: str) -> str:
    return workspace_base(workspace)


@pytest.fixture
def serve() -> Iterator[Callable[..., Server]]:
    """`serve(data_dir, *args)` starts `intake-service serve` and returns it once it answers; whatever
    the test leaves running is stopped at its end."""
    servers: list[Server] = []

    def start(data_dir: Path, *args: str) -> Server:
        server = Server(data_dir, *args)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def route_builds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The path of every route FastAPI builds from now on, one entry a build (its internals: the
    tests of lazy and shared route builds guard them)."""
    builds: list[str] = []
    populate = fastapi.routing._populate_api_route_state

    def counting(*args: object, **kwargs: object) -> None:
        builds.append(args[1])  # type: ignore[arg-type]
        populate(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(fastapi.routing, "_populate_api_route_state", counting)
    return builds
