"""Metric columns (store/clickhouse/rollups.MetricColumn) and their cache (stale_rollups.read_column)."""

import random

from intake_service.store.clickhouse.rollups import MetricColumn
from intake_service.store.clickhouse.stale_rollups import PATCHED, StaleRollups

from support import app_telemetry


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
