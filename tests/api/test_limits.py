"""Body limits (413 before parsing, 408 for slow or endless bodies), request ids, the JSON access log
and /metrics (issue 5), against the real app and stores.

`limited` is a second app on the session's stores with a 64 KiB body limit and a 0.5 s body
deadline; bodies are streamed through httpx's ASGI transport chunk by chunk, so the app sees them
arrive the way a socket delivers them (with and without Content-Length)."""

import asyncio
import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from support import T, client_for, create_experiment, workspace_base

LIMIT = 64 * 1024
DEADLINE = 0.5


@pytest.fixture(scope="module")
async def limited(settings) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(settings, max_body_bytes=LIMIT, body_timeout_seconds=DEADLINE) as http:
        yield http


class Source:
    """A request body produced chunk by chunk; counts what the app actually pulled."""

    def __init__(self, chunk: bytes, chunks: int | None, pause: float = 0.0, first: bytes = b"") -> None:
        self.chunk, self.chunks, self.pause, self.first = chunk, chunks, pause, first
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self.first:
            self.sent += len(self.first)
            yield self.first
        n = 0
        while self.chunks is None or n < self.chunks:
            if self.pause:
                await asyncio.sleep(self.pause)
            self.sent += len(self.chunk)
            yield self.chunk
            n += 1


def sessions_json(count: int) -> bytes:
    rows = [{"session_id": f"s{i}", "started_at": T} for i in range(count)]
    return json.dumps({"sessions": rows}).encode()


# ---------------------------------------------------------------------------------------------------
# 413


@pytest.mark.parametrize("route", ["experiments", "sessions", "evaluator-results"])
async def test_413_from_content_length_without_reading_the_body(limited, base, route) -> None:
    name = (await create_experiment(limited, base))["name"]
    url = {"experiments": f"{base}/experiments", "sessions": f"{base}/experiments/{name}/sessions",
           "evaluator-results": f"{base}/evaluator-results"}[route]  # fmt: skip
    # The declared length is over the limit; the body never arrives (each chunk would take 60 s).
    source = Source(b"x" * 1024, None, pause=60)
    started = time.monotonic()
    response = await asyncio.wait_for(
        limited.post(
            url, content=source, headers={"content-length": str(LIMIT + 1), "content-type": "application/json"}
        ),
        10,
    )
    assert response.status_code == 413, response.text
    assert response.json() == {"detail": f"The request body exceeds {LIMIT} bytes."}
    assert source.sent == 0 and time.monotonic() - started < 5
    assert response.headers["x-request-id"]


@pytest.mark.parametrize("content_type", ["application/json", "application/x-ndjson"])
async def test_413_while_streaming_without_content_length(limited, base, content_type) -> None:
    """Chunked, endless: refused as soon as the limit is passed, long before the body 'ends'."""
    name = (await create_experiment(limited, base))["name"]
    source = Source(b" " * 4096, None, first=b'{"sessions": [')
    response = await asyncio.wait_for(
        limited.post(f"{base}/experiments/{name}/sessions", content=source, headers={"content-type": content_type}), 10
    )
    assert response.status_code == 413, response.text
    assert "exceeds" in response.json()["detail"]
    assert LIMIT < source.sent <= LIMIT + 2 * 4096
    assert (await limited.get(f"{base}/experiments/{name}/sessions")).json()["pagination"]["total_results"] == 0


async def test_413_streamed_json_route(limited, base) -> None:
    """An ordinary JSON route (FastAPI parses the body) gets the same 413, not a 400 or 422."""
    source = Source(b" " * 8192, 20, first=b'{"name": "big", "dataset_name": "d", "description": "')
    response = await limited.post(f"{base}/experiments", content=source, headers={"content-type": "application/json"})
    assert response.status_code == 413, response.text
    assert (await limited.get(f"{base}/experiments/big")).status_code == 404


