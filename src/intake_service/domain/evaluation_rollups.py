"""Sorting evaluations by their SDK 0.3.0 rollups. The rollups are computed when read (see
store/clickhouse/evaluation_rollups.py), so a rollup sort orders the whole filtered list in memory,
as NeMo's own server does, up to MAX_SORTED evaluations per request."""

from datetime import datetime
from typing import Any

from intake_service.domain.rollup_metrics import STATS
from intake_service.models.generated import EvaluationResponse

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


def sort_value(response: EvaluationResponse, field: str) -> Any:
    """The value `field` names on a response; None when it has none (it sorts last)."""
    if not is_rollup_path(field) or field in COUNTS:
        return getattr(response, field)
    head, _, rest = field.partition(".")
    if head == "evaluators":
        name, _, stat = rest.rpartition(".")
        aggregate = response.aggregate_scores.get(name)
    else:
        stat, aggregate = rest, getattr(response, head)
    return None if aggregate is None else getattr(aggregate, stat)


def sort_responses(responses: list[EvaluationResponse], keys: list[tuple[str, bool]]) -> list[EvaluationResponse]:
    """Ordered by each (field, descending) key, the first dominating; a missing value sorts last for
    its key; ties by name, then id."""
    ordered = sorted(responses, key=lambda r: (r.name, r.id))
    for field, descending in reversed(keys):
        present = [r for r in ordered if sort_value(r, field) is not None]
        missing = [r for r in ordered if sort_value(r, field) is None]
        present.sort(key=lambda r: _comparable(sort_value(r, field)), reverse=descending)
        ordered = present + missing
    return ordered


def _comparable(value: Any) -> Any:
    return value.timestamp() if isinstance(value, datetime) else value
