"""EvaluationRepository: the experiments table read and written as SDK 0.3.0 evaluations (one row
for both). It adds to ExperimentRepository what evaluations need; it never commits."""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import ColumnElement, String, any_, func, literal, not_, nulls_last, or_, select
from sqlalchemy.dialects.postgresql import ARRAY

from intake_service.domain.filters import Condition, FilterNode
from intake_service.store.postgres.experiments import ExperimentRepository
from intake_service.store.postgres.filters import COLUMNS, condition_sql, filter_sql
from intake_service.store.postgres.tables import Experiment, ExperimentGroup


@dataclass(frozen=True)
class EvaluationFields:
    """The columns an evaluation PUT replaces; the seeds' experiment_group_id mirrors the first group."""

    experiment_ids: list[str]
    source_link: str | None
    metadata: dict[str, str]
    description: str | None
    parent_evaluation_id: str | None
    status: str | None
    root_cause: str | None

    def columns(self) -> dict[str, Any]:
        return {
            "experiment_ids": self.experiment_ids,
            "experiment_group_id": self.experiment_ids[0] if self.experiment_ids else None,
            "source_link": self.source_link,
            "metadata_": self.metadata,
            "description": self.description,
            "parent_evaluation_id": self.parent_evaluation_id,
            "status": self.status,
            "root_cause": self.root_cause,
        }


class Unchanged(Enum):
    """A field a PATCH leaves as stored (None is a value a PATCH can set)."""

    UNCHANGED = "unchanged"


UNCHANGED = Unchanged.UNCHANGED


@dataclass(frozen=True)
class EvaluationChanges:
    """The columns an evaluation PATCH sets; a field left UNCHANGED keeps its stored value."""

    experiment_ids: list[str] | Unchanged = UNCHANGED
    parent_evaluation_id: str | None | Unchanged = UNCHANGED
    metadata: dict[str, str] | Unchanged = UNCHANGED
    source_link: str | None | Unchanged = UNCHANGED
    description: str | None | Unchanged = UNCHANGED
    status: str | None | Unchanged = UNCHANGED
    root_cause: str | None | Unchanged = UNCHANGED

    def columns(self) -> dict[str, Any]:
        columns: dict[str, Any] = {}
        if self.experiment_ids is not UNCHANGED:
            # The seeds' experiment_group_id mirrors the first group, as in EvaluationFields.
            ids = self.experiment_ids
            columns |= {"experiment_ids": ids, "experiment_group_id": ids[0] if ids else None}
        if self.metadata is not UNCHANGED:
            columns["metadata_"] = self.metadata
        for field in ("parent_evaluation_id", "source_link", "description", "status", "root_cause"):
            value = getattr(self, field)
            if value is not UNCHANGED:
                columns[field] = value
        return columns


def _ids(values: list[str]) -> Any:
    return literal(values, ARRAY(String))


def _membership(condition: Condition) -> ColumnElement[bool]:
    """experiment_group_id names a group the evaluation belongs to (any of its experiment_ids)."""
    op, value = condition.op, condition.value
    if op in ("$eq", "$ne"):
        member = (
            func.cardinality(Experiment.experiment_ids) == 0
            if value is None
            else Experiment.experiment_ids.contains(_ids([value]))
        )
        return member if op == "$eq" else not_(member)
    overlap = Experiment.experiment_ids.overlap(_ids([v for v in value if v is not None]))
    return overlap if op == "$in" else not_(overlap)


def _observed(condition: Condition, ids: tuple[str, ...]) -> ColumnElement[bool]:
    """A name the evaluation's sessions show (ids decided by ClickHouse) or, for agent_name and
    agent_version, its own column holds; $ne and $nin are the exact negation."""
    seen = Experiment.id == any_(_ids(list(ids)))
    positive = condition.op in ("$eq", "$in")
    if condition.field in COLUMNS:
        own = condition_sql(replace(condition, op="$eq" if condition.op in ("$eq", "$ne") else "$in"))
        seen = or_(own, seen)
    return seen if positive else not_(seen)


def _leaf(condition: Condition) -> ColumnElement[bool]:
    if condition.field in ("experiment_group_id", "experiment_id"):
        return _membership(condition)
    if condition.observed is not None:
        return _observed(condition, condition.observed)
    return condition_sql(condition)


class EvaluationRepository(ExperimentRepository):
    async def change_fields(
        self, workspace: str, name: str, changes: EvaluationChanges, *, updated_at: datetime
    ) -> Experiment | None:
        """A PATCH: set only the changed columns of the live evaluation; None when there is none."""
        return await self._update_live(workspace, name, {**changes.columns(), "updated_at": updated_at})

    async def has_id(self, workspace: str, evaluation_id: str) -> bool:
        found = await self.session.scalar(
            select(Experiment.id).where(Experiment.workspace == workspace, Experiment.id == evaluation_id)
        )
        return found is not None

    async def baseline_group(self, workspace: str, evaluation_name: str, group_ids: list[str]) -> str | None:
        """The name of a live group among `group_ids` whose baseline is this evaluation, if any."""
        return await self.session.scalar(
            select(ExperimentGroup.name)
            .where(
                ExperimentGroup.workspace == workspace,
                ~ExperimentGroup.is_deleted,
                ExperimentGroup.id.in_(group_ids),
                ExperimentGroup.baseline_evaluation_name == evaluation_name,
            )
            .order_by(ExperimentGroup.name)
            .limit(1)
        )

    async def live_group_ids(self, workspace: str, ids: list[str]) -> set[str]:
        """Those of `ids` that are live experiment groups of the workspace."""
        rows = await self.session.scalars(
            select(ExperimentGroup.id).where(
                ExperimentGroup.workspace == workspace, ~ExperimentGroup.is_deleted, ExperimentGroup.id.in_(ids)
            )
        )
        return set(rows)

    async def list_evaluations(
        self,
        workspace: str,
        node: FilterNode | None,
        *,
        include_deleted: bool,
        keys: list[tuple[str, bool]],
        pinned_first: bool,
        offset: int,
        limit: int,
    ) -> tuple[Sequence[Experiment], int]:
        """One page and the total, ordered by each (column, descending) key in turn; a row without
        a value sorts last for its key."""
        where = [Experiment.workspace == workspace, filter_sql(node, leaf=_leaf)]
        if not include_deleted:
            where.append(~Experiment.is_deleted)
        total = int(await self.session.scalar(select(func.count()).select_from(Experiment).where(*where)) or 0)
        if offset >= total:
            return [], total
        order: list[Any] = [Experiment.pinned_at.is_(None)] if pinned_first else []
        for field, descending in keys:
            column = COLUMNS[field]
            order.append(nulls_last(column.desc() if descending else column.asc()))
        order += [Experiment.name.asc(), Experiment.id.asc()]
        rows = await self.session.scalars(select(Experiment).where(*where).order_by(*order).offset(offset).limit(limit))
        return rows.all(), total

    async def rename_deleted(
        self, workspace: str, name: str, new_name: str, *, deleted_at: datetime
    ) -> Experiment | None:
        """Soft delete under a new name, so the old one is free for a new evaluation."""
        return await self._update_live(
            workspace,
            name,
            {"name": new_name, "is_deleted": True, "deleted_at": deleted_at, "updated_at": deleted_at},
        )
