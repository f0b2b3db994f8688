"""ExperimentRepository: every PostgreSQL query for experiments and pins. It never commits."""

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Select,
    String,
    any_,
    bindparam,
    func,
    nulls_last,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from intake_service.domain.listing import ListQuery
from intake_service.store.postgres.engine import driver_fetch
from intake_service.store.postgres.filters import COLUMNS, RollupLeaves, filter_sql
from intake_service.store.postgres.tables import Experiment, ExperimentGroup

# A rollup metric to sort by, decided by ClickHouse: experiment ids, their values (None: no value),
# and the value of an experiment that has no rollup row (0 for run_count, else none).
MetricValues = tuple[Sequence[str], Sequence[float | None], float | None]
# An experiment response's row fields, in the response's order: the reads select them by these names.
RESPONSE_COLUMNS = {
    "id": Experiment.id,
    "name": Experiment.name,
    "workspace": Experiment.workspace,
    "experiment_group_id": Experiment.experiment_group_id,
    "agent_name": Experiment.agent_name,
    "agent_version": Experiment.agent_version,
    "dataset_name": Experiment.dataset_name,
    "dataset_version": Experiment.dataset_version,
    "source_link": Experiment.source_link,
    "metadata": Experiment.metadata_,
    "description": Experiment.description,
    "summary": Experiment.summary,
    "created_by": Experiment.created_by,
    "created_at": Experiment.created_at,
    "updated_at": Experiment.updated_at,
    "pinned_at": Experiment.pinned_at,
}
_FIELDS = [column.label(field) for field, column in RESPONSE_COLUMNS.items()]


def row_fields(row: Experiment) -> dict[str, Any]:
    """A row's RESPONSE_COLUMNS, as the reads give them."""
    return {field: getattr(row, column.key) for field, column in RESPONSE_COLUMNS.items()}


