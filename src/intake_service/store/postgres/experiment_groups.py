"""ExperimentGroupRepository: every PostgreSQL query for experiment groups. It never commits.

The count of a group's experiments lives here, in `count_experiments`, and nowhere else: today an
experiment names its group by the soft `experiment_group_id`; when membership becomes a list
(`experiment_ids`) only that query changes.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, String, func, literal, select, update
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

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
    metadata: tuple[tuple[str, str], ...] = ()


def _where(workspace: str, wanted: GroupFilter) -> list[ColumnElement[bool]]:
    where = [ExperimentGroup.workspace == workspace, ExperimentGroup.is_deleted.is_(wanted.deleted)]
    if wanted.name is not None:
        where.append(ExperimentGroup.name == wanted.name)
    if wanted.insight_id is not None:
        where.append(ExperimentGroup.insight_id == wanted.insight_id)
    for key, value in wanted.metadata:
        where.append(ExperimentGroup.metadata_[key].astext == value)
    return where


class ExperimentGroupRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert(self, values: dict[str, Any]) -> ExperimentGroup | None:
        """Insert a live group; None when the workspace already has a live one of that name."""
        statement = (
            insert(ExperimentGroup)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["workspace", "name"], index_where=~ExperimentGroup.is_deleted)
            .returning(ExperimentGroup)
        )
        return (await self.session.scalars(statement)).one_or_none()

    async def get_live(self, workspace: str, name: str) -> ExperimentGroup | None:
        statement = select(ExperimentGroup).where(
            ExperimentGroup.workspace == workspace, ExperimentGroup.name == name, ~ExperimentGroup.is_deleted
        )
        return (await self.session.scalars(statement)).one_or_none()

    async def update_live(self, workspace: str, name: str, values: dict[str, Any]) -> ExperimentGroup | None:
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
