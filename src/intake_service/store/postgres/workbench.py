"""WorkbenchRepository: every PostgreSQL query of the ML-workbench API. It never commits.

Visibility is a parameter (`viewer`: the principal whose view applies, None for an admin), so
lookups by id prefix never reveal experiments the caller may not see.
"""

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, TypedDict, Unpack

from sqlalchemy import ColumnElement, delete, false, func, or_, select, true, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.store.postgres.tables import WorkbenchArtifact, WorkbenchExperiment, WorkbenchRun

E, R, A = WorkbenchExperiment, WorkbenchRun, WorkbenchArtifact
NAME_CONSTRAINT = "uq_workbench_experiments_workspace_owner_name"
STATUSES = ("draft", "pending", "running", "completed", "failed")


@dataclass(frozen=True)
class ExperimentQuery:
    """A parsed list request: filters, one sort column (API name) and a page."""

    search: str | None
    status: str | None
    tag: str | None
    pinned: bool | None
    sort_field: str
    descending: bool
    limit: int
    offset: int


@dataclass(frozen=True)
class NewExperiment:
    id: str
    workspace: str
    owner: str
    name: str
    description: str | None
    status: str
    tags: list[str]
    created_at: datetime
    updated_at: datetime
    is_public: bool = False
    shared_with: list[str] = field(default_factory=list)


class ExperimentChanges(TypedDict, total=False):
    """The columns an experiment update may set; absent ones keep their values."""

    name: str
    description: str | None
    status: str
    tags: list[str]
    is_public: bool
    shared_with: list[str]
    updated_at: datetime


@dataclass(frozen=True)
class NewRun:
    workspace: str
    owner: str  # the experiment's: run ids are unique per (workspace, owner)
    id: str
    experiment_id: str
    name: str | None
    status: str
    created_at: datetime
    updated_at: datetime
    parameters: list[dict[str, Any]] = field(default_factory=list)
    final_metrics: list[dict[str, Any]] = field(default_factory=list)
    model_type: str | None = None
    problem_type: str | None = None
    framework: str | None = None
    parent_run_id: str | None = None
    system_info: dict[str, Any] | None = None
    duration_seconds: float | None = None


class RunChanges(TypedDict, total=False):
    """The columns a run update may set; absent ones keep their values."""

    name: str
    status: str
    parameters: list[dict[str, Any]]
    final_metrics: list[dict[str, Any]]
    duration_seconds: float | None
    error_message: str | None
    updated_at: datetime


@dataclass(frozen=True)
class NewArtifact:
    workspace: str
    owner: str
    run_id: str
    path: str
    experiment_id: str
    name: str
    type: str
    s3_key: str
    stored: bool
    size: int | None
    content_type: str
    sha256: str | None
    created_at: datetime


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _visible(viewer: str | None) -> ColumnElement[bool]:
    if viewer is None:
        return true()
    return or_(E.owner == viewer, E.is_public, E.shared_with.contains([viewer]))


def _run_count() -> Any:
    return select(func.count()).where(R.experiment_id == E.id).correlate(E).scalar_subquery()


class WorkbenchRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- experiments -------------------------------------------------------------------------

    async def insert_experiment(self, experiment: NewExperiment) -> WorkbenchExperiment | None:
        """None when the owner already has an experiment of that name in the workspace."""
        statement = (
            insert(E).values(**asdict(experiment)).on_conflict_do_nothing(constraint=NAME_CONSTRAINT).returning(E)
        )
        return (await self.session.scalars(statement)).one_or_none()

    async def experiment_by_name(self, workspace: str, owner: str, name: str) -> WorkbenchExperiment | None:
        statement = select(E).where(E.workspace == workspace, E.owner == owner, E.name == name)
        return (await self.session.scalars(statement)).one_or_none()

    async def find_experiments(self, workspace: str, viewer: str | None, ref: str) -> Sequence[WorkbenchExperiment]:
        """The visible experiment with id `ref`, else those whose id starts with it (at most two)."""
        statement = (
            select(E)
            .where(E.workspace == workspace, _visible(viewer))
            .where(or_(E.id == ref, E.id.like(_escape_like(ref) + "%", escape="\\")))
            .order_by((E.id == ref).desc(), E.id)
            .limit(2)
        )
        return (await self.session.scalars(statement)).all()

    async def get_experiment(self, experiment_id: str) -> WorkbenchExperiment | None:
        return await self.session.get(E, experiment_id, populate_existing=True)

    async def update_experiment(
        self, experiment_id: str, **changes: Unpack[ExperimentChanges]
    ) -> WorkbenchExperiment | None:
        """One UPDATE of the given columns; None when a rename hits another experiment's name."""
        statement = update(E).where(E.id == experiment_id).values(**changes).returning(E)
        try:
            async with self.session.begin_nested():
                return (await self.session.scalars(statement.execution_options(populate_existing=True))).one()
        except IntegrityError as exc:
            if NAME_CONSTRAINT in str(exc.orig):
                return None
            raise

    async def toggle_pin(self, experiment_id: str, moment: datetime) -> WorkbenchExperiment:
        """Flip `pinned` in one statement, so concurrent toggles never lose each other."""
        statement = update(E).where(E.id == experiment_id).values(pinned=~E.pinned, updated_at=moment).returning(E)
        return (await self.session.scalars(statement.execution_options(populate_existing=True))).one()

    async def delete_experiment(self, experiment_id: str) -> None:
        """Runs and artifact records go with it (ON DELETE CASCADE)."""
        await self.session.execute(delete(E).where(E.id == experiment_id))

    async def list_experiments(
        self, workspace: str, viewer: str | None, query: ExperimentQuery
    ) -> tuple[list[tuple[WorkbenchExperiment, int]], int]:
        where: list[ColumnElement[bool]] = [E.workspace == workspace, _visible(viewer)]
        if query.search:
            pattern = "%" + _escape_like(query.search) + "%"
            where.append(or_(E.name.ilike(pattern, escape="\\"), E.description.ilike(pattern, escape="\\")))
        if query.status is not None:
            where.append(E.status == query.status)
        if query.tag is not None:
            where.append(E.tags.contains([query.tag]))
        if query.pinned is not None:
            where.append(E.pinned.is_(true()) if query.pinned else E.pinned.is_(false()))
        total = int(await self.session.scalar(select(func.count()).select_from(E).where(*where)) or 0)
        if query.offset >= total:
            return [], total
        run_count = _run_count().label("run_count")
        columns = {
            "createdAt": E.created_at,
            "updatedAt": E.updated_at,
            "name": E.name,
            "runCount": run_count,
            "status": E.status,
        }
        column = columns[query.sort_field]
        statement = (
            select(E, run_count)
            .where(*where)
            .order_by(E.pinned.desc(), column.desc() if query.descending else column.asc(), E.id.asc())
            .offset(query.offset)
            .limit(query.limit)
        )
        rows = (await self.session.execute(statement)).all()
        return [(row[0], int(row[1])) for row in rows], total

    async def stats(self, workspace: str, viewer: str | None) -> dict[str, int]:
        counts = [func.count().label("total")]
        counts += [func.count().filter(E.status == status).label(status) for status in STATUSES]
        counts.append(func.count().filter(E.pinned).label("pinned"))
        row = (await self.session.execute(select(*counts).where(E.workspace == workspace, _visible(viewer)))).one()
        return {key: int(value) for key, value in row._mapping.items()}

    # --- runs --------------------------------------------------------------------------------

    async def insert_run(self, run: NewRun) -> WorkbenchRun | None:
        """None when the owner already has a run with that id in the workspace."""
        statement = (
            insert(R)
            .values(**asdict(run))
            .on_conflict_do_nothing(index_elements=["workspace", "owner", "id"])
            .returning(R)
        )
        return (await self.session.scalars(statement)).one_or_none()

    async def lock_run(self, run: WorkbenchRun) -> WorkbenchRun:
        """The run re-read under a row lock, so concurrent read-modify-writes of it queue."""
        statement = (
            select(R).where(R.workspace == run.workspace, R.owner == run.owner, R.id == run.id).with_for_update()
        )
        return (await self.session.scalars(statement.execution_options(populate_existing=True))).one()

    async def find_runs(
        self, workspace: str, viewer: str | None, ref: str, caller: str
    ) -> Sequence[tuple[WorkbenchRun, WorkbenchExperiment]]:
        """Visible runs (through their experiment) with id `ref`, else starting with it (at most two);
        run ids are unique per owner, so the caller's own run comes before another owner's of that id."""
        statement = (
            select(R, E)
            .join(E, E.id == R.experiment_id)
            .where(R.workspace == workspace, _visible(viewer))
            .where(or_(R.id == ref, R.id.like(_escape_like(ref) + "%", escape="\\")))
            .order_by((R.id == ref).desc(), (R.owner == caller).desc(), R.id, R.owner)
            .limit(2)
        )
        return [(row[0], row[1]) for row in (await self.session.execute(statement)).all()]

    async def latest_run(self, experiment_id: str, *, for_update: bool = False) -> WorkbenchRun | None:
        statement = (
            select(R).where(R.experiment_id == experiment_id).order_by(R.created_at.desc(), R.id.desc()).limit(1)
        )
        if for_update:
            statement = statement.with_for_update()
        return (await self.session.scalars(statement.execution_options(populate_existing=True))).one_or_none()

    async def runs_of(self, experiment_ids: Sequence[str]) -> list[WorkbenchRun]:
        """Runs of the experiments, oldest first (the order ties in best-run choice break by)."""
        if not experiment_ids:
            return []
        statement = select(R).where(R.experiment_id.in_(experiment_ids)).order_by(R.created_at, R.id)
        return list((await self.session.scalars(statement)).all())

    async def update_run(self, run: WorkbenchRun, **changes: Unpack[RunChanges]) -> WorkbenchRun:
        mine = (R.workspace == run.workspace, R.owner == run.owner, R.id == run.id)
        statement = update(R).where(*mine).values(**changes).returning(R)
        return (await self.session.scalars(statement.execution_options(populate_existing=True))).one()

    async def delete_runs(self, workspace: str, owner: str, run_ids: Sequence[str]) -> None:
        """Delete the owner's runs (their artifact records cascade) and forget them as the parent of
        the owner's other runs."""
        if not run_ids:
            return
        mine = (R.workspace == workspace, R.owner == owner)
        await self.session.execute(update(R).where(*mine, R.parent_run_id.in_(run_ids)).values(parent_run_id=None))
        await self.session.execute(delete(R).where(*mine, R.id.in_(run_ids)))

    # --- artifacts ---------------------------------------------------------------------------

    async def upsert_artifact(self, artifact: NewArtifact) -> WorkbenchArtifact:
        """A second artifact at the same path of a run replaces the first."""
        values = asdict(artifact)
        key = ("workspace", "owner", "run_id", "path")
        inserted = insert(A).values(**values)
        statement = inserted.on_conflict_do_update(
            index_elements=list(key),
            set_={name: inserted.excluded[name] for name in values if name not in key},
        ).returning(A)
        return (await self.session.scalars(statement.execution_options(populate_existing=True))).one()

    async def artifacts_of(self, run: WorkbenchRun) -> list[WorkbenchArtifact]:
        statement = (
            select(A)
            .where(A.workspace == run.workspace, A.owner == run.owner, A.run_id == run.id)
            .order_by(A.created_at, A.path)
        )
        return list((await self.session.scalars(statement)).all())

    async def artifact(self, run: WorkbenchRun, path: str) -> WorkbenchArtifact | None:
        return await self.session.get(A, (run.workspace, run.owner, run.id, path))
