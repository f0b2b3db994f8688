"""Migration 0004 on data written under 0003: every run and artifact record keeps its row and gains
its experiment's owner; afterwards two owners may share a run id, one owner may not."""

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from intake_service.store.postgres.migrate import migrations_dir

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def _alembic(url: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["database_url"] = url
    command.upgrade(config, revision)


async def _execute(url: str, *statements: str, params: dict | None = None, autocommit: bool = False) -> list:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT") if autocommit else create_async_engine(url)
    try:
        async with engine.begin() as connection:
            rows: list = []
            for statement in statements:
                result = await connection.execute(text(statement), params or {})
                rows = list(result.all()) if result.returns_rows else []
            return rows
    finally:
        await engine.dispose()


def test_0004_gives_runs_and_artifacts_their_owner(settings) -> None:
    database = f"migration_{uuid.uuid4().hex[:10]}"
    asyncio.run(_execute(settings.database_url, f"CREATE DATABASE {database}", autocommit=True))
    url = settings.database_url.replace("/postgres?", f"/{database}?")
    _alembic(url, "0003")
    experiment = (
        "INSERT INTO workbench_experiments (id, workspace, owner, name, status, created_at, updated_at) "
        "VALUES ('exp_a', 'w', 'alice', 'e', 'draft', :now, :now)"
    )
    run = (
        "INSERT INTO workbench_runs (workspace, id, experiment_id, status, created_at, updated_at) "
        "VALUES ('w', 'r1', 'exp_a', 'draft', :now, :now)"
    )
    artifact = (
        "INSERT INTO workbench_artifacts"
        " (workspace, run_id, path, experiment_id, name, type, s3_key, stored, created_at) "
        "VALUES ('w', 'r1', 'm.txt', 'exp_a', 'm.txt', 'other', 'k', false, :now)"
    )
    asyncio.run(_execute(url, experiment, run, artifact, params={"now": NOW}))
    _alembic(url, "head")
    assert asyncio.run(_execute(url, "SELECT owner, id FROM workbench_runs")) == [("alice", "r1")]
    assert asyncio.run(_execute(url, "SELECT owner, run_id, path FROM workbench_artifacts")) == [
        ("alice", "r1", "m.txt")
    ]
    bob = (
        "INSERT INTO workbench_experiments (id, workspace, owner, name, status, created_at, updated_at) "
        "VALUES ('exp_b', 'w', 'bob', 'e', 'draft', :now, :now)"
    )
    bobs_run = (
        "INSERT INTO workbench_runs (workspace, owner, id, experiment_id, status, created_at, updated_at) "
        "VALUES ('w', 'bob', 'r1', 'exp_b', 'draft', :now, :now)"
    )
    asyncio.run(_execute(url, bob, bobs_run, params={"now": NOW}))
    with pytest.raises(IntegrityError):  # the same owner, the same id
        asyncio.run(_execute(url, bobs_run, params={"now": NOW}))
    # The artifact record still cascades with its run.
    asyncio.run(_execute(url, "DELETE FROM workbench_runs WHERE owner = 'alice'"))
    assert asyncio.run(_execute(url, "SELECT count(*) FROM workbench_artifacts")) == [(0,)]
    asyncio.run(_execute(settings.database_url, f"DROP DATABASE {database}", autocommit=True))