async def test_a_body_at_the_limit_is_accepted(limited, base) -> None:
    name = (await create_experiment(limited, base))["name"]
    body = sessions_json(50)
    body = body[:-2] + b" " * (LIMIT - len(body)) + body[-2:]
    assert len(body) == LIMIT
    for headers in (
        {"content-type": "application/json"},
        {"content-type": "application/json", "transfer-encoding": "chunked"},
    ):
        chunks = [body[i : i + 5000] for i in range(0, len(body), 5000)]

        async def gen(chunks: list[bytes] = chunks) -> AsyncIterator[bytes]:
            for c in chunks:
                yield c

        content = body if "transfer-encoding" not in headers else gen()
        response = await limited.post(f"{base}/experiments/{name}/sessions", content=content, headers=headers)
        assert response.status_code == 201, response.text
        assert response.json() == {"accepted": 50}


async def test_default_limit_is_32_mib(settings) -> None:
    assert settings.max_body_bytes == 32 * 1024 * 1024
    assert settings.body_timeout_seconds == 30


# ---------------------------------------------------------------------------------------------------
# 408


@pytest.mark.parametrize("route", ["experiments", "sessions"])
async def test_408_when_the_body_stalls(limited, base, route) -> None:
    name = (await create_experiment(limited, base))["name"]
    url = f"{base}/experiments" if route == "experiments" else f"{base}/experiments/{name}/sessions"
    source = Source(b" ", None, pause=5, first=b'{"na')
    started = time.monotonic()
    response = await asyncio.wait_for(
        limited.post(url, content=source, headers={"content-type": "application/json"}), 10
    )
    elapsed = time.monotonic() - started
    assert response.status_code == 408, response.text
    assert response.json() == {"detail": "The request body did not arrive in time."}
    assert DEADLINE * 0.9 <= elapsed < DEADLINE + 3


async def test_408_when_the_body_trickles_forever(limited, base) -> None:
    """A byte every 50 ms never stalls for the whole deadline; it must still be cut off."""
    name = (await create_experiment(limited, base))["name"]
    source = Source(b" ", None, pause=0.05, first=b'{"sessions": [')
    started = time.monotonic()
    response = await asyncio.wait_for(
        limited.post(
            f"{base}/experiments/{name}/sessions", content=source, headers={"content-type": "application/json"}
        ),
        10,
    )
    assert response.status_code == 408, response.text
    assert time.monotonic() - started < DEADLINE + 3
    assert source.sent < 200


