"""Fixtures for the ML-workbench API (/api/v1/experiments): a client bound to a fresh workspace
(X-Organization-Id) on the shared app, whose auth is off."""

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest


@pytest.fixture
def org() -> str:
    return f"org-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def wb(app, org: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the auth-off app whose every request names a fresh workspace."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers={"X-Organization-Id": org}, timeout=60
    ) as http:
        yield http
