"""The filter language of the experiment list: query parameters → a tree of conditions. No SQL here.

Filters arrive in bracket form (`filter[field][$op]=value`) or as one JSON object (`filter={...}`);
both parse into the same tree of Condition / AllOf / AnyOf / Negation nodes, which the stores turn
into SQL through their own whitelists. Rollup paths (`run_count`, `cost_usd.<stat>`, ...) come from
the registry in domain/rollup_metrics.py.
"""

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from starlette.datastructures import QueryParams

from intake_service.domain.rollup_metrics import RollupPath, parse_rollup_path
from intake_service.domain.values import json_problem, json_text_too_deep, text_problem
from intake_service.errors import query_error

STRING_FIELDS = (
    "name",
    "experiment_group_id",
    "agent_name",
    "agent_version",
    "dataset_name",
    "dataset_version",
    "created_by",
)
DATETIME_FIELDS = ("created_at", "updated_at", "pinned_at")
BOOL_FIELDS = ("is_pinned", "is_deleted")
EQUALITY_OPS = ("$eq", "$ne")
RANGE_OPS = ("$gt", "$gte", "$lt", "$lte")
SET_OPS = ("$in", "$nin")
LEAF_OPS = (*EQUALITY_OPS, *SET_OPS, "$like", *RANGE_OPS)
OPS_BY_KIND: dict[str, tuple[str, ...]] = {
    "string": (*EQUALITY_OPS, *SET_OPS, "$like"),
    "datetime": (*EQUALITY_OPS, *SET_OPS, *RANGE_OPS),
    "bool": EQUALITY_OPS,
    "metadata": LEAF_OPS,
    "rollup": (*EQUALITY_OPS, *RANGE_OPS),
}
MAX_FILTER_DEPTH = 8
MAX_FILTER_CONDITIONS = 100
BRACKET_KEY = re.compile(r"^filter\[([^\[\]]+)\](?:\[(\$[a-z]+)\])?$")
TRUE_WORDS = {"true": True, "1": True, "false": False, "0": False}

FieldKind = Literal["string", "datetime", "bool", "metadata", "rollup"]


@dataclass(frozen=True)
class Condition:
    field: str
    kind: FieldKind
    op: str
    value: Any
    # Bracket values are text: on metadata they match a scalar by its text form.
    text_match: bool = False
    metadata_key: str | None = None
    rollup: RollupPath | None = None
    # Ids of the rows whose sessions show the value (filled in by ClickHouse before PostgreSQL sees
    # it): an /evaluations filter on a name observed in telemetry, such as model_name.
    observed: tuple[str, ...] | None = None


@dataclass(frozen=True)
class AllOf:
    nodes: tuple["FilterNode", ...]


@dataclass(frozen=True)
class AnyOf:
    nodes: tuple["FilterNode", ...]


@dataclass(frozen=True)
class Negation:
    node: "FilterNode"


FilterNode = Condition | AllOf | AnyOf | Negation


def iter_conditions(node: FilterNode | None) -> Iterator[Condition]:
    if node is None:
        return
    if isinstance(node, Condition):
        yield node
    elif isinstance(node, Negation):
        yield from iter_conditions(node.node)
    else:
        for child in node.nodes:
            yield from iter_conditions(child)


def field_kind(name: str, extra: tuple[str, ...] = ()) -> tuple[FieldKind, str | None, RollupPath | None]:
    """The kind of a filter field; `extra` names string fields one list adds to the shared ones."""
    if name in STRING_FIELDS or name in extra:
        return "string", None, None
    if name in DATETIME_FIELDS:
        return "datetime", None, None
    if name in BOOL_FIELDS:
        return "bool", None, None
    if name.startswith("metadata.") and len(name) > len("metadata."):
        problem = text_problem(name)
        if problem:
            raise ValueError(f"The metadata key {problem}.")
        return "metadata", name[len("metadata.") :], None
    rollup = parse_rollup_path(name)
    if rollup is not None:
        return "rollup", None, rollup
    raise ValueError(f"Unsupported filter field: {name!r}.")


