"""CSV and NDJSON exports of the leaderboards (/experiments, /evaluations) and the session lists:
every row the filter selects, in the JSON list's order, streamed in batches (made small here so
that several are read), and errors still answered as errors."""

import csv
import io
import json

import pytest

from support import assert_422, create_experiment, exp_url, ingest_ok, ok, problem

pytestmark = pytest.mark.asyncio
T = "2026-01-05T09:00:00Z"


@pytest.fixture(autouse=True)
def small_batches(monkeypatch):
    monkeypatch.setattr("intake_service.api.export.BATCH", 2)


def ndjson(response) -> list[dict]:
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in response.text.splitlines()]


def table(response) -> list[dict[str, str]]:
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


@pytest.fixture
async def board(client, base) -> list[str]:
    """Five runs on gsm8k (cost 5, 1, 4, 2, 3 per session, accuracy the other way) and one elsewhere."""
    names = []
    for i, cost in enumerate([5.0, 1.0, 4.0, 2.0, 3.0]):
        run = await create_experiment(client, base, dataset_name="gsm8k", metadata={"rank": str(i)})
        sessions = [
            {"session_id": f"r{i}-{j}", "started_at": T, "test_case_id": f"q{j}", "cost_usd": cost,
             "scores": {"accuracy": 1 / cost}}
            for j in range(3)
        ]  # fmt: skip
        await ingest_ok(client, base, run["name"], sessions)
        names.append(run["name"])
    await create_experiment(client, base, dataset_name="other")
    return names


async def test_experiment_leaderboard(client, base, board):
    params = {"sort": "cost_usd.mean", "filter": json.dumps({"dataset_name": "gsm8k"})}
    listed = ok(await client.get(f"{base}/experiments", params=params))["data"]
    assert [r["name"] for r in listed] == [board[i] for i in (1, 3, 4, 2, 0)]
    assert ndjson(await client.get(f"{base}/experiments", params={**params, "format": "ndjson"})) == listed
    rows = table(await client.get(f"{base}/experiments", params=params, headers={"Accept": "text/csv"}))
    assert [r["name"] for r in rows] == [r["name"] for r in listed]
    assert [float(r["cost_usd.mean"]) for r in rows] == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert float(rows[0]["aggregate_scores.accuracy.mean"]) == pytest.approx(1.0)
    assert rows[0]["metadata.rank"] == "1" and rows[0]["pinned_at"] == ""
    # A bad query is still its error, not a broken stream.
    assert_422(await client.get(f"{base}/experiments", params={"sort": "colour", "format": "csv"}), ("query", "sort"))
    assert_422(await client.get(f"{base}/experiments", params={"format": "xlsx"}), ("query", "format"))


async def test_evaluation_leaderboard_with_a_rollup_sort(client, base, board):
    params = {"sort": "-evaluators.accuracy.mean", "filter[dataset_name]": "gsm8k"}
    listed = ok(await client.get(f"{base}/evaluations", params=params))["data"]
    assert [r["name"] for r in listed] == [board[i] for i in (1, 3, 4, 2, 0)]
    assert ndjson(await client.get(f"{base}/evaluations", params={**params, "format": "ndjson"})) == listed
    rows = table(await client.get(f"{base}/evaluations", params={**params, "format": "csv"}))
    assert [r["id"] for r in rows] == [r["id"] for r in listed]
    assert [int(r["test_case_count"]) for r in rows] == [3] * 5
    # format=json wins over Accept.
    response = await client.get(
        f"{base}/evaluations", params={**params, "format": "json"}, headers={"Accept": "text/csv"}
    )
    assert response.json()["data"] == listed
    response = await client.get(f"{base}/evaluations", params={"sort": "colour", "format": "csv"})
    assert problem(response, 400).startswith("Unsupported sort field")


async def test_session_lists(client, base, board):
    name = board[0]
    more = [{"session_id": f"extra-{j}", "started_at": T, "test_case_id": "q9", "cost_usd": float(j)} for j in range(4)]
    await ingest_ok(client, base, name, more)
    evaluation_sessions = f"{base}/evaluations/{name}/sessions"
    lists = ((exp_url(base, name, "/sessions"), "cost_usd"), (evaluation_sessions, "cost_total_usd"))
    for url, sort in lists:
        listed = ok(await client.get(url, params={"sort": sort, "page_size": 100}))["data"]
        assert len(listed) == 7
        assert ndjson(await client.get(url, params={"sort": sort, "format": "ndjson"})) == listed
        rows = table(await client.get(url, params={"sort": sort}, headers={"Accept": "text/csv; q=1.0"}))
        assert [r["session_id"] for r in rows] == [r["session_id"] for r in listed]
        # The first batches hold only the extra sessions, which have no evaluator: its column is there all the same.
        assert rows[0]["evaluator_scores.accuracy"] == "" and rows[-1]["evaluator_scores.accuracy"] == "0.2"
        filtered = table(await client.get(url, params={"filter[test_case_id]": "q9", "format": "csv"}))
        assert sorted(r["session_id"] for r in filtered) == [f"extra-{j}" for j in range(4)]
    response = await client.get(exp_url(base, "missing", "/sessions"), params={"format": "csv"})
    assert response.status_code == 404
