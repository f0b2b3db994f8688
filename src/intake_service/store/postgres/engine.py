"""Async engine and sessionmaker for PostgreSQL."""

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

T = TypeVar("T")


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
