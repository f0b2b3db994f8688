"""A read's hot statements run on the pooled connection's driver (store/postgres/engine.py
driver_fetch, ExperimentRepository with a driver): the same rows as through the session, and a
lost connection is a 503 that the next read recovers from."""

import asyncio
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import Float, bindparam, event, func, literal_column, select
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_dbapi
from starlette.datastructures import QueryParams

from intake_service.app import create_app
from intake_service.domain import auth
from intake_service.domain.listing import ListQuery, Sort, parse_list_query
from intake_service.store.postgres import engine as engine_module
from intake_service.store.postgres.engine import driver_fetch, is_unavailable
from intake_service.store.postgres.experiments import ExperimentRepository, row_fields

from support import app_state, asgi_client, create_experiment, create_key, exp_url, ok, running

TERMINATE_OTHERS = (
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
    "AND datname = current_database() AND backend_type = 'client backend'"
)


async def statuses_of_reads_at_once(client: httpx.AsyncClient, url: str) -> set[int]:
    """6 reads at once, each on a connection of its own."""
    return {response.status_code for response in await asyncio.gather(*(client.get(url) for _ in range(6)))}


def query(sort: str, *, descending: bool = True, pinned_first: bool = True, page: int = 1, size: int = 2) -> ListQuery:
    return ListQuery(page, size, Sort(sort, descending), pinned_first, None)


async def test_the_driver_reads_the_rows_the_session_reads(app, client, base, workspace) -> None:
    for name in ("a", "b", "c", "d"):
        await create_experiment(client, base, name, metadata={"n": name, "deep": [1, {"x": None}]})
    ok(await client.post(exp_url(base, "c", "/pin")))
    state = await app_state(app)
    async with state.sessionmaker() as session:
        by_session = ExperimentRepository(session)
        by_driver = ExperimentRepository(session, state.sessionmaker.kw["bind"])
        live = await by_session.get_live(workspace, "b")
        assert live is not None
        assert await by_driver.live_fields(workspace, "b") == row_fields(live)
        assert await by_driver.live_fields(workspace, "nope") is None
        ids = [row["id"] for row in (await by_session.list_page(workspace, query("name")))[0]]
        metric = (ids[::-1], [2.0, None], 0.0)
        for listed in (query("name"), query("created_at", descending=False, pinned_first=False, page=2)):
            assert await by_driver.list_page(workspace, listed) == await by_session.list_page(workspace, listed)
            assert await by_driver.count(workspace, listed, None, pinned=True) == await by_session.count(
                workspace, listed, None, pinned=True
            )
            for only_valued in (True, False):
                got = await by_driver.page(workspace, listed, None, metric, only_valued=only_valued)
                assert got == await by_session.page(workspace, listed, None, metric, only_valued=only_valued)
        total, pinned = await by_driver.count(workspace, query("name"), None, pinned=True)
        assert total == 4 and len(pinned) == 1


async def test_a_filtered_list_reads_through_the_session(app, client, base, workspace) -> None:
    # A filter's values are in its statement, not one compilation per shape: the session runs it.
    await create_experiment(client, base, "kept")
    await create_experiment(client, base, "other")
    state = await app_state(app)
    filtered = parse_list_query(QueryParams("filter[name]=kept"), page=1, page_size=10, sort="name", pinned_first=True)
    async with state.sessionmaker() as session:
        repo = ExperimentRepository(session, state.sessionmaker.kw["bind"])
        rows, total = await repo.list_page(workspace, filtered)
    assert ([row["name"] for row in rows], total) == (["kept"], 1)


async def test_a_read_on_connections_postgresql_dropped_is_a_503_and_the_next_is_served(
    settings, client, base, monkeypatch
) -> None:
    await create_experiment(client, base, "e")
    assert await statuses_of_reads_at_once(client, exp_url(base, "e")) == {200}  # the pool keeps 6 connections
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 3600.0)  # no ping finds them dead first
    # From a connection of its own: one of the pool's would be the next read's, and alive.
    assert settings.database_url is not None
    outside = await asyncpg.connect(settings.database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await outside.execute(TERMINATE_OTHERS)
    finally:
        await outside.close()
    response = await client.get(exp_url(base, "e"))
    assert (response.status_code, response.json()) == (503, {"detail": "Metadata store unavailable."})
    # Every connection the pool made before is replaced, not met by a read of its own.
    assert await statuses_of_reads_at_once(client, exp_url(base, "e")) == {200}


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        AsyncAdapt_asyncpg_dbapi.Error(
            "the database system is starting up",
            asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        ),
    ],
)
def test_the_driver_and_dialect_errors_of_an_unreachable_postgresql_are_unavailability(error) -> None:
    assert is_unavailable(error)


