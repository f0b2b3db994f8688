"""What the telemetry reads share (traces, spans, span groups, annotations): bracket filters as the
0.2/0.3 SDKs send them, the signed sort, the response `mode`, and the unknown-parameter rule.

Filters arrive as `filter[field]=value`, `filter[field][$gte]=value` (also `[gte]`, the SDK's typed
spelling) and `filter[id][$in]=a,b`. A field or operator a list does not take is a 400 with one
sentence (the 0.3.0 rule for these routes); other unknown query parameters are the 422 every list
gives (domain/paging.py).
"""

import math
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any, Literal, Protocol

from intake_service.domain.filters import parse_datetime
from intake_service.domain.paging import pagination, reject_unknown_params
from intake_service.errors import BadListQuery
from intake_service.models.generated import PaginationData, TelemetryEvaluationContext
from intake_service.store.clickhouse.executor import Row
from intake_service.store.clickhouse.values import datetime_text

PREVIEW_CHARS = 300
Mode = Literal["summary", "preview", "detailed"]
# What a session, trace or span status can be (the ingest routes write no other).
STATUSES = ("success", "error", "cancelled", "unknown")
FILTER_KEY = re.compile(r"^filter\[([^\[\]]+)\](?:\[\$?([a-z]+)\])?$")


@dataclass(frozen=True)
class FilterField:
    """One filterable field: `text` and `enum` take equality, `ids` also `$in`, `time` and `number`
    take `$gte`/`$lte` (stored as `<target>_gte` / `<target>_lte`)."""

    kind: Literal["text", "enum", "ids", "time", "number"]
    target: str
    choices: tuple[str, ...] = ()


def _time(name: str, raw: str) -> str:
    try:
        moment = parse_datetime(raw)
    except ValueError as exc:
        raise BadListQuery(f"Filter field {name!r} must be an RFC 3339 date-time: {exc}.") from None
    if not 1900 <= moment.astimezone(UTC).year <= 2261:
        raise BadListQuery(f"Filter field {name!r} must lie between the years 1900 and 2261.")
    return datetime_text(moment)


def _number(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise BadListQuery(f"Filter field {name!r} must be a finite number.")
    return value


def parse_filters(
    params: Iterable[tuple[str, str]], fields: Mapping[str, FilterField], noun: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(store filters, echo) from the `filter[...]` parameters among `params`."""
    filters: dict[str, Any] = {}
    echo: dict[str, Any] = {}
    for key, raw in params:
        match = FILTER_KEY.match(key)
        if not key.startswith("filter["):
            continue
        if match is None:
            raise BadListQuery(f"Unsupported {noun} filter: {key!r}.")
        name, op = match.group(1), match.group(2) or "eq"
        spec = fields.get(name)
        if spec is None:
            raise BadListQuery(f"Unsupported {noun} filter field: {name!r}. Use one of {', '.join(fields)}.")
        allowed = {"text": ("eq",), "enum": ("eq",), "ids": ("eq", "in"), "time": ("gte", "lte"),
                   "number": ("gte", "lte")}[spec.kind]
        if op not in allowed:
            raise BadListQuery(f"Unsupported {noun} filter: {name} ${op}.")
        value: Any
        if spec.kind == "ids":
            value = [raw] if op == "eq" else [v for v in raw.split(",") if v]
            target = spec.target
        elif spec.kind in ("time", "number"):
            value = _time(name, raw) if spec.kind == "time" else _number(name, raw)
            target = f"{spec.target}_{op}"
        else:
            if spec.choices and raw not in spec.choices:
                raise BadListQuery(f"Filter field {name!r} must be one of: {', '.join(spec.choices)}.")
            value, target = raw, spec.target
        if target in filters and filters[target] != value:
            raise BadListQuery(f"Conflicting {noun} filters for {spec.target}.")
        filters[target] = value
        if op == "eq":
            echo[name] = raw
        else:
            echo.setdefault(name, {})[f"${op}"] = raw
    return filters, echo


def check_params(params: Iterable[tuple[str, str]], allowed: Collection[str]) -> list[tuple[str, str]]:
    """The query parameters, after the 422 for one the list does not take (filters aside)."""
    items = list(params)
    reject_unknown_params(items, allowed, bracket_filters=True)
    return items


def parse_sort(raw: str, *fields: str) -> bool:
    """Whether `raw` (one of `fields`, '-' first for descending) sorts descending; anything else is a 400."""
    if raw.removeprefix("-") not in fields:
        raise BadListQuery(f"Unsupported sort field: {raw!r}. Use {' or '.join(f'{f} or -{f}' for f in fields)}.")
    return raw.startswith("-")


def for_mode(text: str | None, mode: Mode) -> str | None:
    """A payload as `mode` shows it: left out (summary), cut to 300 characters (preview), whole."""
    if mode == "summary" or text is None:
        return None
    return text[:PREVIEW_CHARS] if mode == "preview" else text


def evaluation_context(name: str | None, test_case: str | None) -> TelemetryEvaluationContext:
    """The tag of a trace or span as read back, in the 0.4+ and the 0.3.0 spellings at once."""
    return TelemetryEvaluationContext(
        evaluation_name=name, test_case_name=test_case, evaluation_id=name, test_case_id=test_case
    )


class PagedReads(Protocol):
    async def page(
        self, workspace: str, filters: Mapping[str, Any], *, descending: bool, limit: int, offset: int
    ) -> tuple[list[Row], int]: ...


async def read_list(
    reads: PagedReads,
    workspace: str,
    params: Iterable[tuple[str, str]],
    *,
    allowed: Collection[str],
    fields: Mapping[str, FilterField],
    noun: str,
    sort_field: str,
    sort: str,
    page: int,
    page_size: int,
) -> tuple[list[Row], PaginationData, dict[str, Any]]:
    """One page of a single-key telemetry list (traces, spans, annotations): its rows, the pagination
    and the filter's echo, every query parameter checked against `allowed` and the filter fields."""
    filters, echo = parse_filters(check_params(params, allowed), fields, noun)
    rows, total = await reads.page(
        workspace, filters, descending=parse_sort(sort, sort_field), limit=page_size, offset=(page - 1) * page_size
    )
    return rows, pagination(page, page_size, len(rows), total), echo
