"""The SDK 0.3.0 evaluation list: sort keys, filters (column and rollup), pages, and the rollup
views a rollup sort, rollup filter or pivot reads."""

from collections.abc import Callable, Sequence
from typing import Any

from fastapi.exceptions import RequestValidationError
from starlette.datastructures import QueryParams

from intake_service.domain import evaluation_filters
from intake_service.domain import evaluation_rollups as rollup_sort
from intake_service.domain.evaluations import respond
from intake_service.domain.filters import FilterNode, iter_conditions, parse_filter
from intake_service.domain.listing import COLUMN_SORTS
from intake_service.domain.paging import pagination
from intake_service.domain.rollups import hydrate
from intake_service.errors import BadListQuery, PayloadTooLarge, TelemetryUnavailable
from intake_service.models.generated import EvaluationResponsesPage
from intake_service.store.clickhouse.telemetry import TelemetryStore
from intake_service.store.postgres.evaluations import EvaluationRepository
from intake_service.store.postgres.tables import Experiment


def parse_sort_keys(
    raw: str, allowed: tuple[str, ...], paths: tuple[str, ...] = (), is_path: Callable[[str], bool] | None = None
) -> list[tuple[str, bool]]:
    """Comma-separated keys, each `field` or `-field`, the first dominating; a field is one of
    `allowed` or (when `is_path` says so) a path of the `paths` forms; 400 for anything else."""
    keys = []
    for token in (part.strip() for part in raw.split(",")):
        if not token:
            continue
        descending = token.startswith("-")
        field = token[1:] if descending else token
        if field not in allowed and not (is_path and is_path(field)):
            raise BadListQuery(f"Unsupported sort field: {field!r}; use {', '.join((*allowed, *paths))}.")
        keys.append((field, descending))
    if not keys:
        raise BadListQuery("The 'sort' parameter must contain at least one field.")
    return keys


def _sdk_brackets(params: QueryParams) -> QueryParams:
    """The SDK sends a metadata filter as filter[metadata][key]=value: read it as filter[metadata.key]."""
    items = []
    for key, value in params.multi_items():
        if key.startswith("filter[metadata][") and key.endswith("]") and key.count("[") == 2:
            key = f"filter[metadata.{key[len('filter[metadata][') : -1]}]"
        items.append((key, value))
    return QueryParams(items)


def _one_sentence(error: RequestValidationError) -> str:
    message = str(error.errors()[0]["msg"])
    return message if message.endswith(".") else message + "."


async def parse_list_filter(
    telemetry: TelemetryStore, workspace: str, params: QueryParams
) -> tuple[FilterNode | None, list[rollup_sort.MetricPredicate], dict[str, Any], bool]:
    """The list's filter: the column conditions (facets resolved to evaluation ids), the rollup
    conditions (AND-ed with them), the echo, and whether deleted evaluations are asked for; 400 with
    one sentence for a bad filter."""
    params, predicates, rollup_echo = rollup_sort.split_rollup_filters(params)
    try:
        node, echo = parse_filter(_sdk_brackets(params), evaluation_filters.EXTRA_FIELDS)
    except RequestValidationError as exc:
        raise BadListQuery(_one_sentence(exc)) from None
    conditions = list(iter_conditions(node))
    for condition in conditions:
        if condition.rollup is not None:
            raise BadListQuery(f"A rollup filter ({condition.field!r}) combines with the others only by AND.")
        evaluation_filters.check_ops(condition)
    include_deleted = any(c.field == "is_deleted" for c in conditions)
    node = await evaluation_filters.observe(telemetry, workspace, node)
    return node, predicates, echo | rollup_echo, include_deleted


async def list_page(
    repo: EvaluationRepository,
    telemetry: TelemetryStore,
    workspace: str,
    params: QueryParams,
    *,
    page: int,
    page_size: int,
    sort: str | None,
) -> tuple[EvaluationResponsesPage, bool]:
    keys = [("created_at", True)]
    if sort is not None:
        keys = parse_sort_keys(sort, COLUMN_SORTS, rollup_sort.PATH_FORMS, rollup_sort.is_rollup_path)
    node, predicates, echo, include_deleted = await parse_list_filter(telemetry, workspace, params)
    offset = (page - 1) * page_size
    if not predicates and not any(rollup_sort.is_rollup_path(field) for field, _ in keys):
        rows, total = await repo.list_evaluations(
            workspace, node, include_deleted=include_deleted, keys=keys, pinned_first=sort is None,
            offset=offset, limit=page_size,
        )  # fmt: skip
        data, available = await respond(telemetry, list(rows))
    else:
        runs = any(field == "run_count" for field, _ in keys) or any(p.field == "run_count" for p in predicates)
        views = await all_with_rollups(repo, telemetry, workspace, node, include_deleted, run_counts=runs)
        views = rollup_sort.sort_views([v for v in views if rollup_sort.matches(v, predicates)], keys)
        if sort is None:
            views.sort(key=lambda v: v.row.pinned_at is None)  # stable: pinned first, key order kept
        total, views = len(views), views[offset : offset + page_size]
        data, available = await respond(telemetry, [v.row for v in views], {v.row.id: v.rollup for v in views})
        if not available:
            raise TelemetryUnavailable()
    envelope = EvaluationResponsesPage(
        data=data, pagination=pagination(page, page_size, len(data), total), sort=sort, filter=echo
    )
    return envelope, available


async def all_with_rollups(
    repo: EvaluationRepository,
    telemetry: TelemetryStore,
    workspace: str,
    node: FilterNode | None,
    include_deleted: bool,
    *,
    run_counts: bool = False,
) -> list[rollup_sort.RollupView]:
    """Every evaluation the column filters admit, with its rollups (and its run count when asked),
    for a rollup sort or filter; only the rollups are read, not the responses' other telemetry."""
    rows, total = await repo.list_evaluations(
        workspace, node, include_deleted=include_deleted, keys=[("name", False)], pinned_first=False,
        offset=0, limit=rollup_sort.MAX_SORTED,
    )  # fmt: skip
    check_sortable(total)
    return await rollup_views(telemetry, workspace, rows, run_counts=run_counts)


def check_sortable(total: int) -> None:
    """413 when more evaluations are selected than a rollup sort or filter reads in one request."""
    if total > rollup_sort.MAX_SORTED:
        raise PayloadTooLarge(
            f"This query selects {total} evaluations, more than the {rollup_sort.MAX_SORTED} a rollup sort or "
            "filter takes in one request; narrow it with a filter (for example experiment_group_id)."
        )


async def rollup_views(
    telemetry: TelemetryStore, workspace: str, rows: Sequence[Experiment], *, run_counts: bool = False
) -> list[rollup_sort.RollupView]:
    """`rows` with their rollups (and their run counts when asked), in the same order."""
    # Without rollups the order would be made up: TelemetryUnavailable (a 503), not a page in the wrong order.
    ids = [row.id for row in rows]
    rollups = await telemetry.evaluation_rollups(workspace, ids) if ids else {}
    runs = (await hydrate(telemetry, list(rows))) if run_counts else None
    if runs is not None and not runs.available:
        raise TelemetryUnavailable()
    return [
        rollup_sort.RollupView(row, rollups.get(row.id, {}), runs.experiments[index].run_count if runs else None)
        for index, row in enumerate(rows)
    ]
