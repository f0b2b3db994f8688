"""Issue 11, items 5 and 12: input that used to answer 500 or slip into storage, against the real app
and stores.

5a an integer beyond ±1.8e308 in metadata: refused on write; a range filter stays safe for such a
   row stored before the refusal existed;
5b a JSON filter (or body) nested hundreds of levels: 422, never a RecursionError;
5c a NUL in any path or query value: 422;
12 NUL in session ids, score keys and ATIF session ids; X-Session-Id read as UTF-8; an ingest racing
   a DELETE either lands before it or gets 404.
"""

import asyncio
import random
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest

from intake_service.store.postgres.experiments import ExperimentFields, ExperimentRepository

from support import T, app_state, create_experiment

HUGE = 10**400  # beyond the largest double, ~1.8e308; JSON and Python integers have no limit


def names(response: httpx.Response) -> set[str]:
    assert response.status_code == 200, response.text
    return {row["name"] for row in response.json()["data"]}


# ---------------------------------------------------------------------------------------------------
# 5a numbers beyond a double


@pytest.mark.parametrize("value", [HUGE, -HUGE])
async def test_huge_integer_in_metadata_is_refused_on_write(client, base, value) -> None:
    body = orjson.dumps({"name": "big", "dataset_name": "d"})[:-1] + b',"metadata":{"x":' + str(value).encode() + b"}}"
    response = await client.post(f"{base}/experiments", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "metadata"]
    assert "1.8e308" in response.json()["detail"][0]["msg"]
    assert (await client.get(f"{base}/experiments/big")).status_code == 404
    # A large integer a double can hold is still taken.
    await create_experiment(client, base, "fits", metadata={"x": 10**300})


async def test_range_filter_is_safe_for_a_huge_integer_stored_before(app, client, base, workspace) -> None:
    """A row written before the refusal existed, inserted through the repository as the old code did."""
    await create_experiment(client, base, "small", metadata={"x": 5})
    await create_experiment(client, base, "text", metadata={"x": "1e999"})
    state = await app_state(app)
    async with state.sessionmaker() as session:
        moment = datetime.now(UTC)
        fields = ExperimentFields(
            experiment_group_id=None, source_link=None, metadata={"x": HUGE}, description=None, summary=None
        )
        row = await ExperimentRepository(session).insert(
            id=f"exp-{uuid.uuid4()}",
            workspace=workspace,
            name="old",
            agent_name=None,
            agent_version=None,
            dataset_name="d",
            dataset_version=None,
            created_by=None,
            created_at=moment,
            fields=fields,
        )
        assert row is not None
        await session.commit()

    url = f"{base}/experiments"
    assert names(await client.get(url, params={"filter[metadata.x][$gt]": "1"})) == {"small", "old"}
    assert names(await client.get(url, params={"filter[metadata.x][$gte]": "1e308"})) == {"old"}
    assert names(await client.get(url, params={"filter[metadata.x][$lt]": "1e308"})) == {"small"}
    assert names(await client.get(url, params={"filter": '{"metadata.x": {"$lte": -1}}'})) == set()
    assert names(await client.get(url, params={"filter": '{"$not": {"metadata.x": {"$gt": 6}}}'})) == {"small", "text"}
    # Equality and text matches never cast to a number and find it too.
    assert names(await client.get(url, params={"filter[metadata.x]": str(HUGE)})) == {"old"}


# ---------------------------------------------------------------------------------------------------
# 5b deep nesting


@pytest.mark.parametrize("depth", [9, 65, 500, 600, 950])
async def test_deeply_nested_json_filter_is_422(client, base, depth) -> None:
    deep = '{"$not":' * depth + '{"name":"a"}' + "}" * depth
    response = await client.get(f"{base}/experiments", params={"filter": deep})
    assert response.status_code == 422, response.text
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["query", "filter"]
    assert "at most 8 levels" in detail["msg"]


