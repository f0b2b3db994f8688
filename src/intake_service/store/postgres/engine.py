"""Async engine and sessionmaker for PostgreSQL."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

T = TypeVar("T")


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
    # pool_pre_ping lets the service recover by itself after PostgreSQL restarts.
    return create_async_engine(
        database_url, pool_pre_ping=True, pool_size=10, max_overflow=20, pool_timeout=10
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def run_in_transaction(database_url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """One committed transaction outside the app (the CLI's key commands)."""
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            return await work(session)
    finally:
        await engine.dispose()
