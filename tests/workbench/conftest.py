"""Fixtures for the ML-workbench API (/api/v1/experiments): a client bound to a fresh workspace
(X-Organization-Id) on the shared app, whose auth is off."""

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from support import asgi_client


@pytest.fixture
def org() -> str:
    return f"org-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def wb(app, org: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the auth-off app whose every request names a fresh workspace."""
    async with asgi_client(app, headers={"X-Organization-Id": org}) as http:
        yield http
