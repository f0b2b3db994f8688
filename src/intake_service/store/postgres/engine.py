"""Async engine and sessionmaker for PostgreSQL."""

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable, Mapping
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import Select, event, text
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.util import await_, greenlet_spawn

from intake_service.errors import MetadataStoreUnavailable

T = TypeVar("T")
# Every statement is planned for the values it carries: a generic plan (PostgreSQL's pick for a
# prepared statement after five runs) cannot hash an array parameter, and a rollup filter's
# `id = ANY(:ids)` over 50,000 ids then cost a comparison per id for every row (4.3 s at 20,000
# experiments). Set for the connection rather than per transaction, so a read needs no transaction;
# planning a statement again costs PostgreSQL some 30 µs.
SERVER_SETTINGS = {"plan_cache_mode": "force_custom_plan"}
# A connection used this recently is not pinged before its next use (HikariCP's aliveBypassWindowMs):
# a busy service reuses its connections far more often, and a ping is a round trip per request.
PING_AFTER_IDLE_SECONDS = 1.0


def is_unavailable(exc: BaseException) -> bool:
    """Whether `exc` means PostgreSQL cannot be reached (as opposed to a bad statement)."""
    if isinstance(exc, OperationalError | ConnectionError | OSError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    # Class 08 (connection exception) and 57P (the server starting up, shutting down, crashed):
    # asyncpg's errors for them, raised by the driver itself, by the dialect at a connect, or
    # reaching us as plain DBAPIErrors.
    sqlstate = getattr(exc.orig if isinstance(exc, DBAPIError) else exc, "sqlstate", None) or ""
    return sqlstate.startswith(("08", "57P"))


async def ping(sessionmaker: async_sessionmaker[AsyncSession], timeout: float) -> None:
    """SELECT 1, or an exception."""
    async with sessionmaker() as session:
        await asyncio.wait_for(session.execute(text("SELECT 1")), timeout)


def create_engine(database_url: str) -> AsyncEngine:
    # LIFO: the connection used last is used next, so under any steady traffic it is never idle long
    # enough to be pinged, and the rest of the pool may sit idle.
    engine = create_async_engine(
        database_url,
        pool_size=10,
        max_overflow=20,
        pool_timeout=10,
        pool_use_lifo=True,
        connect_args={"server_settings": SERVER_SETTINGS},
    )
    _ping_idle_connections(engine)
    return engine


def _ping_idle_connections(engine: AsyncEngine) -> None:
    """Pre-ping, as pool_pre_ping does, only the connections idle for PING_AFTER_IDLE_SECONDS: the
    service still recovers by itself after PostgreSQL restarts, without a round trip per request."""
    pool, dialect = engine.sync_engine.pool, engine.sync_engine.dialect

    @event.listens_for(pool, "checkin")
    def _returned(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: ConnectionPoolEntry, proxy: Any) -> None:
        returned_at = record.info.get("returned_at")
        if returned_at is None or time.monotonic() - returned_at < PING_AFTER_IDLE_SECONDS:
            return  # a new connection, or one in use a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError(str(exc)) from exc  # the pool replaces it with a new connection


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


_readers: "WeakKeyDictionary[async_sessionmaker[AsyncSession], async_sessionmaker[AsyncSession]]" = WeakKeyDictionary()


def reader_of(sessionmaker: async_sessionmaker[AsyncSession]) -> async_sessionmaker[AsyncSession]:
    """`sessionmaker`'s sessions without a transaction (AUTOCOMMIT), on the same pool: at READ
    COMMITTED each statement sees its own snapshot inside a transaction too, so a read's BEGIN and
    COMMIT were two round trips that bought nothing. A connection is still taken only when needed."""
    if (reader := _readers.get(sessionmaker)) is None:
        engine = sessionmaker.kw["bind"].execution_options(isolation_level="AUTOCOMMIT")
        options = {key: value for key, value in sessionmaker.kw.items() if key != "bind"}
        reader = _readers[sessionmaker] = async_sessionmaker(engine, **options)
    return reader


# The statements of driver_fetch, compiled once each: their SQL and their parameters' names in order.
_DIALECT = PGDialect_asyncpg()
_DRIVER_SQL: dict[Hashable, tuple[str, tuple[str, ...]]] = {}


def driver_sql(key: Hashable, build: Callable[[], Select[Any]]) -> tuple[str, tuple[str, ...]]:
    """The SQL of the statement `build()` makes for `key`, compiled at the first use of `key`. Every
    value must be a named bindparam, so that one compilation serves every request of that shape."""
    if (found := _DRIVER_SQL.get(key)) is None:
        compiled = build().compile(dialect=_DIALECT)
        assert isinstance(compiled, SQLCompiler)
        found = _DRIVER_SQL[key] = (compiled.string, tuple(compiled.positiontup or ()))
    return found


async def driver_fetch(
    engine: AsyncEngine,
    key: Hashable,
    build: Callable[[], Select[Any]],
    params: Mapping[str, Any],
    held: PoolProxiedConnection | None = None,
) -> list[dict[str, Any]]:
    """The rows of a statement (see driver_sql) as dicts in column order, run on a pooled connection's
    driver outside any transaction, as a read's statements are (reader_of): the Session, Connection
    and ORM layers it skips cost about 0.6 ms of CPU per statement, most of a GET of one experiment.
    `held` is a connection the caller's session already holds (an API key's last use was recorded on it): the
    read runs there rather than taking a second connection from the pool for the same request.
    A connection found lost is dropped from the pool, and the read is a 503."""
    sql, names = driver_sql(key, build)
    args = [params[name] for name in names]
    if held is not None:
        on: Any = held.driver_connection  # asyncpg's Connection
        try:
            records = await on.fetch(sql, *args)
        except Exception as exc:
            if is_unavailable(exc) or on.is_closed():
                raise MetadataStoreUnavailable() from exc
            raise
        return [dict(record) for record in records]

    # In one greenlet, as SQLAlchemy's pool wants for a checkout that may connect or ping and a
    # checkin that may close: one hop into it per statement rather than two.
    def fetch() -> list[Any]:
        connection = engine.sync_engine.raw_connection()
        driver: Any = connection.driver_connection  # asyncpg's Connection
        try:
            return await_(driver.fetch(sql, *args))  # type: ignore[no-any-return]
        except Exception as exc:
            # A disconnect as SQLAlchemy's dialect judges one: the driver closed the connection. As
            # SQLAlchemy's own Connection does then, every connection of the pool made before it is
            # replaced at its next checkout (PostgreSQL restarted: they are all gone).
            if driver.is_closed():
                engine.sync_engine.pool._invalidate(connection, exc)
                raise MetadataStoreUnavailable() from exc
            raise
        finally:
            connection.close()

    try:
        records = await greenlet_spawn(fetch)
    except Exception as exc:  # a connect that failed
        if is_unavailable(exc):
            raise MetadataStoreUnavailable() from exc
        raise
    return [dict(record) for record in records]


async def run_in_transaction(database_url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """One committed transaction outside the app (the CLI's key commands)."""
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            return await work(session)
    finally:
        await engine.dispose()
