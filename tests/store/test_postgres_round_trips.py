"""What a request sends to PostgreSQL (store/postgres/engine.py, api/deps.py): a read sends its
statements without BEGIN, COMMIT or a ping in front; a write stays one transaction; a connection idle
for a while is pinged before use."""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from intake_service.store.postgres import engine as engine_module

from support import app_state, create_experiment, exp_url, ok


async def logged() -> None:
    await asyncio.sleep(0.01)


@contextmanager
def control_statements(engine: Any) -> Iterator[list[str]]:
    """The statements the pool's connections send outside prepared statements while inside (BEGIN,
    COMMIT, ROLLBACK and the ping; asyncpg's query loggers see only those, and run on the event loop
    soon after: await `logged()` before reading)."""
    sent: list[str] = []
    pool = engine.sync_engine.pool

    def log(record: Any) -> None:
        sent.append(" ".join(record.query.split()).upper())

    def on_checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        dbapi_connection._connection.add_query_logger(log)

    def on_checkin(dbapi_connection: Any, record: Any) -> None:
        if dbapi_connection is not None:
            dbapi_connection._connection.remove_query_logger(log)

    # Inserted first: the logger is in place before the pool's own checkout listener pings.
    event.listen(pool, "checkout", on_checkout, insert=True)
    event.listen(pool, "checkin", on_checkin)
    try:
        yield sent
    finally:
        event.remove(pool, "checkout", on_checkout)
        event.remove(pool, "checkin", on_checkin)


async def test_a_read_is_one_statement_and_a_write_one_transaction(app, client, base) -> None:
    engine = (await app_state(app)).sessionmaker.kw["bind"]
    await create_experiment(client, base, "e")
    ok(await client.get(exp_url(base, "e")))  # the connection has just been used
    with control_statements(engine) as sent:
        ok(await client.get(exp_url(base, "e")))
    await logged()
    assert sent == []

    with control_statements(engine) as sent:
        ok(await client.put(exp_url(base, "e"), json={"name": "e", "dataset_name": "ds", "description": "x"}))
    await logged()
    assert sent[0].startswith("BEGIN") and sent[-1].startswith("COMMIT"), sent


async def test_a_connection_idle_for_a_while_is_pinged_before_use(app, client, base, monkeypatch) -> None:
    engine = (await app_state(app)).sessionmaker.kw["bind"]
    await create_experiment(client, base, "e")
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 0.05)
    await asyncio.sleep(0.1)
    with control_statements(engine) as sent:
        ok(await client.get(exp_url(base, "e")))
    await logged()
    assert ";" in sent, sent  # SQLAlchemy's ping
