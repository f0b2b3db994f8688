"""intake_store_errors_total counts each 503 under the store that failed, as the error names it
(not by matching the response's text): PostgreSQL, ClickHouse or the artifact store."""

import uuid

import httpx
from fastapi import HTTPException
from prometheus_client.parser import text_string_to_metric_families

from intake_service.app import create_app

from support import asgi_client, client_for, running


async def store_errors(http: httpx.AsyncClient) -> dict[str, float]:
    """store label → count, from the app's /metrics."""
    text = (await http.get("/metrics")).text
    return {
        sample.labels["store"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "intake_store_errors_total"
    }


async def test_an_unreachable_postgresql_counts_as_postgresql(settings) -> None:
    # Port 1: nothing listens, so every PostgreSQL call fails to connect.
    assert settings.database_url is not None
    unreachable = settings.database_url.rsplit("@", 1)[0] + "@127.0.0.1:1/intake"
    async with client_for(settings, database_url=unreachable) as http:
        response = await http.get(f"/apis/intake/v2/workspaces/w-{uuid.uuid4().hex[:8]}/experiments")
        assert (response.status_code, response.json()) == (503, {"detail": "Metadata store unavailable."})
        assert (await http.get("/health/ready")).status_code == 503
        assert await store_errors(http) == {"postgresql": 2}


async def test_a_failing_artifact_store_counts_as_artifacts(settings) -> None:
    # A directory under /dev/null cannot be made, so every write fails.
    async with client_for(settings, artifact_store_url="file:///dev/null/artifacts") as http:
        http.headers["X-Organization-Id"] = f"org-{uuid.uuid4().hex[:8]}"
        made = await http.post("/api/v1/experiments", json={"name": "e", "run_name": "r"})
        assert made.status_code == 201, made.text
        upload = {"name": "a.txt", "content_base64": "YQ=="}
        response = await http.post(f"/api/v1/experiments/{made.json()['run_id']}/artifacts", json=upload)
        assert (response.status_code, response.json()) == (503, {"detail": "Artifact store unavailable."})
        assert await store_errors(http) == {"artifacts": 1}


async def test_a_503_that_no_store_raised_counts_as_unknown(settings) -> None:
    """The label comes from the error, so a 503 answered some other way, whatever its text, is not
    put on a store."""
    application = create_app(settings)

    @application.get("/__test_unavailable")
    async def unavailable() -> None:
        raise HTTPException(503, "Telemetry store unavailable.")

    async with running(application) as manager, asgi_client(manager.app) as http:
        assert (await http.get("/__test_unavailable")).status_code == 503
        assert await store_errors(http) == {"unknown": 1}
