"""Issue 11, finding 8 (cross-site writes while auth is off): a web page can send text/plain, form
and body-less requests to a local service without asking first. Every route that takes a body wants
its documented media type (415 otherwise), and with auth off a request from a foreign Origin is 403."""

import uuid
from collections.abc import AsyncIterator
from urllib.parse import quote

import httpx
import pytest

from intake_service.app import create_app

from support import running

T = "2026-01-01T00:00:00Z"
SESSIONS = '{"sessions": [{"session_id": "s1", "started_at": "2026-01-01T00:00:00Z"}]}'
SIMPLE_TYPES = ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None)


async def new_experiment(client: httpx.AsyncClient, base: str) -> str:
    name = f"x-{uuid.uuid4().hex[:8]}"
    response = await client.post(f"{base}/experiments", json={"name": name, "dataset_name": "d"})
    assert response.status_code == 201, response.text
    return name


@pytest.mark.parametrize("content_type", SIMPLE_TYPES)
async def test_cross_site_writes_bulk_session_ingest_wants_its_documented_media_type(
    client, base, content_type: str | None
) -> None:
    name = await new_experiment(client, base)
    headers = {"content-type": content_type} if content_type else {}
    response = await client.post(f"{base}/experiments/{name}/sessions", content=SESSIONS, headers=headers)
    assert response.status_code == 415, response.text
    assert response.json()["detail"].endswith("send application/json or application/x-ndjson.")
    listed = await client.get(f"{base}/experiments/{name}/sessions")
    assert listed.json()["pagination"]["total_results"] == 0  # nothing was written
    for documented in ("application/json", "application/json; charset=utf-8"):
        assert (await client.post(f"{base}/experiments/{name}/sessions", content=SESSIONS,
                                  headers={"content-type": documented})).status_code == 201  # fmt: skip


async def test_cross_site_writes_every_route_with_a_body_refuses_a_simple_one(client, base) -> None:
    """Whatever operations document a request body (new ones included): text/plain is 415."""
    paths = (await client.get("/openapi.json")).json()["paths"]
    operations = [(method, path) for path, item in paths.items() for method, op in item.items() if "requestBody" in op]
    assert len(operations) >= 15
    name = await new_experiment(client, base)
    for method, path in operations:
        url = path.replace("{workspace}", base.rsplit("/", 1)[-1]).replace("{name}", quote(name))
        url = url.replace("{id}", "x").replace("{key_name}", "x")
        response = await client.request(method, url, content=b"{}", headers={"content-type": "text/plain"})
        assert response.status_code == 415, (method, path, response.text)
        assert set(response.json()) == {"detail"}
        assert "415" in paths[path][method]["responses"], (method, path)  # and the document says so


@pytest.fixture(scope="module")
async def on_all_interfaces(settings) -> AsyncIterator[httpx.AsyncClient]:
    """Auth off, bound to every interface (serve --insecure-no-auth)."""
    application = create_app(settings.model_copy(update={"host": "0.0.0.0"}))
    async with running(application) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://box.lan:8080") as http:
            yield http


FOREIGN = ("https://evil.example", "http://evil.example:8080", "null", "file://", "http://127.0.0.1.evil.example")
LOOPBACK = ("http://localhost:3000", "http://127.0.0.1:8080", "http://[::1]:8080", "http://app.localhost")


async def test_cross_site_writes_a_foreign_origin_is_refused_while_auth_is_off(client, base) -> None:
    name = await new_experiment(client, base)
    pin = f"{base}/experiments/{name}/pin"
    for origin in FOREIGN:
        for method in ("POST", "DELETE"):
            response = await client.request(method, pin, headers={"Origin": origin})
            assert response.status_code == 403, (origin, response.text)
            assert response.json()["detail"].startswith("Cross-origin requests are refused while auth is off")
        refused = await client.delete(f"{base}/experiments/{name}", headers={"Origin": origin})
        assert refused.status_code == 403
    assert (await client.get(f"{base}/experiments/{name}")).json()["pinned_at"] is None  # nothing changed
    # A page under a DNS name rebound to 127.0.0.1 sends its own name as Host too: still foreign.
    rebound = await client.post(pin, headers={"Origin": "http://evil.example:8080", "Host": "evil.example:8080"})
    assert rebound.status_code == 403
    for origin in LOOPBACK:
        assert (await client.post(pin, headers={"Origin": origin})).status_code == 200, origin
    assert (await client.post(pin)).status_code == 200  # no Origin: curl, SDKs


async def test_the_services_own_origin_passes_when_bound_beyond_loopback(on_all_interfaces) -> None:
    base = f"/apis/intake/v2/workspaces/ws-{uuid.uuid4().hex[:12]}"
    own = await on_all_interfaces.post(f"{base}/experiments", headers={"Origin": "http://box.lan:8080"},
                                       json={"name": "n", "dataset_name": "d"})  # fmt: skip
    assert own.status_code == 201, own.text
    foreign = await on_all_interfaces.post(f"{base}/experiments", headers={"Origin": "http://evil.example"},
                                           json={"name": "m", "dataset_name": "d"})  # fmt: skip
    assert foreign.status_code == 403


async def test_with_auth_on_the_origin_is_left_to_the_key(settings) -> None:
    application = create_app(settings.model_copy(update={"auth": "api-key"}))
    async with running(application) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            response = await http.get("/apis/intake/v2/workspaces/w/experiments", headers={"Origin": "https://x.example"})
            assert response.status_code == 401
