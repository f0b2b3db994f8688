"""Lists that sort or filter by a rollup metric.

ClickHouse's precomputed per-experiment rollups decide each rollup condition as a set of experiment
ids, which PostgreSQL then applies like any other leaf (`id = ANY(...)`), so rollup conditions
combine freely with `$and`/`$or`/`$not` and the column filters, and `total_results` is exact. Only a
rollup *sort* needs the metric beside the rows: then the admitted rows' ids are merged with the
metric values here, ordered, and one page of rows is read back.
"""

from typing import Any

from intake_service.domain.listing import Condition, ListQuery, RollupPath
from intake_service.domain.rollups import Hydrated, hydrate
from intake_service.errors import TelemetryUnavailable
from intake_service.store.clickhouse.telemetry import TelemetryStore
from intake_service.store.postgres.experiments import Candidate, ExperimentRepository
from intake_service.store.postgres.filters import RollupLeaves
from intake_service.store.postgres.tables import Experiment

COMPARE = {
    "$eq": lambda a, b: a == b,
    "$ne": lambda a, b: a != b,
    "$gt": lambda a, b: a > b,
    "$gte": lambda a, b: a >= b,
    "$lt": lambda a, b: a < b,
    "$lte": lambda a, b: a <= b,
}


def matches(condition: Condition, value: float | None) -> bool:
    """A missing metric matches only `$ne`, as a missing column value does."""
    if value is None:
        return condition.op == "$ne"
    return bool(COMPARE[condition.op](value, condition.value))


def missing_value(path: RollupPath) -> float | None:
    """What an experiment with no rollup row has: no sessions is a run_count of 0, not no value."""
    return 0.0 if path.metric == "run_count" else None


async def _metric_values(
    telemetry: TelemetryStore, workspace: str, paths: set[RollupPath]
) -> dict[RollupPath, dict[str, float]]:
    return {path: await telemetry.metric_values(workspace, path) for path in paths}


def rollup_leaves(conditions: list[Condition], values: dict[RollupPath, dict[str, float]]) -> RollupLeaves:
    """Each rollup condition as (ids, negated): the experiments it admits are `id IN ids`, or, when
    an experiment without a value is admitted, `id NOT IN` the ids it rejects."""
    leaves: RollupLeaves = {}
    for condition in conditions:
        assert condition.rollup is not None
        present = values[condition.rollup]
        if matches(condition, missing_value(condition.rollup)):
            leaves[id(condition)] = ([i for i, v in present.items() if not matches(condition, v)], True)
        else:
            leaves[id(condition)] = ([i for i, v in present.items() if matches(condition, v)], False)
    return leaves


async def rollup_page(
    repo: ExperimentRepository, telemetry: TelemetryStore | None, workspace: str, query: ListQuery
) -> tuple[list[Experiment], int, Hydrated]:
    if telemetry is None:
        raise TelemetryUnavailable()
    conditions = [c for c in query.conditions() if c.rollup]
    paths = {c.rollup for c in conditions if c.rollup}
    if query.sort.rollup:
        paths.add(query.sort.rollup)
    values = await _metric_values(telemetry, workspace, paths)
    leaves = rollup_leaves(conditions, values)
    if query.sort.rollup is None:
        rows, total = await repo.list_page(workspace, query, leaves)
        return list(rows), total, await hydrate(telemetry, list(rows))

    def metric(path: RollupPath, experiment_id: str) -> float | None:
        value = values[path].get(experiment_id)
        return missing_value(path) if value is None else value

    admitted = order(query, await repo.list_candidates(workspace, query, leaves), metric)
    page_ids = [c.id for c in admitted[query.offset : query.offset + query.page_size]]
    by_id = await repo.get_many(page_ids)
    rows = [by_id[i] for i in page_ids if i in by_id]
    return rows, len(admitted), await hydrate(telemetry, rows)


def order(query: ListQuery, candidates: list[Candidate], metric: Any) -> list[Candidate]:
    """Requested order, missing values last in both directions, ties by name then id; pinned first.
    Stable sorts applied from the weakest key to the strongest."""
    ordered = sorted(candidates, key=lambda c: (c.name, c.id))
    sort = query.sort

    def value(c: Candidate) -> Any:
        return metric(sort.rollup, c.id) if sort.rollup else c.sort_value

    present = [c for c in ordered if value(c) is not None]
    present.sort(key=value, reverse=sort.descending)
    ordered = present + [c for c in ordered if value(c) is None]
    if query.pinned_first:
        ordered.sort(key=lambda c: (c.pinned_at is None, -c.pinned_at.timestamp() if c.pinned_at else 0.0))
    return ordered
