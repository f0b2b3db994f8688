"""What a request sends to PostgreSQL besides its statements (store/postgres/engine.py, api/deps.py):
a write's transaction, a read none, and no ping in front (a ping is BEGIN, ";", ROLLBACK) unless its
connection sat idle."""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event, func, text, update

from intake_service.app import create_app
from intake_service.domain import auth
from intake_service.store.postgres import engine as engine_module
from intake_service.store.postgres.engine import run_in_transaction
from intake_service.store.postgres.experiments import ExperimentRepository
from intake_service.store.postgres.tables import ApiKey

from support import app_state, asgi_client, create_experiment, create_key, exp_url, ingest_ok, ok, running


async def logged() -> None:
    await asyncio.sleep(0.01)


@contextmanager
def control_statements(engine: Any) -> Iterator[list[str]]:
    """What the pool's connections send outside prepared statements (BEGIN, COMMIT, ROLLBACK and the
    ping; asyncpg's query loggers see those and the reads run on the driver, which are left out; they
    run on the event loop soon after: await `logged()` before reading), once a connection has been
    checked out or in while inside."""
    sent: list[str] = []
    watched: list[Any] = []
    pool = engine.sync_engine.pool

    def log(record: Any) -> None:
        if not record.query.startswith("SELECT "):
            sent.append(" ".join(record.query.split()).upper())

    def watch(dbapi_connection: Any, *_: Any) -> None:
        if dbapi_connection is not None:
            dbapi_connection._connection.add_query_logger(log)
            watched.append(dbapi_connection._connection)

    event.listen(pool, "checkout", watch)
    event.listen(pool, "checkin", watch)  # so the next checkout's ping is seen too
    try:
        yield sent
    finally:
        event.remove(pool, "checkout", watch)
        event.remove(pool, "checkin", watch)
        for connection in watched:
            connection.remove_query_logger(log)


async def test_a_connection_used_a_moment_ago_is_not_pinged(app, client, base) -> None:
    engine = (await app_state(app)).sessionmaker.kw["bind"]
    await create_experiment(client, base, "e")
    with control_statements(engine) as sent:
        ok(await client.get(exp_url(base, "e")))  # its connection, checked in, is watched
        await logged()
        sent.clear()
        ok(await client.get(exp_url(base, "e")))
    await logged()
    assert sent == [], sent


async def test_a_read_by_a_rollup_metric_needs_no_transaction(app, client, base) -> None:
    # Its statements carry rollup values, planned for them by the connection's plan_cache_mode.
    engine = (await app_state(app)).sessionmaker.kw["bind"]
    await create_experiment(client, base, "e")
    await ingest_ok(client, base, "e", [{"session_id": "s", "started_at": "2026-01-01T00:00:00Z", "cost_usd": 1.0}])
    with control_statements(engine) as sent:
        ok(await client.get(f"{base}/experiments", params={"sort": "-cost_usd.mean"}))
        await logged()
        sent.clear()  # asyncpg's introspection of the array types, once per connection
        ok(await client.get(f"{base}/experiments", params={"sort": "-cost_usd.mean"}))
    await logged()
    assert sent == [], sent


async def test_a_write_runs_in_a_transaction(app, client, base) -> None:
    engine = (await app_state(app)).sessionmaker.kw["bind"]
    await create_experiment(client, base, "e")
    with control_statements(engine) as sent:
        ok(await client.get(exp_url(base, "e")))
        await logged()
        sent.clear()
        ok(await client.post(exp_url(base, "e", "/pin")))
    await logged()
    # After a read, SQLAlchemy names the isolation level it set back: READ COMMITTED, the default.
    assert sent in (["BEGIN;", "COMMIT;"], ["BEGIN ISOLATION LEVEL READ COMMITTED;", "COMMIT;"]), sent


async def test_a_connection_idle_for_a_while_is_pinged_before_use(app, client, base, monkeypatch) -> None:
    engine = (await app_state(app)).sessionmaker.kw["bind"]
    await create_experiment(client, base, "e")
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 0.05)
    with control_statements(engine) as sent:
        ok(await client.get(exp_url(base, "e")))
        await asyncio.sleep(0.1)
        sent.clear()
        ok(await client.get(exp_url(base, "e")))
    await logged()
    assert sent == ["BEGIN;", ";", "ROLLBACK;"]  # SQLAlchemy's ping, then the read, outside any transaction


