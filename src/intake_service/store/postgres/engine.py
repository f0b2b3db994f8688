"""Async engine and sessionmaker for PostgreSQL."""

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def create_engine(database_url: str) -> AsyncEngine:
    # pool_pre_ping lets the service recover by itself after PostgreSQL restarts.
    return create_async_engine(
        database_url, pool_pre_ping=True, pool_size=10, max_overflow=20, pool_timeout=10
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
