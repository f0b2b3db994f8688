"""Degraded mode (CONTRACT.md section 4): a second app on the same embedded PostgreSQL whose
CLICKHOUSE_URL points at a local port where nothing listens — a real connection failure through
clickhouse-connect, not a mock. Experiment CRUD keeps working with empty rollups and
`X-Intake-Rollups: unavailable`; everything that needs ClickHouse answers 503."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from support import client_for, free_port

UNAVAILABLE = {"detail": "Telemetry store unavailable."}
EMPTY_ROLLUPS = {
    "run_count": 0,
    "aggregate_scores": {},
    "cost_usd": None,
    "latency_ms": None,
    "evaluator_names": [],
    "model_names": [],
    "agent_names": [],
    "agent_versions": [],
}


@pytest.fixture(scope="module")
def dead_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
async def degraded(settings, dead_port) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(settings, clickhouse_url=f"http://127.0.0.1:{dead_port}") as http:
        yield http


def assert_degraded(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers.get("X-Intake-Rollups") == "unavailable"
    body = response.json()
    assert {k: body[k] for k in EMPTY_ROLLUPS} == EMPTY_ROLLUPS
    return body


def assert_503(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json() == UNAVAILABLE


async def test_experiment_crud_answers_with_empty_rollups(degraded, client, base) -> None:
    created = assert_degraded(
        await degraded.post(f"{base}/experiments", json={"name": "e 1", "dataset_name": "d"}), 201
    )
    url = f"{base}/experiments/e%201"
    assert assert_degraded(await degraded.get(url))["id"] == created["id"]
    put = assert_degraded(await degraded.put(url, json={"name": "e 1", "dataset_name": "d", "description": "new"}))
    assert put["description"] == "new"
    assert assert_degraded(await degraded.post(f"{url}/pin"))["pinned_at"] is not None
    assert assert_degraded(await degraded.delete(f"{url}/pin"))["pinned_at"] is None
    listed = await degraded.get(f"{base}/experiments")
    assert listed.status_code == 200
    assert listed.headers.get("X-Intake-Rollups") == "unavailable"
    [row] = listed.json()["data"]
    assert {k: row[k] for k in EMPTY_ROLLUPS} == EMPTY_ROLLUPS
    # PostgreSQL-only list features keep working.
    listed = await degraded.get(f"{base}/experiments", params={"filter[dataset_name]": "d", "sort": "name"})
    assert listed.status_code == 200 and listed.json()["pagination"]["total_results"] == 1
    # Errors that need no telemetry keep their own status.
    assert (await degraded.get(f"{base}/experiments/missing")).status_code == 404
    assert (await degraded.post(f"{base}/experiments", json={"name": "e 1", "dataset_name": "d"})).status_code == 409
    assert (await degraded.delete(url)).status_code == 204
    assert (await degraded.get(url)).status_code == 404
    # The healthy app sees the same PostgreSQL rows (and answers without the header).
    healthy = await client.get(f"{base}/experiments", params={"filter[is_deleted]": "true"})
    assert "X-Intake-Rollups" not in healthy.headers
    assert [r["id"] for r in healthy.json()["data"]] == [created["id"]]


async def test_existing_rollups_are_hidden_not_zeroed_silently(degraded, client, base) -> None:
    """An experiment with sessions (ingested while ClickHouse was up) reads as unavailable, marked."""
    assert (await client.post(f"{base}/experiments", json={"name": "has-runs", "dataset_name": "d"})).status_code == 201
    r = await client.post(
        f"{base}/experiments/has-runs/sessions",
        json={"sessions": [{"session_id": "s", "started_at": "2026-01-01T00:00:00Z", "scores": {"a": 1}}]},
    )
    assert r.status_code == 201
    assert (await client.get(f"{base}/experiments/has-runs")).json()["run_count"] == 1
    assert_degraded(await degraded.get(f"{base}/experiments/has-runs"))


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "-evaluators.acc.mean"},
        {"sort": "run_count"},
        {"sort": "cost_usd.p99"},
        {"filter[latency_ms.median][$lt]": "10"},
        {"filter[run_count][$gte]": "1", "filter[dataset_name]": "d"},
        {"filter": '{"evaluators.a.b.count": {"$gt": 0}}'},
    ],
)
async def test_rollup_sort_and_filter_503(degraded, base, params) -> None:
    assert (await degraded.post(f"{base}/experiments", json={"name": "x", "dataset_name": "d"})).status_code == 201
    assert_503(await degraded.get(f"{base}/experiments", params=params))


async def test_ingest_listing_and_results_503_and_nothing_written(degraded, client, base) -> None:
    created = await degraded.post(f"{base}/experiments", json={"name": "x", "dataset_name": "d"})
    assert created.status_code == 201
    before = (await client.get(f"{base}/experiments/x")).json()
    sessions = [{"session_id": str(i), "started_at": "2026-01-01T00:00:00Z", "cost_usd": 1.0} for i in range(3)]
    assert_503(await degraded.post(f"{base}/experiments/x/sessions", json={"sessions": sessions}))
    ndjson = b'{"session_id": "n", "started_at": "2026-01-01T00:00:00Z"}\n'
    assert_503(
        await degraded.post(
            f"{base}/experiments/x/sessions", content=ndjson, headers={"content-type": "application/x-ndjson"}
        )
    )
    assert_503(await degraded.get(f"{base}/experiments/x/sessions"))
    assert_503(
        await degraded.get(f"{base}/experiments/x/sessions", params={"sort": "-cost_usd", "filter[status]": "error"})
    )
    for body in (
        {"session_id": "0", "name": "acc", "data_type": "NUMERIC", "value": 1.0},
        {"session_id": "0", "name": "acc", "data_type": "NUMERIC", "value": 1.0, "experiment_name": "x"},
    ):
        assert_503(await degraded.post(f"{base}/evaluator-results", json=body))
    # Still 404 for an experiment that does not exist: PostgreSQL answers that.
    assert (await degraded.post(f"{base}/experiments/nope/sessions", json={"sessions": sessions})).status_code == 404
    # Nothing was written: PostgreSQL's row is untouched, and the healthy app has no sessions for it.
    after = await client.get(f"{base}/experiments/x")
    assert after.status_code == 200 and "X-Intake-Rollups" not in after.headers
    assert after.json() == before
    assert after.json()["run_count"] == 0
    assert (await client.get(f"{base}/experiments/x/sessions")).json()["data"] == []
    listed = (await client.get(f"{base}/experiments")).json()
    assert [row["name"] for row in listed["data"]] == ["x"]


async def test_each_request_tries_clickhouse_again(degraded, base, dead_port) -> None:
    """No restart is needed after an outage: a failed call leaves no stuck state, and the next request
    opens a new connection. Shown with a real TCP listener appearing on the dead port afterwards (it is
    not ClickHouse, so the answer stays 503; a real server there would answer — that part cannot be
    shown here without a ClickHouse server on this machine)."""
    name = f"r-{uuid.uuid4().hex[:6]}"
    assert (await degraded.post(f"{base}/experiments", json={"name": name, "dataset_name": "d"})).status_code == 201
    assert_503(await degraded.get(f"{base}/experiments", params={"sort": "run_count"}))

    accepted = 0

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal accepted
        accepted += 1
        writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", dead_port)
    try:
        assert_503(await degraded.get(f"{base}/experiments", params={"sort": "run_count"}))
        assert_degraded(await degraded.get(f"{base}/experiments/{name}"))
    finally:
        server.close()
        await server.wait_closed()
    assert accepted >= 1