async def test_an_ingest_locks_its_experiment_in_one_statement_that_skips_the_flush(app, client, base) -> None:
    # FOR SHARE gives the transaction an id and logs the lock: with synchronous_commit on, its COMMIT
    # waits for the WAL to reach the disk (2-11 ms), for a lock that means nothing after a crash. The
    # setting goes in the lock's own statement: BEGIN, that statement and COMMIT are the ingest's only
    # round trips to PostgreSQL.
    engine = (await app_state(app)).sessionmaker.kw["bind"]
    await create_experiment(client, base, "e")
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        with control_statements(engine) as sent:
            ok(await client.get(exp_url(base, "e")))  # its connection, checked in, is watched
            await logged()
            sent.clear()
            statements.clear()
            await ingest_ok(client, base, "e", [{"session_id": "s", "started_at": "2026-01-01T00:00:00Z"}])
        await logged()
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    [lock] = statements
    assert lock.endswith("FOR SHARE") and "set_config(" in lock, lock
    assert sent in (["BEGIN;", "COMMIT;"], ["BEGIN ISOLATION LEVEL READ COMMITTED;", "COMMIT;"]), sent


async def test_the_lock_statement_turns_the_flush_off_for_its_transaction_only(app, client, base, workspace) -> None:
    await create_experiment(client, base, "e")
    sessionmaker = (await app_state(app)).sessionmaker
    async with sessionmaker() as session:
        assert await ExperimentRepository(session).share_live_unflushed(workspace, "e") is not None
        assert await session.scalar(text("SHOW synchronous_commit")) == "off"
        await session.commit()
        assert await session.scalar(text("SHOW synchronous_commit")) == "on"  # the next transaction's


async def test_a_key_used_within_the_interval_sends_no_update(settings, client, base, workspace) -> None:
    # touch's UPDATE changes nothing while the key's last use is recent; the row the key's lookup
    # just read says so, and the request sends no UPDATE. After the interval it is sent again.
    await create_experiment(client, base, "e")
    name = f"toucher-{workspace}"
    token = await create_key(settings.database_url, name, [auth.READ], [workspace])
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        statements.append(statement.split()[0])

    async def updates_of_a_read() -> int:
        statements.clear()
        ok(await http.get(exp_url(base, "e"), headers={"X-API-Key": token}))
        return statements.count("UPDATE")

    async def used_long_ago(session: Any) -> None:
        await session.execute(
            update(ApiKey).where(ApiKey.name == name).values(last_used_at=func.now() - timedelta(minutes=2))
        )

    application = create_app(settings.model_copy(update={"auth": "api-key"}))
    async with running(application) as manager, asgi_client(manager.app) as http:
        engine = (await app_state(manager.app)).sessionmaker.kw["bind"]
        event.listen(engine.sync_engine, "before_cursor_execute", record)
        try:
            assert await updates_of_a_read() == 1  # never used
            assert await updates_of_a_read() == 0
            assert await updates_of_a_read() == 0
            await run_in_transaction(settings.database_url, used_long_ago)
            assert await updates_of_a_read() == 1
            assert await updates_of_a_read() == 0
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_a_read_looks_its_key_up_on_the_driver(settings, client, base, workspace) -> None:
    # Outside the session: a read whose key needs no touch sends nothing through SQLAlchemy at all.
    await create_experiment(client, base, "e")
    token = await create_key(settings.database_url, f"driver-{workspace}", [auth.READ], [workspace])
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        statements.append(statement)

    application = create_app(settings.model_copy(update={"auth": "api-key"}))
    async with running(application) as manager, asgi_client(manager.app) as http:
        engine = (await app_state(manager.app)).sessionmaker.kw["bind"]
        event.listen(engine.sync_engine, "before_cursor_execute", record)
        try:
            # The first use sends only the key's touch; the next reads send nothing.
            for url, sent in ((exp_url(base, "e"), ["UPDATE"]), (exp_url(base, "e"), []), (f"{base}/experiments", [])):
                statements.clear()
                ok(await http.get(url, headers={"X-API-Key": token}))
                assert [statement.split()[0] for statement in statements] == sent, statements
            statements.clear()
            assert (await http.get(exp_url(base, "e"), headers={"X-API-Key": token + "x"})).status_code == 401
            assert statements == []
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", record)
