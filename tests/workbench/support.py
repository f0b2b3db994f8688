"""Helpers for the ML-workbench tests: apps with changed settings, keys, response checks."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import httpx
from asgi_lifespan import LifespanManager

from intake_service.app import create_app
from intake_service.domain import auth
from intake_service.settings import Settings
from intake_service.store.postgres.api_keys import ApiKeyRepository
from intake_service.store.postgres.engine import run_in_transaction

API = "/api/v1/experiments"


@asynccontextmanager
async def client_for(settings: Settings, **changes: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a new app built with changed settings (auth, JWT keys, artifact store)."""
    application = create_app(settings.model_copy(update=changes))
    async with LifespanManager(application) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=60) as http:
            yield http


async def make_key(
    settings: Settings, scopes: list[str], workspaces: list[str], expires_at: datetime | None = None
) -> tuple[str, str]:
    """(principal name, token) of a new API key, made the way the CLI makes one."""
    name = f"wb-{uuid.uuid4().hex[:10]}"

    async def work(session):
        _, token = await auth.create_key(ApiKeyRepository(session), name, scopes, workspaces, expires_at)
        return token

    assert settings.database_url is not None
    return name, await run_in_transaction(settings.database_url, work)


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.status_code} {response.text}"
    return response.json() if response.content else None


def problem(response: httpx.Response, status: int) -> str:
    """The status is right and the body is {"detail": "<one sentence>"}."""
    assert response.status_code == status, f"{response.status_code} {response.text}"
    body = response.json()
    assert set(body) == {"detail"} and isinstance(body["detail"], str), body
    detail = body["detail"]
    assert detail.endswith(".") and "\n" not in detail and "Traceback" not in detail, detail
    return detail
