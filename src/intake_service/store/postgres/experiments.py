"""ExperimentRepository: every PostgreSQL query for experiments and pins. It never commits."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, func, literal, nulls_last, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.domain.listing import ListQuery, Sort
from intake_service.store.postgres.filters import COLUMNS, RollupLeaves, filter_sql
from intake_service.store.postgres.tables import Experiment



class Candidate(NamedTuple):
    id: str
    name: str
    pinned_at: datetime | None
    sort_value: Any


def _order_by(sort: Sort, pinned_first: bool) -> list[Any]:
    order: list[Any] = []
    if pinned_first:
        order += [Experiment.pinned_at.is_(None), Experiment.pinned_at.desc()]
    column = COLUMNS[sort.field]
    # Rows with no value sort last in both directions.
    order.append(nulls_last(column.desc() if sort.descending else column.asc()))
    order += [Experiment.name.asc(), Experiment.id.asc()]
    return order


class ExperimentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert(self, values: dict[str, Any]) -> Experiment | None:
        """Insert a live experiment; None when the workspace already has a live one of that name."""
        statement = (
            insert(Experiment)
            .values(**values)
            .on_conflict_do_nothing(
                index_elements=["workspace", "name"], index_where=~Experiment.is_deleted
            )
            .returning(Experiment)
        )
        return (await self.session.scalars(statement)).one_or_none()

    async def get_live(self, workspace: str, name: str, *, for_update: bool = False) -> Experiment | None:
        statement = select(Experiment).where(
            Experiment.workspace == workspace, Experiment.name == name, ~Experiment.is_deleted
        )
        if for_update:
            statement = statement.with_for_update()
        return (await self.session.scalars(statement)).one_or_none()

    async def update_live(self, workspace: str, name: str, values: dict[str, Any]) -> Experiment | None:
        """One UPDATE of only the given columns, so concurrent pin/unpin/PUT never lose each other."""
        statement = (
            update(Experiment)
            .where(Experiment.workspace == workspace, Experiment.name == name, ~Experiment.is_deleted)
            .values(**values)
            .returning(Experiment)
        )
        return (await self.session.scalars(statement)).one_or_none()

    def _where(
        self, workspace: str, query: ListQuery, rollups: RollupLeaves | None
    ) -> list[ColumnElement[bool]]:
        where = [Experiment.workspace == workspace, filter_sql(query.filter, rollups)]
        if not query.mentions_is_deleted:
            where.append(~Experiment.is_deleted)
        return where

    async def list_page(
        self, workspace: str, query: ListQuery, rollups: RollupLeaves | None = None
    ) -> tuple[Sequence[Experiment], int]:
        where = self._where(workspace, query, rollups)
        total = int(await self.session.scalar(select(func.count()).select_from(Experiment).where(*where)) or 0)
        if query.offset >= total:
            # A page past the end is empty; skipping the query also keeps a huge offset out of bigint.
            return [], total
        rows = await self.session.scalars(
            select(Experiment)
            .where(*where)
            .order_by(*_order_by(query.sort, query.pinned_first))
            .offset(query.offset)
            .limit(query.page_size)
        )
        return rows.all(), total

    async def list_candidates(
        self, workspace: str, query: ListQuery, rollups: RollupLeaves | None = None
    ) -> list[Candidate]:
        """Every row the PostgreSQL filters admit, as the few columns a rollup sort/filter needs."""
        sort_column = COLUMNS[query.sort.field] if query.sort.rollup is None else literal(None)
        rows = await self.session.execute(
            select(Experiment.id, Experiment.name, Experiment.pinned_at, sort_column).where(
                *self._where(workspace, query, rollups)
            )
        )
        return [Candidate(*row) for row in rows]

    async def get_many(self, ids: Sequence[str]) -> dict[str, Experiment]:
        rows = await self.session.scalars(select(Experiment).where(Experiment.id.in_(ids)))
        return {row.id: row for row in rows}
