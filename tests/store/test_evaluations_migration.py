"""Migration 0006 on runs written under 0004: a run's group id becomes its only membership, a run
without one has none; the downgrade drops the evaluation columns and keeps the runs."""

import asyncio
import uuid
from datetime import UTC, datetime

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from intake_service.store.postgres.migrate import migrations_dir

NOW = datetime(2026, 11, 1, tzinfo=UTC)
RUN = (
    "INSERT INTO experiments (id, workspace, name, experiment_group_id, dataset_name, created_at, updated_at) "
    "VALUES (:id, 'w', :name, :group_id, 'd', :now, :now)"
)


def _alembic(url: str, action: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["database_url"] = url
    getattr(command, action)(config, revision)


async def _execute(url: str, statement: str, params: dict | None = None, autocommit: bool = False) -> list:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT") if autocommit else create_async_engine(url)
    try:
        async with engine.begin() as connection:
            result = await connection.execute(text(statement), params or {})
            return list(result.all()) if result.returns_rows else []
    finally:
        await engine.dispose()


def test_0006_makes_the_group_id_the_membership(settings) -> None:
    database = f"migration_{uuid.uuid4().hex[:10]}"
    asyncio.run(_execute(settings.database_url, f"CREATE DATABASE {database}", autocommit=True))
    url = settings.database_url.replace("/postgres?", f"/{database}?")
    try:
        _alembic(url, "upgrade", "0004")
        for run_id, name, group_id in (("e1", "grouped", "grp-1"), ("e2", "alone", None)):
            asyncio.run(_execute(url, RUN, {"id": run_id, "name": name, "group_id": group_id, "now": NOW}))
        _alembic(url, "upgrade", "0006")
        rows = asyncio.run(
            _execute(
                url, "SELECT id, experiment_ids, parent_evaluation_id, status, root_cause FROM experiments ORDER BY id"
            )
        )
        assert rows == [("e1", ["grp-1"], None, None, None), ("e2", [], None, None, None)]
        _alembic(url, "downgrade", "0004")
        assert asyncio.run(_execute(url, "SELECT id, experiment_group_id FROM experiments ORDER BY id")) == [
            ("e1", "grp-1"),
            ("e2", None),
        ]
    finally:
        asyncio.run(_execute(settings.database_url, f"DROP DATABASE {database}", autocommit=True))
