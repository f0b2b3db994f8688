"""ExperimentGroupRepository: every PostgreSQL query for experiment groups. It never commits.

The count of a group's experiments lives here, in `count_experiments`, and nowhere else: today an
experiment names its group by the soft `experiment_group_id`; when membership becomes a list
(`experiment_ids`) only that query changes.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, func, literal, select, update
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.store.postgres.evaluations import UNCHANGED, Unchanged
from intake_service.store.postgres.tables import Experiment, ExperimentGroup

SORT_COLUMNS: dict[str, Any] = {
    "created_at": ExperimentGroup.created_at,
    "updated_at": ExperimentGroup.updated_at,
    "name": ExperimentGroup.name,
}


@dataclass(frozen=True)
class GroupFilter:
    """Equality filters of the group list; `deleted` picks soft-deleted groups instead of live ones."""

    deleted: bool = False
    name: str | None = None
    insight_id: str | None = None
    baseline_evaluation_name: str | None = None
    is_favorite: bool | None = None
    show_evaluations_over_time: bool | None = None
    metadata: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ParetoAxes:
    x_metric: str
    y_metric: str


@dataclass(frozen=True)
class GroupFields:
    """The columns create sets and a PUT replaces (an omitted one goes back to its default)."""

    description: str | None
    insight_id: str | None
    summary: str | None
    metadata: dict[str, str] | None
    default_sort: str

    def columns(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "insight_id": self.insight_id,
            "summary": self.summary,
            "metadata_": self.metadata,
            "default_sort": self.default_sort,
        }


@dataclass(frozen=True)
class ContainerFields:
    """The SDK 0.4+ container columns create sets (a group created at the root takes these defaults)."""

    is_favorite: bool = False
    show_evaluations_over_time: bool = False
    column_layout: dict[str, list[str]] | None = None

    def columns(self) -> dict[str, Any]:
        return {
            "is_favorite": self.is_favorite,
            "show_evaluations_over_time": self.show_evaluations_over_time,
            "column_layout": self.column_layout,
        }


@dataclass(frozen=True)
class ContainerChanges:
    """The columns a container PUT (SDK 0.6.0) sets; a field left UNCHANGED keeps its stored value."""

    description: str | None | Unchanged = UNCHANGED
    insight_id: str | None | Unchanged = UNCHANGED
    summary: str | None | Unchanged = UNCHANGED
    metadata: dict[str, str] | None | Unchanged = UNCHANGED
    default_sort: str | Unchanged = UNCHANGED
    pareto: ParetoAxes | Unchanged = UNCHANGED
    column_layout: dict[str, list[str]] | Unchanged = UNCHANGED
    is_favorite: bool | Unchanged = UNCHANGED
    show_evaluations_over_time: bool | Unchanged = UNCHANGED
    baseline_evaluation_name: str | None | Unchanged = UNCHANGED

    def columns(self) -> dict[str, Any]:
        columns: dict[str, Any] = {}
        if not isinstance(self.pareto, Unchanged):
            columns |= _pareto_columns(self.pareto)
        if self.metadata is not UNCHANGED:
            columns["metadata_"] = self.metadata
        for field in (
            "description", "insight_id", "summary", "default_sort", "column_layout", "is_favorite",
            "show_evaluations_over_time", "baseline_evaluation_name",
        ):  # fmt: skip
            value = getattr(self, field)
            if value is not UNCHANGED:
                columns[field] = value
        return columns


def _pareto_columns(pareto: ParetoAxes) -> dict[str, str]:
    return {"pareto_x_metric": pareto.x_metric, "pareto_y_metric": pareto.y_metric}


def _where(workspace: str, wanted: GroupFilter) -> list[ColumnElement[bool]]:
    where = [ExperimentGroup.workspace == workspace, ExperimentGroup.is_deleted.is_(wanted.deleted)]
    if wanted.name is not None:
        where.append(ExperimentGroup.name == wanted.name)
    if wanted.insight_id is not None:
        where.append(ExperimentGroup.insight_id == wanted.insight_id)
    if wanted.baseline_evaluation_name is not None:
        where.append(ExperimentGroup.baseline_evaluation_name == wanted.baseline_evaluation_name)
    if wanted.is_favorite is not None:
        where.append(ExperimentGroup.is_favorite.is_(wanted.is_favorite))
    if wanted.show_evaluations_over_time is not None:
        where.append(ExperimentGroup.show_evaluations_over_time.is_(wanted.show_evaluations_over_time))
    for key, value in wanted.metadata:
        where.append(ExperimentGroup.metadata_[key].astext == value)
    return where


class ExperimentGroupRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert(
        self,
        *,
        id: str,
        workspace: str,
        name: str,
        created_at: datetime,
        fields: GroupFields,
        pareto: ParetoAxes,
        container: ContainerFields,
    ) -> ExperimentGroup | None:
        """Insert a live group; None when the workspace already has a live one of that name."""
        statement = (
            insert(ExperimentGroup)
            .values(
                id=id,
                workspace=workspace,
                name=name,
                created_at=created_at,
                updated_at=created_at,
                **fields.columns(),
                **_pareto_columns(pareto),
                **container.columns(),
            )
            .on_conflict_do_nothing(index_elements=["workspace", "name"], index_where=~ExperimentGroup.is_deleted)
            .returning(ExperimentGroup)
        )
        return (await self.session.scalars(statement)).one_or_none()

    async def get_live(self, workspace: str, name: str) -> ExperimentGroup | None:
        statement = select(ExperimentGroup).where(
            ExperimentGroup.workspace == workspace, ExperimentGroup.name == name, ~ExperimentGroup.is_deleted
        )
        return (await self.session.scalars(statement)).one_or_none()

    async def replace_fields(
        self, workspace: str, name: str, fields: GroupFields, *, pareto: ParetoAxes | None, updated_at: datetime
    ) -> ExperimentGroup | None:
        """A PUT; `pareto` None keeps the stored axes. None when no live group has that name."""
        pareto_columns = _pareto_columns(pareto) if pareto is not None else {}
        return await self._update_live(
            workspace, name, {**fields.columns(), **pareto_columns, "updated_at": updated_at}
        )

    async def change_fields(
        self, workspace: str, name: str, changes: ContainerChanges, *, updated_at: datetime
    ) -> ExperimentGroup | None:
        """A container PUT: set only the changed columns of the live group; None when there is none."""
        return await self._update_live(workspace, name, {**changes.columns(), "updated_at": updated_at})

    async def lock_live_evaluation(self, workspace: str, name: str) -> Experiment | None:
        """The live evaluation of that name, share-locked until the transaction ends, so it can be
        neither deleted nor moved out of a group while a container makes it its baseline."""
        statement = (
            select(Experiment)
            .where(Experiment.workspace == workspace, Experiment.name == name, ~Experiment.is_deleted)
            .with_for_update(read=True)
        )
        return (await self.session.scalars(statement)).one_or_none()

    async def soft_delete(
        self, workspace: str, name: str, *, new_name: str, deleted_at: datetime
    ) -> ExperimentGroup | None:
        """Soft delete under `new_name`, so the old one is free for a new group."""
        return await self._update_live(
            workspace,
            name,
            {"name": new_name, "is_deleted": True, "deleted_at": deleted_at, "updated_at": deleted_at},
        )

    async def delete_sole_members(
        self, workspace: str, group_id: str, *, suffix: str, max_length: int, deleted_at: datetime
    ) -> int:
        """Soft delete the live experiments whose only group is `group_id`, each renamed
        <name><suffix> (the name cut to fit `max_length`); how many there were."""
        result = await self.session.execute(
            update(Experiment)
            .where(
                Experiment.workspace == workspace,
                ~Experiment.is_deleted,
                Experiment.experiment_ids == literal([group_id], ARRAY(String)),
            )
            .values(
                name=func.left(Experiment.name, max_length - len(suffix)) + suffix,
                is_deleted=True,
                deleted_at=deleted_at,
                updated_at=deleted_at,
            )
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def _update_live(self, workspace: str, name: str, values: dict[str, Any]) -> ExperimentGroup | None:
        """One UPDATE of only the given columns of the live group."""
        statement = (
            update(ExperimentGroup)
            .where(ExperimentGroup.workspace == workspace, ExperimentGroup.name == name, ~ExperimentGroup.is_deleted)
            .values(**values)
            .returning(ExperimentGroup)
        )
        return (await self.session.scalars(statement)).one_or_none()

    async def list_page(
        self, workspace: str, wanted: GroupFilter, *, sort: str, descending: bool, offset: int, limit: int
    ) -> tuple[Sequence[ExperimentGroup], int]:
        where = _where(workspace, wanted)
        total = int(await self.session.scalar(select(func.count()).select_from(ExperimentGroup).where(*where)) or 0)
        if offset >= total:
            return [], total
        column = SORT_COLUMNS[sort]
        rows = await self.session.scalars(
            select(ExperimentGroup)
            .where(*where)
            .order_by(column.desc() if descending else column.asc(), ExperimentGroup.name, ExperimentGroup.id)
            .offset(offset)
            .limit(limit)
        )
        return rows.all(), total

    async def count_experiments(self, workspace: str, group_ids: Sequence[str]) -> dict[str, int]:
        """Live experiments (runs, 0.3's evaluations) per group id; 0 for a group without any."""
        counts = dict.fromkeys(group_ids, 0)
        if not group_ids:
            return counts
        # Membership is experiment_ids (0.3.0); a seeds' experiment_group_id is its first member.
        member = func.unnest(Experiment.experiment_ids).label("group_id")
        members = (
            select(member)
            .where(
                Experiment.workspace == workspace,
                ~Experiment.is_deleted,
                Experiment.experiment_ids.overlap(literal(list(group_ids), ARRAY(String))),
            )
            .subquery()
        )
        rows = await self.session.execute(
            select(members.c.group_id, func.count())
            .where(members.c.group_id.in_(group_ids))
            .group_by(members.c.group_id)
        )
        for group_id, count in rows.tuples():
            if group_id is not None:
                counts[group_id] = count
        return counts
