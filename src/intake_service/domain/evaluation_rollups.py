"""Sorting and filtering evaluations by their SDK 0.3.0 rollups. The rollups are computed when read
(see store/clickhouse/evaluation_rollups.py), so a rollup sort or filter works on the whole filtered
list in memory, as NeMo's own server does, up to MAX_SORTED evaluations per request. They sort and
filter the rollups as the store reads them (RollupView), so only the page's evaluations become
responses."""

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.datastructures import QueryParams

from intake_service.domain.rollup_metrics import STATS
from intake_service.errors import BadListQuery
from intake_service.store.postgres.tables import Experiment

COUNTS = ("run_count", "test_case_count")
STATISTICS = ("cost_usd", "latency_ms", "tokens")
PATH_FORMS = (*COUNTS, *(f"{name}.<stat>" for name in STATISTICS), "evaluators.<name>.<stat>")
MAX_SORTED = 1000


def is_rollup_path(field: str) -> bool:
    """run_count, test_case_count, cost_usd|latency_ms|tokens.<stat>, evaluators.<name>.<stat>
    (an evaluator name may hold dots: the stat is the last part)."""
    if field in COUNTS:
        return True
    head, _, rest = field.partition(".")
    if head in STATISTICS:
        return rest in STATS
    name, _, stat = rest.rpartition(".")
    return head == "evaluators" and bool(name) and stat in STATS


@dataclass(frozen=True)
class RollupView:
    """What a rollup sort or filter reads of an evaluation: its row, its 0.3.0 rollups as the store
    answers them (TelemetryStore.evaluation_rollups) and its run count (the seeds' rollups)."""

    row: Experiment
    rollup: dict[str, Any]
    run_count: int | None = None


def sort_value(view: RollupView, field: str) -> Any:
    """The value `field` names on an evaluation, as its response shows it; None when it has none
    (it sorts last)."""
    if field == "run_count":
        return view.run_count
    if field == "test_case_count":
        return view.rollup.get("test_case_count", 0)
    if not is_rollup_path(field):
        return getattr(view.row, field)
    head, _, rest = field.partition(".")
    if head == "evaluators":
        name, _, stat = rest.rpartition(".")
        aggregate = view.rollup.get("aggregate_scores", {}).get(name)
    else:
        stat, aggregate = rest, view.rollup.get(head)
    return None if aggregate is None else aggregate[stat]


def sort_views(views: list[RollupView], keys: list[tuple[str, bool]]) -> list[RollupView]:
    """Ordered by each (field, descending) key, the first dominating; a missing value sorts last for
    its key; ties by name, then id."""
    ordered = sorted(views, key=lambda v: (v.row.name, v.row.id))
    for field, descending in reversed(keys):
        present = [r for r in ordered if sort_value(r, field) is not None]
        missing = [r for r in ordered if sort_value(r, field) is None]
        present.sort(key=lambda r: _comparable(sort_value(r, field)), reverse=descending)
        ordered = present + missing
    return ordered


def _comparable(value: Any) -> Any:
    return value.timestamp() if isinstance(value, datetime) else value


# --- filtering by rollups ---------------------------------------------------------------------------

COMPARE: dict[str, Callable[[float, float], bool]] = {
    "$eq": lambda a, b: a == b,
    "$gt": lambda a, b: a > b,
    "$gte": lambda a, b: a >= b,
    "$lt": lambda a, b: a < b,
    "$lte": lambda a, b: a <= b,
}
BRACKETS = re.compile(r"\[([^\[\]]*)\]")


@dataclass(frozen=True)
class MetricPredicate:
    field: str
    op: str
    threshold: float


def _predicate(field: str, op: str, value: Any) -> MetricPredicate:
    op = op if op.startswith("$") else f"${op}"  # the SDK's typed spelling: {"gte": 3}
    if op not in COMPARE:
        raise BadListQuery(f"Rollup filter '{field}' supports only $eq, $gt, $gte, $lt and $lte.")
    try:
        threshold = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        threshold = math.nan
    if math.isnan(threshold):
        raise BadListQuery(f"Rollup filter '{field}' needs a number, not {value!r}.")
    if not math.isfinite(threshold):
        raise BadListQuery(f"Rollup filter '{field}' needs a finite number.")
    return MetricPredicate(field, op, threshold)


def _bracket_predicate(key: str, value: str) -> MetricPredicate | None:
    """`filter[cost_usd.mean][$lte]`, or as the SDK nests it, `filter[cost_usd][mean][$lte]` and
    `filter[evaluators][<name>][mean][$gte]`; None when the key names no rollup."""
    parts = BRACKETS.findall(key)
    if not parts or key != "filter" + "".join(f"[{part}]" for part in parts):
        return None
    op = "$eq"
    if len(parts) > 1 and parts[-1].lstrip("$") in {o.lstrip("$") for o in COMPARE} | {"ne", "in", "nin", "like"}:
        op = parts.pop()
    field = ".".join(parts)
    return _predicate(field, op, value) if is_rollup_path(field) else None


def split_rollup_filters(params: QueryParams) -> tuple[QueryParams, list[MetricPredicate], dict[str, Any]]:
    """The query without its rollup conditions, those conditions, and their echo. Rollup conditions
    are the top-level ones (AND-ed with the rest); one inside $or/$not stays behind and is refused."""
    kept: list[tuple[str, str]] = []
    predicates: list[MetricPredicate] = []
    for key, value in params.multi_items():
        predicate = _bracket_predicate(key, value) if key.startswith("filter[") else None
        if predicate is None:
            kept.append((key, value))
        else:
            predicates.append(predicate)
    for index, (key, value) in enumerate(kept):
        if key != "filter":
            continue
        try:
            document = json.loads(value)
        except (ValueError, RecursionError):
            break  # the filter parser says what is wrong with it
        if not isinstance(document, dict):
            break
        rest = {}
        for field, condition in document.items():
            if not is_rollup_path(field):
                rest[field] = condition
                continue
            ops = condition if isinstance(condition, dict) else {"$eq": condition}
            predicates += [_predicate(field, op, operand) for op, operand in ops.items()]
        kept = kept[:index] + ([("filter", json.dumps(rest))] if rest else []) + kept[index + 1 :]
        break
    echo: dict[str, Any] = {}
    for predicate in predicates:
        echo.setdefault(predicate.field, {})[predicate.op] = predicate.threshold
    return QueryParams(kept), predicates, echo


def matches(view: RollupView, predicates: list[MetricPredicate]) -> bool:
    """Every predicate holds; a missing rollup value matches none."""
    for predicate in predicates:
        value = sort_value(view, predicate.field)
        if value is None or not COMPARE[predicate.op](float(value), predicate.threshold):
            return False
    return True
