"""A list sorted by a short metric column (domain/leaderboard.py _short_column_page): the column goes
to PostgreSQL whole, with the list's count in the page's own statement, and every page is the one the
count-first path answers (sent_whole_at_most 0 sends every list there)."""

import asyncio
from typing import Any

from sqlalchemy import event

from intake_service.domain import leaderboard

from support import app_state, create_experiment, exp_url, ingest_ok, ok

START = "2026-01-01T00:00:00Z"
SORTS = ("-cost_usd.mean", "cost_usd.mean", "-run_count", "run_count", "-latency_ms.p95")


async def seeded(client: Any, base: str) -> None:
    """Experiments with a value (two tied), without one, pinned with and without one, and deleted."""
    costs = {"v1": [1.0], "v2": [3.0, 1.0], "v3": [2.0], "v4": [2.0], "v5": [5.0], "gone": [9.0]}
    for name in (*costs, "u1", "u2", "u3"):
        await create_experiment(client, base, name)
    for name, values in costs.items():
        sessions = [
            {"session_id": f"{name}-{i}", "started_at": START, "cost_usd": cost, "latency_ms": 10 * cost}
            for i, cost in enumerate(values)
        ]
        await ingest_ok(client, base, name, sessions)
    for name in ("v3", "u2"):
        ok(await client.post(exp_url(base, name, "/pin")))
    ok(await client.delete(exp_url(base, "gone")), 204)


async def pages(client: Any, base: str) -> list[Any]:
    answers = []
    for sort in SORTS:
        for pinned_first in ("true", "false"):
            # Pages of 5 send the column whole (6 values: the deleted experiment's too) on pages 1 and 2.
            for page_size in (2, 5):
                for page in range(1, 7):
                    params = {"sort": sort, "pinned_first": pinned_first, "page": page, "page_size": page_size}
                    answers.append((params, ok(await client.get(f"{base}/experiments", params=params))))
    return answers


async def test_every_page_is_the_one_the_count_first_path_answers(client, base, monkeypatch) -> None:
    await seeded(client, base)
    short = await pages(client, base)
    monkeypatch.setattr(leaderboard, "sent_whole_at_most", lambda query: 0)
    assert short == await pages(client, base)
    # The pages reach past the experiments with a value and past the end.
    assert [len(answer["data"]) for params, answer in short[:6]] == [2, 2, 2, 2, 0, 0]


async def test_a_short_column_page_is_one_statement(app, client, base) -> None:
    await seeded(client, base)
    engine = (await app_state(app)).sessionmaker.kw["bind"]
    sent: list[str] = []
    watched: set[Any] = set()

    def log(record: Any) -> None:
        sent.append(record.query)

    def watch(dbapi_connection: Any, *_: Any) -> None:
        dbapi_connection._connection.add_query_logger(log)
        watched.add(dbapi_connection._connection)

    event.listen(engine.sync_engine.pool, "checkout", watch)
    try:
        for sort in ("-cost_usd.mean", "cost_usd.mean"):
            for pinned_first in ("true", "false"):
                params = {"sort": sort, "pinned_first": pinned_first, "page_size": 5}
                ok(await client.get(f"{base}/experiments", params=params))  # asyncpg's array introspection
                await asyncio.sleep(0.01)  # asyncpg's query loggers run on the event loop soon after
                sent.clear()
                answer = ok(await client.get(f"{base}/experiments", params=params))
                await asyncio.sleep(0.01)
                assert answer["pagination"]["total_results"] == 8
                assert len(sent) == 1, (params, sent)
    finally:
        event.remove(engine.sync_engine.pool, "checkout", watch)
        for connection in watched:
            connection.remove_query_logger(log)


async def test_a_page_far_past_the_end_is_empty(client, base) -> None:
    await seeded(client, base)
    for sort in SORTS:
        params = {"sort": sort, "page": 10**12, "page_size": 1000}
        answer = ok(await client.get(f"{base}/experiments", params=params))
        assert (answer["data"], answer["pagination"]["total_results"]) == ([], 8)