def parse_datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("expected an RFC 3339 date-time string")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"{value!r} is not an RFC 3339 date-time") from None
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    try:
        parsed.astimezone(UTC)  # the database compares instants in UTC
    except OverflowError:
        raise ValueError(f"{value!r} is outside the supported range of date-times") from None
    return parsed


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in TRUE_WORDS:
        return TRUE_WORDS[value.lower()]
    raise ValueError("expected a boolean: true, false, 1 or 0")


def parse_number(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("expected a number")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a number") from None
    else:
        raise ValueError("expected a number")
    if not math.isfinite(number):
        raise ValueError("expected a finite number")
    return number


def coerce_scalar(kind: FieldKind, op: str, value: Any, text_match: bool) -> Any:
    """One value for `kind`, converted to its Python type; ValueError when it has the wrong type."""
    if kind == "string":
        if value is None and op in EQUALITY_OPS:
            return None
        if not isinstance(value, str):
            raise ValueError("expected a string")
        return _storable(value)
    if kind == "datetime":
        if value is None and op in EQUALITY_OPS:
            return None
        return parse_datetime(value)
    if kind == "bool":
        return parse_bool(value)
    if kind == "rollup":
        return parse_number(value)
    # metadata
    if op in RANGE_OPS:
        return parse_number(value)
    if op == "$like" or text_match:
        if not isinstance(value, str):
            raise ValueError("expected a string")
    return _storable(value)


def _storable(value: Any) -> Any:
    """A value PostgreSQL can compare: no NUL, no lone surrogates, no NaN/Infinity, bounded depth."""
    problem = json_problem(value)
    if problem:
        raise ValueError(f"The filter value {problem}.")
    return value


def make_condition(name: str, op: str, value: Any, *, text_match: bool, extra: tuple[str, ...] = ()) -> Condition:
    kind, metadata_key, rollup = field_kind(name, extra)
    if op not in LEAF_OPS:
        raise ValueError(f"Unsupported filter operator: {op!r}.")
    if op not in OPS_BY_KIND[kind]:
        raise ValueError(f"Operator {op} is not supported for field {name!r}.")
    if op in SET_OPS:
        values = value if isinstance(value, list) else None
        if values is None:
            raise ValueError(f"{op} expects a list of values")
        if not values:
            raise ValueError(f"{op} expects at least one value")
        parsed: Any = tuple(coerce_scalar(kind, "$eq", v, text_match) for v in values)
        if kind in ("string", "datetime", "metadata") and None in parsed:
            raise ValueError(f"{op} values cannot be null")
    else:
        parsed = coerce_scalar(kind, op, value, text_match)
    return Condition(name, kind, op, parsed, text_match, metadata_key, rollup)


def echo_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, tuple):
        return [echo_value(v) for v in value]
    return value


class _Budget:
    def __init__(self) -> None:
        self.conditions = 0

    def spend(self) -> None:
        self.conditions += 1
        if self.conditions > MAX_FILTER_CONDITIONS:
            raise ValueError(f"A filter may hold at most {MAX_FILTER_CONDITIONS} conditions.")