async def test_a_slow_but_timely_body_is_fine(limited, base) -> None:
    name = (await create_experiment(limited, base))["name"]
    body = sessions_json(3)
    chunks = [body[i : i + 20] for i in range(0, len(body), 20)]

    async def gen() -> AsyncIterator[bytes]:
        for c in chunks:
            await asyncio.sleep(DEADLINE / (3 * len(chunks)))
            yield c

    response = await limited.post(
        f"{base}/experiments/{name}/sessions", content=gen(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 201, response.text


async def test_the_deadline_does_not_apply_to_a_slow_handler(limited, base) -> None:
    """Bodyless requests and time spent after the body is in are not a body timeout."""
    name = (await create_experiment(limited, base))["name"]
    await asyncio.sleep(DEADLINE * 1.5)
    assert (await limited.get(f"{base}/experiments/{name}")).status_code == 200


# ---------------------------------------------------------------------------------------------------
# Request ids and the access log


async def test_request_id_is_echoed_or_generated(client, base) -> None:
    given = "req-" + uuid.uuid4().hex
    response = await client.get(f"{base}/experiments", headers={"X-Request-ID": given})
    assert response.headers["X-Request-ID"] == given
    generated = (await client.get(f"{base}/experiments")).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert (await client.get(f"{base}/experiments")).headers["X-Request-ID"] != generated
    # Unusable ids (too long, control characters) are replaced, never reflected.
    for bad in ("x" * 129, "a\tb"):
        replaced = (await client.get(f"{base}/experiments", headers={"X-Request-ID": bad})).headers["X-Request-ID"]
        assert re.fullmatch(r"[0-9a-f]{32}", replaced)
    # Every kind of response carries one: 404, 422, health.
    assert (await client.get(f"{base}/experiments/nope")).headers["X-Request-ID"]
    assert (await client.get(f"{base}/experiments", params={"page": 0})).headers["X-Request-ID"]
    assert (await client.get("/health/live")).headers["X-Request-ID"]


async def test_one_json_access_log_line_per_request(client, base, caplog) -> None:
    caplog.set_level(logging.INFO, logger="intake_service.access")
    given = "log-" + uuid.uuid4().hex
    response = await client.get(f"{base}/experiments/some%20name", headers={"X-Request-ID": given})
    assert response.status_code == 404
    lines = [r for r in caplog.records if r.name == "intake_service.access"]
    mine = [json.loads(r.getMessage()) for r in lines if given in r.getMessage()]
    assert len(mine) == 1
    [entry] = mine
    assert entry["request_id"] == given
    assert entry["method"] == "GET" and entry["status"] == 404
    assert entry["path"] == f"{base}/experiments/some name"
    assert entry["route"] == "/apis/intake/v2/workspaces/{workspace}/experiments/{name}"
    assert isinstance(entry["duration_ms"], float | int) and entry["duration_ms"] >= 0
    # Every line of the logger is one JSON object.
    for record in lines:
        assert isinstance(json.loads(record.getMessage()), dict)


async def test_413_is_logged_and_counted_with_its_id(limited, base, caplog) -> None:
    caplog.set_level(logging.INFO, logger="intake_service.access")
    response = await limited.post(f"{base}/experiments", content=b"x" * (LIMIT + 1), headers={"X-Request-ID": "big-1"})
    assert response.status_code == 413 and response.headers["X-Request-ID"] == "big-1"
    [entry] = [json.loads(r.getMessage()) for r in caplog.records if "big-1" in r.getMessage()]
    assert entry["status"] == 413


# ---------------------------------------------------------------------------------------------------
# /metrics


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def value(metrics: dict, name: str, **labels: str) -> float:
    return metrics.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_count_requests_by_route_and_status_and_ingest(client, base) -> None:
    route = "/apis/intake/v2/workspaces/{workspace}/experiments/{name}"
    before = samples((await client.get("/metrics")).text)
    name = (await create_experiment(client, base))["name"]
    assert (await client.get(f"{base}/experiments/{name}")).status_code == 200
    assert (await client.get(f"{base}/experiments/missing")).status_code == 404
    assert (await client.get(f"{base}/experiments/missing")).status_code == 404
    ingest = await client.post(f"{base}/experiments/{name}/sessions", content=sessions_json(7),
                               headers={"content-type": "application/json"})  # fmt: skip
    assert ingest.status_code == 201
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = samples(response.text)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("intake_http_requests_total", method="GET", route=route, status="200") == 1
    assert delta("intake_http_requests_total", method="GET", route=route, status="404") == 2
    assert (
        delta(
            "intake_http_requests_total",
            method="POST",
            route="/apis/intake/v2/workspaces/{workspace}/experiments",
            status="201",
        )
        == 1
    )
    assert delta("intake_ingested_sessions_total") == 7
    assert delta("intake_http_request_duration_seconds_count", method="GET", route=route) == 3
    assert delta("intake_http_request_duration_seconds_sum", method="GET", route=route) > 0
    # Unmatched paths share one label (no unbounded label values from arbitrary URLs).
    token = uuid.uuid4().hex
    await client.get(f"/no/such/{token}")
    text = (await client.get("/metrics")).text
    assert value(samples(text), "intake_http_requests_total", method="GET", route="unmatched", status="404") >= 1
    assert token not in text


async def test_store_errors_are_counted_by_store(settings) -> None:
    """A 503 because ClickHouse is down counts under store="clickhouse" (port 1: nothing listens)."""
    async with client_for(settings, clickhouse_url="http://127.0.0.1:1") as http:
        base = workspace_base(f"m-{uuid.uuid4().hex[:8]}")
        name = (await create_experiment(http, base))["name"]
        response = await http.get(f"{base}/experiments/{name}/sessions")
        assert response.status_code == 503
        assert (await http.get("/health/ready")).status_code == 503
        metrics = samples((await http.get("/metrics")).text)
    assert value(metrics, "intake_store_errors_total", store="clickhouse") == 2
