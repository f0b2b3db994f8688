"""The list query: query parameters → a typed ListQuery (sort, filter tree, page). No SQL here.

The filter grammar lives in domain/filters.py; sort and filter name rollup metrics by the paths of
the registry in domain/rollup_metrics.py.
"""

from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import QueryParams

from intake_service.domain.filters import Condition, FilterNode, iter_conditions, parse_filter
from intake_service.domain.rollup_metrics import METRICS, RollupPath, parse_rollup_path
from intake_service.errors import query_error

COLUMN_SORTS = ("created_at", "updated_at", "name", "pinned_at")
SORT_FIELDS = (*COLUMN_SORTS, *(metric.path_form for metric in METRICS))


@dataclass(frozen=True)
class Sort:
    field: str
    descending: bool
    rollup: RollupPath | None = None

    @property
    def text(self) -> str:
        return ("-" if self.descending else "") + self.field


@dataclass
class ListQuery:
    page: int
    page_size: int
    sort: Sort
    pinned_first: bool
    filter: FilterNode | None
    filter_echo: dict[str, Any] = field(default_factory=dict)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size

    def conditions(self) -> list[Condition]:
        return list(iter_conditions(self.filter))

    @property
    def uses_rollups(self) -> bool:
        return self.sort.rollup is not None or any(c.rollup for c in self.conditions())

    @property
    def mentions_is_deleted(self) -> bool:
        return any(c.field == "is_deleted" for c in self.conditions())


def parse_sort(raw: str) -> Sort:
    descending = raw.startswith("-")
    name = raw[1:] if descending else raw
    if name in COLUMN_SORTS:
        return Sort(name, descending)
    rollup = parse_rollup_path(name)
    if rollup is None:
        fields = f"{', '.join(SORT_FIELDS[:-1])} or {SORT_FIELDS[-1]}"
        raise query_error("sort", raw, f"Unsupported sort field: {name!r}. Use {fields}.")
    return Sort(name, descending, rollup)


def parse_list_query(params: QueryParams, *, page: int, page_size: int, sort: str, pinned_first: bool) -> ListQuery:
    node, echo = parse_filter(params)
    return ListQuery(page, page_size, parse_sort(sort), pinned_first, node, echo)
