"""Lists that sort or filter by a rollup metric.

ClickHouse's precomputed per-experiment rollups decide each rollup condition as a set of experiment
ids, which PostgreSQL then applies like any other leaf (`id = ANY(...)`), so rollup conditions
combine freely with `$and`/`$or`/`$not` and the column filters, and `total_results` is exact. A
rollup sort sends the metric's values along as two arrays that PostgreSQL joins, orders and pages.
"""

from intake_service.domain.filters import Condition
from intake_service.domain.listing import ListQuery
from intake_service.domain.rollup_metrics import METRIC_BY_NAME, RollupPath
from intake_service.domain.rollups import Hydrated, hydrate
from intake_service.store.clickhouse.telemetry import TelemetryStore
from intake_service.store.postgres.experiments import ExperimentRepository
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
    return METRIC_BY_NAME[path.metric].missing


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
    repo: ExperimentRepository, telemetry: TelemetryStore, workspace: str, query: ListQuery
) -> tuple[list[Experiment], int, Hydrated]:
    conditions = [c for c in query.conditions() if c.rollup]
    paths = {c.rollup for c in conditions if c.rollup}
    if query.sort.rollup:
        paths.add(query.sort.rollup)
    values = await _metric_values(telemetry, workspace, paths)
    metric = None
    if query.sort.rollup is not None:
        by_id = values[query.sort.rollup]
        metric = (list(by_id), list(by_id.values()), missing_value(query.sort.rollup))
    rows, total = await repo.list_page(workspace, query, rollup_leaves(conditions, values), metric)
    return list(rows), total, await hydrate(telemetry, list(rows))