def parse_json_node(
    obj: Any, depth: int, budget: _Budget, extra: tuple[str, ...] = ()
) -> tuple[FilterNode, dict[str, Any]]:
    """Parse one JSON filter object into a node and its echo."""
    if depth > MAX_FILTER_DEPTH:
        raise ValueError(f"A filter may nest at most {MAX_FILTER_DEPTH} levels deep.")
    if not isinstance(obj, dict):
        raise ValueError("A filter must be a JSON object.")
    if not obj:
        raise ValueError("A filter object must not be empty.")
    nodes: list[FilterNode] = []
    echo: dict[str, Any] = {}
    for key, value in obj.items():
        if key in ("$and", "$or"):
            if not isinstance(value, list) or not value:
                raise ValueError(f"{key} expects a non-empty list of filter objects")
            parsed = [parse_json_node(item, depth + 1, budget, extra) for item in value]
            children = tuple(node for node, _ in parsed)
            nodes.append(AllOf(children) if key == "$and" else AnyOf(children))
            echo[key] = [child_echo for _, child_echo in parsed]
        elif key == "$not":
            child, child_echo = parse_json_node(value, depth + 1, budget, extra)
            nodes.append(Negation(child))
            echo[key] = child_echo
        elif key.startswith("$"):
            raise ValueError(f"Unsupported filter operator: {key!r}.")
        else:
            is_op_map = isinstance(value, dict) and value and all(k.startswith("$") for k in value)
            ops = value if is_op_map else {"$eq": value}
            field_echo: dict[str, Any] = {}
            for op, operand in ops.items():
                budget.spend()
                condition = make_condition(key, op, operand, text_match=False, extra=extra)
                nodes.append(condition)
                field_echo[op] = echo_value(condition.value)
            echo[key] = field_echo if is_op_map else field_echo["$eq"]
    node = nodes[0] if len(nodes) == 1 else AllOf(tuple(nodes))
    return node, echo


def parse_bracket_filter(
    items: list[tuple[str, str]], extra: tuple[str, ...] = ()
) -> tuple[FilterNode | None, dict[str, Any]]:
    grouped: dict[tuple[str, str], list[str]] = {}
    for key, value in items:
        match = BRACKET_KEY.match(key)
        if match is None:
            raise query_error(key, value, "Malformed filter key; use filter[field] or filter[field][$op].")
        name, op = match.group(1), match.group(2) or "$eq"
        grouped.setdefault((name, op), []).append(value)
    nodes: list[FilterNode] = []
    echo: dict[str, Any] = {}
    for (name, op), values in grouped.items():
        loc_key = f"filter[{name}]" + ("" if op == "$eq" else f"[{op}]")
        if op in SET_OPS:
            operand: Any = [part for value in values for part in value.split(",")]
        elif len(values) > 1:
            raise query_error(loc_key, values, f"{loc_key} was given more than once.")
        else:
            operand = values[0]
        try:
            condition = make_condition(name, op, operand, text_match=True, extra=extra)
        except ValueError as exc:
            raise query_error(loc_key, operand, str(exc)) from None
        nodes.append(condition)
        field_echo = echo.setdefault(name, {})
        field_echo[op] = echo_value(condition.value)
    if len(nodes) > MAX_FILTER_CONDITIONS:
        raise query_error("filter", None, f"A filter may hold at most {MAX_FILTER_CONDITIONS} conditions.")
    # A lone $eq echoes as the bare value, as in the JSON form.
    echo = {k: v["$eq"] if list(v) == ["$eq"] else v for k, v in echo.items()}
    if not nodes:
        return None, {}
    return (nodes[0] if len(nodes) == 1 else AllOf(tuple(nodes))), echo


def parse_filter(params: QueryParams, extra: tuple[str, ...] = ()) -> tuple[FilterNode | None, dict[str, Any]]:
    """The filter of a list; `extra` names the string fields that list adds to STRING_FIELDS."""
    bracket_items = [(k, v) for k, v in params.multi_items() if k.startswith("filter[")]
    json_values = params.getlist("filter")
    if bracket_items and json_values:
        raise query_error("filter", None, "Use either filter={...} or filter[...] parameters, not both.")
    if not json_values:
        return parse_bracket_filter(bracket_items, extra)
    if len(json_values) > 1:
        raise query_error("filter", json_values, "filter was given more than once.")
    raw = json_values[0]
    if json_text_too_deep(raw):
        raise query_error("filter", None, f"A filter may nest at most {MAX_FILTER_DEPTH} levels deep.")
    try:
        obj = json.loads(raw)
    except ValueError:
        raise query_error("filter", raw, "filter is not valid JSON.") from None
    try:
        node, echo = parse_json_node(obj, 1, _Budget(), extra)
    except ValueError as exc:
        raise query_error("filter", obj, str(exc)) from None
    return node, echo
