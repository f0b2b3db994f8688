"""Metric columns (store/clickhouse/rollups.MetricColumn) and their cache (stale_rollups.read_column)."""

import random
from typing import Any

from intake_service.domain.rollup_metrics import RollupPath
from intake_service.store.clickhouse import rollups as rollup_sql
from intake_service.store.clickhouse.rollups import MetricColumn
from intake_service.store.clickhouse.stale_rollups import PATCHED, StaleRollups

from support import app_telemetry, create_experiment, ingest_ok


def column_of(values: dict[str, float | None]) -> MetricColumn:
    return MetricColumn.from_columns(list(values), list(values.values()))


def test_a_patched_column_equals_the_column_read_again() -> None:
    rng = random.Random(3)
    choices = [None, float("nan"), 0.0, 0.25, 0.5, 1.0]  # ties, none, NaN (no value)
    truth: dict[str, float | None] = {f"e{i}": rng.choice(choices) for i in range(300)}
    column = column_of(truth)
    for _ in range(20):
        changed = rng.sample(sorted(truth), rng.randrange(1, 30))
        for experiment_id in changed:
            truth[experiment_id] = rng.choice([None, rng.randrange(5) / 4])
        column = column.patched(changed, column_of({e: truth[e] for e in changed}))
        expected = column_of(truth)
        assert column.values == expected.values
        assert column.by_id == expected.by_id == dict(zip(column.ids, column.values, strict=True))
        assert len(column.ids) == len(expected.ids)


def test_the_first_rows_take_every_tie_of_the_last() -> None:
    column = column_of({"a": 1.0, "b": 2.0, "c": 2.0, "d": 3.0, "e": None})
    assert column.first(2, descending=False) == (["a", "b", "c"], [1.0, 2.0, 2.0], False)
    assert sorted(column.first(2, descending=True)[0]) == ["b", "c", "d"]
    assert column.first(1, descending=True) == (["d"], [3.0], False)
    assert column.first(4, descending=False)[2] is True


async def test_after_more_changes_than_it_lists_a_column_is_read_whole(app) -> None:
    stale = StaleRollups((await app_telemetry(app)).executor, deferred=True)
    reads: list[list[str] | None] = []

    async def fetch(experiment_ids: list[str] | None) -> MetricColumn:
        reads.append(experiment_ids)
        return column_of({e: 1.0 for e in experiment_ids or ["e0"]})

    await stale.read_column("w", "m", fetch)
    await stale.read_column("w", "m", fetch)
    stale.forget("w", ["e1", "e2"])
    stale.forget("other", ["e3"])
    await stale.read_column("w", "m", fetch)
    stale.forget("w", [f"x{i}" for i in range(PATCHED + 1)])
    await stale.read_column("w", "m", fetch)
    assert reads == [None, ["e1", "e2"], None]


async def test_a_column_read_waits_only_for_the_rows_stale_when_it_began(app, client, base, workspace) -> None:
    """An ingest that lands while a metric column's read waits for a computation marks the row again:
    the read answers from the row it computed (every session acknowledged before it began), without
    waiting for the writer's INSERT and reading the table; the next read sees the new session."""
    telemetry = await app_telemetry(app)
    stale = telemetry.stale
    name = (await create_experiment(client, base))["name"]
    await ingest_ok(client, base, name, [session("a", 0.0)])
    path = RollupPath("evaluators", "mean", "acc")
    reads: list[list[str] | None] = []

    async def fetch(experiment_ids: list[str] | None) -> MetricColumn:
        reads.append(experiment_ids)
        sql, params = rollup_sql.metric_query(path, experiment_ids)
        columns = await telemetry.reader.query_columns(sql, {"workspace": workspace, **params})
        return MetricColumn.from_columns(columns["experiment_id"], columns["value"])

    def from_rows(rows: dict[str, Any]) -> MetricColumn:
        values = {e: rollup_sql.metric_value(path, rollups) for e, rollups in rows.items()}
        return column_of(values)

    await stale.read_column(workspace, path, fetch, from_rows)  # kept in memory
    computing = stale._compute
    landed: list[str] = []

    async def an_ingest_lands_meanwhile(*args: Any) -> Any:
        found = await computing(*args)
        if not landed:
            landed.append(name)
            await ingest_ok(client, base, name, [session("b", 1.0)])
        return found

    stale._compute = an_ingest_lands_meanwhile  # type: ignore[method-assign]
    await ingest_ok(client, base, name, [session("c", 1.0)])
    column = await stale.read_column(workspace, path, fetch, from_rows)
    assert landed and list(column.by_id.values()) == [0.5]
    column = await stale.read_column(workspace, path, fetch, from_rows)
    assert list(column.by_id.values()) == [2 / 3]
    assert reads == [None]  # both patched from rows computed in memory, never read from the table


def session(session_id: str, accuracy: float) -> dict[str, Any]:
    return {"session_id": session_id, "started_at": "2026-01-01T00:00:00Z", "scores": {"acc": accuracy}}
