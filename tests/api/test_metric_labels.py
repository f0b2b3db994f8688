"""Issue 11, finding 4 (unbounded metric labels): invented HTTP methods must not become Prometheus
labels, and /metrics can require a key."""

import re

import httpx

from intake_service.app import create_app
from intake_service.settings import Settings

from support import running


async def test_unbounded_metric_labels_invented_methods_are_counted_as_other(client: httpx.AsyncClient, base) -> None:
    for number in range(40):
        await client.request(f"INVENTED{number}", "/health/live")
        await client.request(f"X{number}", f"{base}/experiments")
    await client.get("/health/live")
    text = (await client.get("/metrics")).text
    methods = set(re.findall(r'^intake_http_requests_total\{method="([^"]*)"', text, re.MULTILINE))
    assert methods <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER"}, methods
    assert "OTHER" in methods and "GET" in methods
    assert "INVENTED" not in text and 'method="X1"' not in text
    # Forty invented methods on two routes add at most one series per route and status.
    other = re.findall(
        r'^intake_http_requests_total\{method="OTHER",route="([^"]*)",status="(\d+)"\} (\S+)', text, re.MULTILINE
    )
    assert sum(float(count) for *_, count in other) >= 80
    assert len(other) <= 4, other


async def test_unbounded_metric_labels_metrics_key_guards_the_scrape(settings: Settings) -> None:
    application = create_app(settings.model_copy(update={"metrics_key": "scrape-secret"}))
    async with running(application) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            missing = await http.get("/metrics")
            wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
            right = await http.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
            live = await http.get("/health/live")
    assert missing.status_code == 401 and missing.json() == {"detail": "A valid metrics key is required."}
    assert wrong.status_code == 401
    assert right.status_code == 200 and "intake_http_requests_total" in right.text
    assert live.status_code == 200