@pytest.mark.parametrize("depth", [600, 950])
async def test_deeply_nested_body_is_422(client, base, depth) -> None:
    """A body pydantic refuses at its top echoes the input back: the echo is cut, not recursed into."""
    response = await client.post(
        f"{base}/experiments", content="[" * depth + "]" * depth, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body"]


# ---------------------------------------------------------------------------------------------------
# 5c NUL in the path or the query


@pytest.mark.parametrize(
    ("method", "url", "loc"),
    [
        ("DELETE", "/apis/intake/v2/admin/keys/a%00", ["path", "key_name"]),
        ("GET", "{base}/experiments/a%00/sessions", ["path", "name"]),
        ("POST", "{base}/experiments/a%00/pin", ["path", "name"]),
        ("GET", "{base}/evaluator-results/eval%00", ["path", "evaluator_result_id"]),
        ("GET", "{base}/experiments?sort=name%00", ["query", "sort"]),
        ("GET", "{base}/experiments?filter%5Bname%5D=a%00", ["query", "filter[name]"]),
        ("GET", "{base}/evaluator-results?filter%5Bsession_id%5D=%00", ["query", "filter[session_id]"]),
        ("GET", "{base}/experiments?x%00=1", ["query", "x\x00"]),
    ],
)
async def test_nul_in_path_or_query_is_422(client, base, method, url, loc) -> None:
    response = await client.request(method, url.format(base=base))
    assert response.status_code == 422, response.text
    detail = response.json()["detail"][0]
    assert detail["loc"] == loc
    assert "NUL" in detail["msg"]


async def test_nul_in_a_workbench_path_or_query_is_422_with_one_sentence(client) -> None:
    for url in ("/api/v1/experiments/exp%00", "/api/v1/experiments?q=a%00"):
        response = await client.get(url)
        assert response.status_code == 422, response.text
        assert "NUL" in response.json()["detail"]


# ---------------------------------------------------------------------------------------------------
# 12 NUL in session ids and score keys, X-Session-Id as UTF-8


@pytest.mark.parametrize(
    ("session", "loc"),
    [
        ({"session_id": "s\x00"}, ["body", "sessions", 0, "session_id"]),
        ({"session_id": "s", "test_case_id": "t\x00"}, ["body", "sessions", 0, "test_case_id"]),
        ({"session_id": "s", "scores": {"acc\x00": 1}}, ["body", "sessions", 0, "scores", "acc\x00"]),
    ],
)
async def test_nul_in_session_ids_and_score_keys_is_422(client, base, session, loc) -> None:
    name = (await create_experiment(client, base))["name"]
    response = await client.post(
        f"{base}/experiments/{name}/sessions", json={"sessions": [{**session, "started_at": T}]}
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == loc
    assert (await client.get(f"{base}/experiments/{name}/sessions")).json()["data"] == []


@pytest.mark.parametrize("field", ["session_id", "span_id", "name"])
async def test_nul_in_evaluator_result_ids_is_422(client, base, field) -> None:
    body = {"session_id": "s", "span_id": "", "name": "acc", "data_type": "NUMERIC", "value": 1, field: "x\x00"}
    response = await client.post(f"{base}/evaluator-results", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", field]


async def test_nul_in_atif_session_id_is_422(client, base) -> None:
    body = {"schema_version": "ATIF-v1.6", "agent": {"name": "a", "version": "1"}, "session_id": "s\x00"}
    response = await client.post(f"{base}/ingest/atif", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "session_id"]


async def test_nul_in_otlp_session_id_refuses_the_span(client, base) -> None:
    span = {
        "traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b7169203331", "name": "s",
        "startTimeUnixNano": "1767225600000000000",
        "attributes": [{"key": "session.id", "value": {"stringValue": "s\x00"}}],
    }  # fmt: skip
    body = {"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}
    response = await client.post(f"{base}/ingest/otlp/v1/traces", json=body)
    assert response.status_code == 200, response.text
    assert ["NUL" in error["detail"] for error in response.json()["errors"]] == [True]


CHAT = {"request": {"model": "m", "messages": [{"role": "user", "content": "hi"}]}, "response": {"model": "m"}}


async def test_x_session_id_is_read_as_utf8(client, base) -> None:
    for session_id in ("café", "会话-" + "é" * 250):
        response = await client.post(
            f"{base}/ingest/chat-completions", json=CHAT, headers={"X-Session-Id": session_id.encode()}
        )
        assert response.status_code == 201, response.text
        assert response.json()["session_id"] == session_id
    for raw in (b"caf\xe9", "é".encode() * 256):  # not UTF-8; 256 characters
        response = await client.post(f"{base}/ingest/chat-completions", json=CHAT, headers={"X-Session-Id": raw})
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"] == ["header", "X-Session-Id"]


# ---------------------------------------------------------------------------------------------------
# 12 an ingest racing a DELETE

PAIRS = 24
SESSIONS = 200
DELETE_AFTER = 0.5  # seconds, at most


async def test_ingest_racing_delete_never_201_into_a_deleted_experiment(app, client, base, workspace) -> None:
    """Many ingest + DELETE pairs at once, each DELETE 0-0.5 s after its ingest. An ingest answered
    201 had stored all its sessions by the time its DELETE was answered (it landed first and went
    with the experiment); any other ingest got 404 and stored nothing.

    Without the row lock, a DELETE commits at once and answers 204 while its ingest is still
    writing, which then answers 201 into a deleted experiment."""
    experiments = [await create_experiment(client, base) for _ in range(PAIRS)]
    telemetry = (await app_state(app)).telemetry
    executor = telemetry.executor

    def stored(experiment_id: str) -> int:
        return executor.query(
            "SELECT uniqExact(session_id) AS n FROM sessions "
            "WHERE workspace = {workspace:String} AND experiment_id = {experiment_id:String}",
            {"workspace": workspace, "experiment_id": experiment_id},
        )[0]["n"]

    async def pair(experiment: dict[str, Any]) -> tuple[int, int, int]:
        """(ingest status, DELETE status, sessions stored when the DELETE answered)."""
        body = {"sessions": [{"session_id": f"s{i}", "started_at": T, "cost_usd": 1.0} for i in range(SESSIONS)]}
        url = f"{base}/experiments/{experiment['name']}"

        async def delete() -> tuple[int, int]:
            await asyncio.sleep(random.uniform(0, DELETE_AFTER))
            response = await client.delete(url)
            # Counted at once (blocking: nothing else on the event loop runs in between).
            return response.status_code, stored(experiment["id"])

        ingested, (deleted, at_delete) = await asyncio.gather(client.post(f"{url}/sessions", json=body), delete())
        return ingested.status_code, deleted, at_delete

    outcomes = await asyncio.gather(*(pair(e) for e in experiments))
    for experiment, (ingested, deleted, at_delete) in zip(experiments, outcomes, strict=True):
        assert deleted == 204
        assert ingested in (201, 404)
        if ingested == 201:
            assert at_delete == SESSIONS, "an ingest answered 201 after its experiment was deleted"
        else:
            assert at_delete == 0
            assert stored(experiment["id"]) == 0
    # Some ingests must have landed first, or the test raced nothing.
    assert 201 in {o[0] for o in outcomes}, outcomes
