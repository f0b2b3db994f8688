"""Lists sorted or filtered by a rollup metric: PostgreSQL filters pick the candidates, ClickHouse's
precomputed per-experiment rollups give the metric, and the two are merged here by experiment id."""

from typing import Any

from intake_service.domain.listing import AllOf, Condition, ListQuery, RollupPath
from intake_service.domain.rollups import Hydrated, hydrate
from intake_service.errors import TelemetryUnavailable, query_error
from intake_service.store.clickhouse.telemetry import TelemetryStore
from intake_service.store.postgres.experiments import Candidate, ExperimentRepository
from intake_service.store.postgres.tables import Experiment

COMPARE = {
    "$eq": lambda a, b: a == b,
    "$ne": lambda a, b: a != b,
    "$gt": lambda a, b: a > b,
    "$gte": lambda a, b: a >= b,
    "$lt": lambda a, b: a < b,
    "$lte": lambda a, b: a <= b,
}


def top_level_rollup_conditions(query: ListQuery) -> list[Condition]:
    """Rollup conditions, which may only be AND-combined at the top of the filter."""
    top: list[Any] = []
    pending = [query.filter] if query.filter is not None else []
    while pending:  # AND of ANDs is still AND: flatten nested $and groups
        node = pending.pop()
        if isinstance(node, AllOf):
            pending.extend(node.nodes)
        else:
            top.append(node)
    found = [c for c in top if isinstance(c, Condition) and c.rollup]
    if len(found) != sum(1 for c in query.conditions() if c.rollup):
        raise query_error("filter", query.filter_echo, "Rollup filters can only be combined with AND, not $or/$not.")
    return found


def matches(condition: Condition, value: float | None) -> bool:
    if value is None:
        return condition.op == "$ne"
    return bool(COMPARE[condition.op](value, condition.value))


async def rollup_page(
    repo: ExperimentRepository, telemetry: TelemetryStore | None, workspace: str, query: ListQuery
) -> tuple[list[Experiment], int, Hydrated]:
    conditions = top_level_rollup_conditions(query)
    if telemetry is None:
        raise TelemetryUnavailable()
    candidates = await repo.list_candidates(workspace, query)
    paths: set[RollupPath] = {c.rollup for c in conditions if c.rollup}
    if query.sort.rollup:
        paths.add(query.sort.rollup)
    values = {path: await telemetry.metric_values(workspace, path) for path in paths}

    def metric(path: RollupPath, experiment_id: str) -> float | None:
        value = values[path].get(experiment_id)
        return 0.0 if value is None and path.metric == "run_count" else value

    kept = [
        c for c in candidates if all(matches(cond, metric(cond.rollup, c.id)) for cond in conditions)  # type: ignore[arg-type]
    ]
    kept = order(query, kept, metric)
    page_ids = [c.id for c in kept[query.offset : query.offset + query.page_size]]
    by_id = await repo.get_many(page_ids)
    rows = [by_id[i] for i in page_ids if i in by_id]
    return rows, len(kept), await hydrate(telemetry, rows)


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
