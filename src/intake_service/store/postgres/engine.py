"""Async engine and sessionmaker for PostgreSQL."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

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
    if not isinstance(exc, DBAPIError):
        return False
    # Class 08 (connection exception) and 57P (the server starting up, shutting down, crashed):
    # asyncpg's errors for them reach us as plain DBAPIErrors.
    sqlstate = getattr(exc.orig, "sqlstate", None) or ""
    return exc.connection_invalidated or sqlstate.startswith(("08", "57P"))


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


async def run_in_transaction(database_url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """One committed transaction outside the app (the CLI's key commands)."""
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            return await work(session)
    finally:
        await engine.dispose()
