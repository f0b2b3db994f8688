"""Filter tree → SQLAlchemy expression over the experiments table, through a column whitelist.

Every leaf is two-valued (never SQL NULL), so `$not` negates exactly what a person reads:
`$ne` and `$nin` match rows where the field is null; everything else never matches a null.
"""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, String, and_, any_, case, cast, false, func, literal, not_, or_, true
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.sql.elements import ColumnElement

from intake_service.domain.filters import AllOf, Condition, FilterNode, Negation
from intake_service.store.postgres.tables import Experiment

COLUMNS: dict[str, Any] = {
    "name": Experiment.name,
    "experiment_group_id": Experiment.experiment_group_id,
    "agent_name": Experiment.agent_name,
    "agent_version": Experiment.agent_version,
    "dataset_name": Experiment.dataset_name,
    "dataset_version": Experiment.dataset_version,
    "created_by": Experiment.created_by,
    "created_at": Experiment.created_at,
    "updated_at": Experiment.updated_at,
    "pinned_at": Experiment.pinned_at,
    "is_deleted": Experiment.is_deleted,
}
SCALAR_TYPES = ("string", "number", "boolean")


def escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _compare(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    if op == "$eq":
        return column.is_(None) if value is None else and_(column.is_not(None), column == value)
    if op == "$ne":
        return column.is_not(None) if value is None else or_(column.is_(None), column != value)
    if op == "$in":
        return and_(column.is_not(None), column.in_(value))
    if op == "$nin":
        return or_(column.is_(None), column.not_in(value))
    if op == "$like":
        pattern = "%" + escape_like(value) + "%"
        # name and dataset_name use the "C" collation (code-point order), under which ILIKE folds
        # only ASCII; the database default folds all of Unicode, as "case-insensitive" promises.
        return and_(column.is_not(None), column.collate("default").ilike(pattern, escape="\\"))
    operators = {"$gt": column > value, "$gte": column >= value, "$lt": column < value, "$lte": column <= value}
    return and_(column.is_not(None), operators[op])


def _metadata_condition(condition: Condition) -> ColumnElement[bool]:
    raw = Experiment.metadata_[condition.metadata_key]
    kind = func.jsonb_typeof(raw)
    op, value = condition.op, condition.value
    if op in ("$gt", "$gte", "$lt", "$lte"):
        # numeric, not float8: jsonb numbers beyond ±1.8e308 (stored before writes refused them)
        # would make a float8 cast fail the whole query.
        number = case((kind == "number", cast(raw, Numeric)))
        return _compare(number, op, literal(Decimal(repr(value)), Numeric))
    if condition.text_match or op == "$like":
        text_form = case((kind.in_(SCALAR_TYPES), raw.astext))
        return _compare(text_form, op, value)
    # JSON filters compare typed values: jsonb equality (10 equals 10.0, "10" does not).
    # A stored JSON null reads as null, as an absent key does: {"metadata.k": null} matches both.
    typed = func.nullif(raw, cast(literal("null"), JSONB))
    if op in ("$in", "$nin"):
        values = [cast(literal(v, JSONB), JSONB) for v in value]
        return _compare(typed, op, values)
    return _compare(typed, op, None if value is None else cast(literal(value, JSONB), JSONB))


def condition_sql(condition: Condition) -> ColumnElement[bool]:
    if condition.kind == "metadata":
        return _metadata_condition(condition)
    if condition.field == "is_pinned":
        pinned = Experiment.pinned_at.is_not(None)
        wanted = condition.value if condition.op == "$eq" else not condition.value
        return pinned if wanted else not_(pinned)
    if condition.field == "is_deleted":
        return _compare(Experiment.is_deleted, condition.op, condition.value)
    return _compare(COLUMNS[condition.field], condition.op, condition.value)


# Rollup conditions arrive decided by ClickHouse: id(condition) → (experiment ids, negated).
RollupLeaves = dict[int, tuple[list[str], bool]]


def _rollup_leaf(ids: list[str], negated: bool) -> ColumnElement[bool]:
    # One array parameter, however many ids: `= ANY(:ids)`, never a list spliced into SQL.
    member = Experiment.id == any_(literal(ids, ARRAY(String)))
    return not_(member) if negated else member


def filter_sql(
    node: FilterNode | None,
    rollups: RollupLeaves | None = None,
    leaf: Callable[[Condition], ColumnElement[bool]] = condition_sql,
) -> ColumnElement[bool]:
    """`leaf` turns one column or metadata condition into SQL (a resource may read a field its own way)."""
    if node is None:
        return true()
    if isinstance(node, Condition):
        if node.rollup is None:
            return leaf(node)
        if rollups is None or id(node) not in rollups:
            raise ValueError("a rollup condition reached PostgreSQL undecided")
        return _rollup_leaf(*rollups[id(node)])
    if isinstance(node, Negation):
        return not_(filter_sql(node.node, rollups, leaf))
    parts = [filter_sql(child, rollups, leaf) for child in node.nodes]
    return and_(*parts) if isinstance(node, AllOf) else or_(*parts) if parts else false()