def test_a_bad_statement_is_not_unavailability() -> None:
    assert not is_unavailable(asyncpg.exceptions.UndefinedColumnError("column x does not exist"))


async def test_a_first_page_that_is_not_full_needs_no_count(app, client, base) -> None:
    for name in ("a", "b", "c"):
        await create_experiment(client, base, name)
    engine = (await app_state(app)).sessionmaker.kw["bind"]
    sent: list[str] = []
    watched: set[Any] = set()

    def log(record: Any) -> None:
        sent.append(record.query.split()[1])  # what a SELECT selects first: count(*) or a row's id

    def watch(dbapi_connection: Any, *_: Any) -> None:
        dbapi_connection._connection.add_query_logger(log)
        watched.add(dbapi_connection._connection)

    event.listen(engine.sync_engine.pool, "checkout", watch)
    try:
        for params, total in (({}, 3), ({"page_size": 3}, 3), ({"page_size": 2}, 3), ({"page": 2, "page_size": 2}, 3)):
            sent.clear()
            assert ok(await client.get(f"{base}/experiments", params=params))["pagination"]["total_results"] == total
            await asyncio.sleep(0.01)  # asyncpg's query loggers run on the event loop soon after
            counts = sent.count("count(*)")
            assert counts == (0 if params.get("page_size", 100) > 3 else 1), (params, sent)
    finally:
        event.remove(engine.sync_engine.pool, "checkout", watch)
        for connection in watched:
            connection.remove_query_logger(log)


async def test_an_authenticated_read_holds_one_connection(settings, client, base, workspace) -> None:
    # The API key is looked up on the session's connection; the read's driver statements run on that
    # same connection, not on a second one taken from the pool for the same request.
    await create_experiment(client, base, "e")
    token = await create_key(settings.database_url, f"reader-{workspace}", [auth.READ], [workspace])
    application = create_app(settings.model_copy(update={"auth": "api-key"}))
    async with running(application) as manager, asgi_client(manager.app) as http:
        pool = (await app_state(manager.app)).sessionmaker.kw["bind"].sync_engine.pool
        out, most_out = 0, 0

        def taken(*_: Any) -> None:
            nonlocal out, most_out
            out += 1
            most_out = max(most_out, out)

        def returned(*_: Any) -> None:
            nonlocal out
            out -= 1

        event.listen(pool, "checkout", taken)
        event.listen(pool, "checkin", returned)
        try:
            for url in (exp_url(base, "e"), f"{base}/experiments"):
                most_out = 0
                assert (await http.get(url, headers={"X-API-Key": token})).status_code == 200
                assert most_out == 1, url
        finally:
            event.remove(pool, "checkout", taken)
            event.remove(pool, "checkin", returned)


async def test_a_cancelled_driver_read_does_not_return_a_busy_connection(app) -> None:
    # A client that leaves cancels its read; the connection goes back to the pool with the statement
    # still running on the server. asyncpg asks the server to cancel it, and the next statement on
    # that connection waits for that rather than failing with "another operation is in progress".
    engine = (await app_state(app)).sessionmaker.kw["bind"]
    sleep = select(func.pg_sleep(bindparam("seconds", type_=Float)))
    read = asyncio.create_task(driver_fetch(engine, "test.sleep", lambda: sleep, {"seconds": 5.0}))
    await asyncio.sleep(0.3)
    read.cancel()
    with pytest.raises(asyncio.CancelledError):
        await read
    # The pool is LIFO: the next reads take the connection the cancelled read used, if it went back.
    one = select(literal_column("1").label("one"))
    for _ in range(3):
        assert await driver_fetch(engine, "test.one", lambda: one, {}) == [{"one": 1}]
