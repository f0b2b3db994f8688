"""WorkspaceRepository: which workspaces hold live experiment groups or runs. There is no workspace
table; a workspace exists for the pages once something was written to it."""

from dataclasses import dataclass

from sqlalchemy import func, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.store.postgres.tables import Experiment, ExperimentGroup


@dataclass(frozen=True)
class WorkspaceCounts:
    workspace: str
    group_count: int
    evaluation_count: int


class WorkspaceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def counts(self, only: frozenset[str] | None) -> list[WorkspaceCounts]:
        """Every workspace with a live group or run (only those in `only` unless it is None), by name."""
        group_rows = select(
            ExperimentGroup.workspace.label("workspace"), func.count().label("groups"), (func.count() * 0).label("runs")
        ).where(~ExperimentGroup.is_deleted).group_by(ExperimentGroup.workspace)
        run_rows = select(
            Experiment.workspace.label("workspace"), (func.count() * 0).label("groups"), func.count().label("runs")
        ).where(~Experiment.is_deleted).group_by(Experiment.workspace)
        both = union_all(group_rows, run_rows).subquery()
        query = select(both.c.workspace, func.sum(both.c.groups), func.sum(both.c.runs)).group_by(both.c.workspace)
        if only is not None:
            query = query.where(both.c.workspace.in_(sorted(only)))
        rows = await self.session.execute(query.order_by(both.c.workspace))
        return [WorkspaceCounts(workspace, int(groups), int(runs)) for workspace, groups, runs in rows]