class RowFields(Protocol):
    """The columns a write sets, as a resource (experiment or evaluation) decides them."""

    def columns(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class ExperimentFields:
    """The columns a PUT replaces (all of them: an omitted one goes back to its default)."""

    experiment_group_id: str | None
    source_link: str | None
    metadata: dict[str, Any]
    description: str | None
    summary: str | None

    def columns(self) -> dict[str, Any]:
        return {
            "experiment_group_id": self.experiment_group_id,
            # The seeds' group id is the whole membership of a run written at /experiments.
            "experiment_ids": [self.experiment_group_id] if self.experiment_group_id else [],
            "source_link": self.source_link,
            "metadata_": self.metadata,
            "description": self.description,
            "summary": self.summary,
        }


def _order_by(column: Any, descending: bool, pinned_first: bool) -> list[Any]:
    order: list[Any] = []
    if pinned_first:
        order += [Experiment.pinned_at.is_(None), Experiment.pinned_at.desc()]
    # Rows with no value sort last in both directions.
    order.append(nulls_last(column.desc() if descending else column.asc()))
    order += [Experiment.name.asc(), Experiment.id.asc()]
    return order


# Built once: a statement built per call costs its construction and its cache key on every request.
_LIVE_WHERE = (
    Experiment.workspace == bindparam("workspace"),
    Experiment.name == bindparam("name"),
    ~Experiment.is_deleted,
)
_LIVE = select(Experiment).where(*_LIVE_WHERE)
_LIVE_FOR_UPDATE = _LIVE.with_for_update()
_LIVE_FOR_SHARE = _LIVE.with_for_update(read=True)
# The row locked FOR SHARE, and in the same statement (one round trip, not two) the transaction's
# commit told not to wait for the disk: set_config(..., true) is SET LOCAL.
_LIVE_FOR_SHARE_UNFLUSHED = _LIVE_FOR_SHARE.add_columns(func.set_config("synchronous_commit", "off", True))
_LIVE_FIELDS = select(*_FIELDS).where(*_LIVE_WHERE)


class ExperimentRepository:
    """`driver`, given only outside a transaction (a GET's reads), runs the hot reads (live_fields,
    count, page) straight on the driver when they have no filter (see engine.driver_fetch)."""

    def __init__(self, session: AsyncSession, driver: AsyncEngine | None = None) -> None:
        self.session = session
        self.driver = driver

    async def _read(
        self, key: Hashable, build: Callable[[], Select[Any]], params: Mapping[str, Any], *, filtered: bool = False
    ) -> list[dict[str, Any]]:
        """The rows of `build()` as dicts. A filter's values are in the statement itself, so a filtered
        statement is not one compilation per shape (`key`) and goes through the session."""
        if self.driver is not None and not filtered:
            # The connection the session took to record the API key's use, if it took one: a request
            # holds one connection, not two (a pool of n then serves n requests at once, not n/2).
            held = None
            if self.session.in_transaction():
                held = await (await self.session.connection()).get_raw_connection()
            return await driver_fetch(self.driver, key, build, params, held)
        return [dict(row) for row in (await self.session.execute(build(), params)).mappings()]

    async def insert(
        self,
        *,
        id: str,
        workspace: str,
        name: str,
        agent_name: str | None,
        agent_version: str | None,
        dataset_name: str,
        dataset_version: str | None,
        created_by: str | None,
        created_at: datetime,
        fields: RowFields,
    ) -> Experiment | None:
        """Insert a live experiment; None when the workspace already has a live one of that name."""
        statement = (
            insert(Experiment)
            .values(
                id=id,
                workspace=workspace,
                name=name,
                agent_name=agent_name,
                agent_version=agent_version,
                dataset_name=dataset_name,
                dataset_version=dataset_version,
                created_by=created_by,
                created_at=created_at,
                updated_at=created_at,
                **fields.columns(),
            )
            .on_conflict_do_nothing(index_elements=["workspace", "name"], index_where=~Experiment.is_deleted)
            .returning(Experiment)
        )
        return (await self.session.scalars(statement)).one_or_none()

    async def get_live(
        self, workspace: str, name: str, *, for_update: bool = False, for_share: bool = False
    ) -> Experiment | None:
        """`for_update` locks the row against every other writer; `for_share` only against changes
        (a delete waits, and a read that was already waiting sees the row deleted) until commit."""
        statement = _LIVE_FOR_UPDATE if for_update else _LIVE_FOR_SHARE if for_share else _LIVE
        return (await self.session.scalars(statement, {"workspace": workspace, "name": name})).one_or_none()

    async def live_fields(self, workspace: str, name: str) -> dict[str, Any] | None:
        """The RESPONSE_COLUMNS of the live experiment of that name."""
        rows = await self._read("experiments.live", lambda: _LIVE_FIELDS, {"workspace": workspace, "name": name})
        return rows[0] if rows else None

    async def share_live_unflushed(self, workspace: str, name: str) -> Experiment | None:
        """get_live(for_share=True) in a transaction whose commit does not wait for its WAL to reach
        the disk: for one whose only write is that row lock, which means nothing after a crash (FOR
        SHARE takes a transaction id and logs the lock, so its commit would wait for a flush, 2-11 ms)."""
        statement = _LIVE_FOR_SHARE_UNFLUSHED
        return (await self.session.scalars(statement, {"workspace": workspace, "name": name})).one_or_none()

    async def replace_fields(
        self, workspace: str, name: str, fields: RowFields, *, updated_at: datetime
    ) -> Experiment | None:
        return await self._update_live(workspace, name, {**fields.columns(), "updated_at": updated_at})

    async def clear_baseline(self, workspace: str, name: str, group_ids: Sequence[str]) -> None:
        """The groups among `group_ids` whose baseline is the run `name` no longer have one."""
        if group_ids:
            await self.session.execute(
                update(ExperimentGroup)
                .where(
                    ExperimentGroup.workspace == workspace,
                    ExperimentGroup.id.in_(group_ids),
                    ExperimentGroup.baseline_evaluation_name == name,
                )
                .values(baseline_evaluation_name=None)
            )

    async def soft_delete(self, workspace: str, name: str, *, deleted_at: datetime) -> Experiment | None:
        return await self._update_live(
            workspace, name, {"is_deleted": True, "deleted_at": deleted_at, "updated_at": deleted_at}
        )

    async def set_pinned_at(
        self, workspace: str, name: str, pinned_at: datetime | None, *, updated_at: datetime
    ) -> Experiment | None:
        return await self._update_live(workspace, name, {"pinned_at": pinned_at, "updated_at": updated_at})

    async def _update_live(self, workspace: str, name: str, values: dict[str, Any]) -> Experiment | None:
        """One UPDATE of only the given columns, so concurrent pin/unpin/PUT never lose each other;
        None when no live experiment has that name."""
        statement = (
            update(Experiment)
            .where(Experiment.workspace == workspace, Experiment.name == name, ~Experiment.is_deleted)
            .values(**values)
            .returning(Experiment)
        )
        return (await self.session.scalars(statement)).one_or_none()

    def _where(self, query: ListQuery, rollups: RollupLeaves | None) -> list[ColumnElement[bool]]:
        where = [Experiment.workspace == bindparam("workspace"), filter_sql(query.filter, rollups)]
        if not query.mentions_is_deleted:
            where.append(~Experiment.is_deleted)
        return where

    async def list_page(
        self,
        workspace: str,
        query: ListQuery,
        rollups: RollupLeaves | None = None,
        metric: MetricValues | None = None,
    ) -> tuple[list[dict[str, Any]], int]:
        """One page (RESPONSE_COLUMNS) and the total. A rollup sort arrives as `metric`: its values
        join the rows as two array parameters (`unnest`), so PostgreSQL orders and pages them like a column."""
        if query.offset == 0:
            rows, _ = await self.page(workspace, query, rollups, metric)
            # A first page that is not full is the whole list: no count.
            total = len(rows) if len(rows) < query.page_size else (await self.count(workspace, query, rollups))[0]
            return rows, total
        total, _ = await self.count(workspace, query, rollups)
        if query.offset >= total:
            # A page past the end is empty; skipping the query also keeps a huge offset out of bigint.
            return [], total
        rows, _ = await self.page(workspace, query, rollups, metric)
        return rows, total

    async def count(
        self, workspace: str, query: ListQuery, rollups: RollupLeaves | None, *, pinned: bool = False
    ) -> tuple[int, list[str]]:
        """How many rows the list has, and (with `pinned`) the ids of those pinned."""

        def build() -> Select[Any]:
            columns: list[Any] = [func.count().label("total")]
            if pinned:
                pinned_ids = func.array_agg(Experiment.id).filter(Experiment.pinned_at.is_not(None))
                columns.append(pinned_ids.label("pinned"))
            return select(*columns).select_from(Experiment).where(*self._where(query, rollups))

        key = ("experiments.count", pinned)
        row = (await self._read(key, build, {"workspace": workspace}, filtered=query.filter is not None))[0]
        return int(row["total"]), (row["pinned"] or []) if pinned else []

    async def page(
        self,
        workspace: str,
        query: ListQuery,
        rollups: RollupLeaves | None = None,
        metric: MetricValues | None = None,
        *,
        only_valued: bool = False,
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of the list (RESPONSE_COLUMNS); `only_valued` cuts the list down to the experiments
        `metric` lists and also answers how many rows that shorter list has (else 0): the first rows
        of a rollup sort, without sending every value along."""
        rows = await self._page_rows(workspace, query, rollups, metric, only_valued=only_valued)
        listed = [row.pop("listed") for row in rows][:1] if only_valued else []
        return rows, listed[0] if listed else 0

    async def valued_page_counted(
        self, workspace: str, query: ListQuery, metric: MetricValues
    ) -> tuple[list[dict[str, Any]], int, int | None]:
        """page(only_valued=True) of an unfiltered list given its metric's whole column, whose shorter
        list also keeps every pinned experiment (pinned_first), and how many rows the whole list has:
        the count in the page's statement, one round trip instead of two. The total is None when the
        page is empty (no row carries it)."""
        rows = await self._page_rows(workspace, query, None, metric, only_valued=True, counted=True)
        listed, total = (rows[0]["listed"], rows[0]["total"]) if rows else (0, None)
        for row in rows:
            del row["listed"], row["total"]
        return rows, listed, total

    async def _page_rows(
        self,
        workspace: str,
        query: ListQuery,
        rollups: RollupLeaves | None,
        metric: MetricValues | None,
        *,
        only_valued: bool,
        counted: bool = False,
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"workspace": workspace, "offset": query.offset, "limit": query.page_size}
        if metric is not None:
            params["ids"], params["values"], params["missing"] = metric

        def build() -> Select[Any]:
            where = self._where(query, rollups)
            columns: list[Any] = list(_FIELDS)
            if metric is None:
                column = COLUMNS[query.sort.field]
            else:
                ids = bindparam("ids", type_=ARRAY(String))
                if only_valued:
                    valued = Experiment.id == any_(ids)
                    if counted and query.pinned_first:
                        # The whole column is sent: a pinned experiment not in it has no value, as it
                        # would have had among page()'s pinned extras.
                        valued = or_(valued, Experiment.pinned_at.is_not(None))
                    where.append(valued)
                    columns.append(func.count().over().label("listed"))
                if counted:
                    # Its own FROM (not correlated with the page's): evaluated once, as the count was.
                    everything = select(func.count()).select_from(Experiment).where(*self._where(query, rollups))
                    columns.append(everything.correlate(None).scalar_subquery().label("total"))
                joined = (
                    func.unnest(ids, bindparam("values", type_=ARRAY(Float)))
                    .table_valued("id", "value")
                    .render_derived(name="metric")
                )
                value = joined.c.value
                column = value if metric[2] is None else func.coalesce(value, bindparam("missing", type_=Float))
            statement = select(*columns).where(*where)
            if metric is not None:
                statement = statement.outerjoin(joined, joined.c.id == Experiment.id)
            return (
                statement.order_by(*_order_by(column, query.sort.descending, query.pinned_first))
                .offset(bindparam("offset", type_=Integer))
                .limit(bindparam("limit", type_=Integer))
            )

        sort = query.sort.field if metric is None else ("metric", metric[2] is None)
        key = ("experiments.page", sort, query.sort.descending, query.pinned_first, only_valued, counted)
        return await self._read(key, build, params, filtered=query.filter is not None)

    async def get_many(self, ids: Sequence[str]) -> dict[str, Experiment]:
        rows = await self.session.scalars(select(Experiment).where(Experiment.id.in_(ids)))
        return {row.id: row for row in rows}
