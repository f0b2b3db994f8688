"""Lists that sort or filter by a rollup metric.

ClickHouse's precomputed per-experiment rollups decide each rollup condition as a set of experiment
ids, which PostgreSQL then applies like any other leaf (`id = ANY(...)`), so rollup conditions
combine freely with `$and`/`$or`/`$not` and the column filters, and `total_results` is exact. A
rollup sort sends the metric's values along as two arrays that PostgreSQL joins, orders and pages.

A page near the top of a large workspace does not need every value: the metric's column arrives in
order of value, so the first rows of the sort are among its first experiments (with every one tied
with the last, and the pinned ones, which come first). PostgreSQL pages that short list; when the
filters leave too few rows in it, the list grows fourfold, and past the experiments with a value
(or where an experiment without a rollup row would count as one, run_count's 0) the whole column goes.
"""

from typing import Any

from intake_service.domain.filters import Condition
from intake_service.domain.listing import ListQuery
from intake_service.domain.rollup_metrics import METRIC_BY_NAME, RollupPath
from intake_service.domain.rollups import Hydrated, hydrate_fields
from intake_service.store.clickhouse.rollups import MetricColumn
from intake_service.store.clickhouse.telemetry import TelemetryStore
from intake_service.store.postgres.experiments import ExperimentRepository, MetricValues
from intake_service.store.postgres.filters import RollupLeaves

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
) -> dict[RollupPath, MetricColumn]:
    return {path: await telemetry.metric_values(workspace, path) for path in paths}


def rollup_leaves(conditions: list[Condition], columns: dict[RollupPath, MetricColumn]) -> RollupLeaves:
    """Each rollup condition as (ids, negated): the experiments it admits are `id IN ids`, or, when
    an experiment without a value is admitted, `id NOT IN` the ids it rejects."""
    leaves: RollupLeaves = {}
    for condition in conditions:
        assert condition.rollup is not None
        present = columns[condition.rollup]
        pairs = zip(present.ids, present.values, strict=True)
        if matches(condition, missing_value(condition.rollup)):
            leaves[id(condition)] = ([i for i, v in pairs if not matches(condition, v)], True)
        else:
            leaves[id(condition)] = ([i for i, v in pairs if matches(condition, v)], False)
    return leaves


def sent_whole_at_most(query: ListQuery) -> int:
    """The longest metric column sent to PostgreSQL whole, in one statement with the list's count
    (_short_column_page): no longer than what the first try below sends for a page of a list at least
    that long, since PostgreSQL's work grows with the rows it joins and sorts (256 values of a 10-row
    page took it 2.3× the time of the count and the page of 12 values)."""
    shown = query.offset + query.page_size
    return shown + shown // 4


def _reaches_missing(values: list[float], missing: float | None, descending: bool) -> bool:
    """Whether an experiment without a rollup row (worth `missing`) could sort among these values."""
    if missing is None:
        return False
    return values[-1] >= missing if not descending else values[0] <= missing


async def _short_column_page(
    repo: ExperimentRepository, workspace: str, query: ListQuery, whole: MetricValues
) -> tuple[list[dict[str, Any]], int] | None:
    """The page of an unfiltered list sorted by a short metric column, sent whole: the experiments
    with a value and the pinned ones, with the list's count in the same statement, answer it when they
    are at least as many as the page needs (the rest have no value: they sort after them). None when
    that page is empty (past the listed experiments: the total is not known)."""
    rows, listed, total = await repo.valued_page_counted(workspace, query, whole)
    if total is None:
        return None
    if listed >= min(query.offset + query.page_size, total):
        return rows, total
    # The page reaches the experiments without a value: the whole list, as below.
    rows, _ = await repo.page(workspace, query, None, whole)
    return rows, total


async def _sorted_page(
    repo: ExperimentRepository, workspace: str, query: ListQuery, leaves: RollupLeaves, column: MetricColumn
) -> tuple[list[dict[str, Any]], int]:
    assert query.sort.rollup is not None
    missing = missing_value(query.sort.rollup)
    # A page that starts past the column's values is past the end or among the rows without one:
    # counted first, as below (which also keeps a huge offset out of the statement).
    if query.filter is None and query.offset < len(column.ids) <= sent_whole_at_most(query):
        if not _reaches_missing(column.values, missing, query.sort.descending):
            found = await _short_column_page(repo, workspace, query, (column.ids, column.values, missing))
            if found is not None:
                return found
    total, pinned = await repo.count(workspace, query, leaves, pinned=query.pinned_first)
    if query.offset >= total:
        return [], total
    needed = min(query.offset + query.page_size, total)
    # As many experiments as the page needs, more by the share the filters leave out, and a quarter.
    wanted = needed * max(len(column.ids), total) // total + needed // 4
    while True:
        ids, values, whole = column.first(wanted, query.sort.descending)
        if not ids or _reaches_missing(values, missing, query.sort.descending):
            break
        metric: MetricValues = (ids, values, missing)
        if pinned:  # pinned rows come first whatever their value (or none): they are always in
            listed = set(ids)
            extra = [i for i in pinned if i not in listed]
            metric = ([*ids, *extra], [*values, *(column.by_id.get(i) for i in extra)], missing)
        rows, listed_rows = await repo.page(workspace, query, leaves, metric, only_valued=True)
        if listed_rows >= needed:
            return rows, total
        if whole:
            break
        wanted *= 4
    # The page reaches the experiments without a value (or the column is empty): send it whole.
    rows, _ = await repo.page(workspace, query, leaves, (column.ids, column.values, missing))
    return rows, total


async def rollup_page(
    repo: ExperimentRepository, telemetry: TelemetryStore, workspace: str, query: ListQuery
) -> tuple[int, Hydrated]:
    """A page sorted or filtered by rollup metrics: how many match in all, and the page's experiments."""
    conditions = [c for c in query.conditions() if c.rollup]
    paths = {c.rollup for c in conditions if c.rollup}
    if query.sort.rollup:
        paths.add(query.sort.rollup)
    columns = await _metric_values(telemetry, workspace, paths)
    leaves = rollup_leaves(conditions, columns)
    if query.sort.rollup is None:
        rows, total = await repo.list_page(workspace, query, leaves)
    else:
        rows, total = await _sorted_page(repo, workspace, query, leaves, columns[query.sort.rollup])
    return total, await hydrate_fields(telemetry, rows)
