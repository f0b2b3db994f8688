"""Migration 0005: the experiment_groups table it creates is the one the code maps (tables.py), and
it goes down to 0004 and up again."""

import asyncio
import uuid

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Connection, MetaData, text
from sqlalchemy.ext.asyncio import create_async_engine

from intake_service.store.postgres.migrate import migrations_dir
from intake_service.store.postgres.tables import Base


def _alembic(url: str, step: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["database_url"] = url
    getattr(command, step)(config, revision)


def _differences(connection: Connection) -> list[object]:
    only_groups = MetaData(naming_convention=Base.metadata.naming_convention)
    Base.metadata.tables["experiment_groups"].to_metadata(only_groups)
    context = MigrationContext.configure(
        connection,
        opts={"include_name": lambda name, kind, _: kind != "table" or name == "experiment_groups"},
    )
    return list(compare_metadata(context, only_groups))


async def _inspect(url: str) -> tuple[list[object], bool]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(_differences)
            exists = await connection.scalar(text("SELECT to_regclass('experiment_groups') IS NOT NULL"))
            return differences, bool(exists)
    finally:
        await engine.dispose()


async def _create_database(admin_url: str, name: str) -> None:
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f"CREATE DATABASE {name}"))
    finally:
        await engine.dispose()


def test_0005_matches_the_table_the_code_maps_and_reverts(settings) -> None:
    database = f"migration_{uuid.uuid4().hex[:10]}"
    asyncio.run(_create_database(settings.database_url, database))
    url = settings.database_url.replace("/postgres?", f"/{database}?")
    _alembic(url, "upgrade", "head")
    differences, exists = asyncio.run(_inspect(url))
    assert exists and differences == []
    _alembic(url, "downgrade", "0004")
    assert asyncio.run(_inspect(url))[1] is False
    _alembic(url, "upgrade", "head")
    assert asyncio.run(_inspect(url)) == ([], True)
