"""Migration 0007 on groups written under 0006: each becomes a container that is neither a favorite
nor shown over time, with no baseline and no saved layout; the downgrade drops those columns and
keeps the groups. (That head matches tables.py is test_experiment_groups_migration's check.)"""

import asyncio
import uuid
from datetime import UTC, datetime

from test_evaluations_migration import _alembic, _execute

NOW = datetime(2026, 11, 1, tzinfo=UTC)
GROUP = (
    "INSERT INTO experiment_groups (id, workspace, name, default_sort, pareto_x_metric, pareto_y_metric, "
    "created_at, updated_at) VALUES ('grp-1', 'w', 'g', '-created_at', 'cost_usd', 'latency_ms', :now, :now)"
)
CONTAINER_COLUMNS = "is_favorite, show_evaluations_over_time, baseline_evaluation_name, column_layout"


def test_0007_makes_every_group_a_plain_container_and_reverts(settings) -> None:
    database = f"migration_{uuid.uuid4().hex[:10]}"
    asyncio.run(_execute(settings.database_url, f"CREATE DATABASE {database}", autocommit=True))
    url = settings.database_url.replace("/postgres?", f"/{database}?")
    _alembic(url, "upgrade", "0006")
    asyncio.run(_execute(url, GROUP, {"now": NOW}))
    _alembic(url, "upgrade", "0007")
    rows = asyncio.run(_execute(url, f"SELECT name, {CONTAINER_COLUMNS} FROM experiment_groups"))
    assert rows == [("g", False, False, None, None)]
    _alembic(url, "downgrade", "0006")
    columns = asyncio.run(
        _execute(url, "SELECT column_name FROM information_schema.columns WHERE table_name = 'experiment_groups'")
    )
    assert not {"is_favorite", "column_layout"} & {name for (name,) in columns}
    assert asyncio.run(_execute(url, "SELECT name FROM experiment_groups")) == [("g",)]
