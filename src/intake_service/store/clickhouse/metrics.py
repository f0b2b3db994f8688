"""ML-workbench step metrics in ClickHouse: constant SQL with typed {name:Type} parameters.

RunMetricStore runs on the executor TelemetryStore owns (one chDB session or server client per
process); every method raises errors.TelemetryUnavailable when ClickHouse cannot answer.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from intake_service.store.clickhouse.executor import AsyncExecutor, Executor
from intake_service.store.clickhouse.values import datetime_text

# Run ids are unique per owner, not per workspace: the experiment tells two owners' runs apart.
_RUN_WHERE = "workspace = {workspace:String} AND experiment_id = {experiment_id:String} AND run_id = {run_id:String}"
_HISTORY_WHERE = _RUN_WHERE + """
    AND ({key:Nullable(String)} IS NULL OR key = {key:Nullable(String)})
"""
COUNT_HISTORY = f"SELECT count() AS total FROM workbench_metrics WHERE {_HISTORY_WHERE}"
READ_HISTORY = f"""
SELECT key, value, step, timestamp
FROM workbench_metrics
WHERE {_HISTORY_WHERE}
ORDER BY key, step, timestamp, logged_at, seq
LIMIT {{limit:UInt32}} OFFSET {{offset:UInt64}}
"""
# The latest value of each key of a run: the one with the highest (step, timestamp, arrival).
LATEST_VALUES = f"""
SELECT key, argMax(value, (step, timestamp, logged_at, seq)) AS value
FROM workbench_metrics
WHERE {_RUN_WHERE}
GROUP BY key
ORDER BY key
"""
DELETE_RUNS = """
DELETE FROM workbench_metrics
WHERE workspace = {workspace:String} AND experiment_id = {experiment_id:String} AND run_id IN {run_ids:Array(String)}
"""


@dataclass(frozen=True)
class MetricRecord:
    """One logged value of a run's metric."""

    key: str
    value: float
    step: int
    timestamp: datetime


class RunMetricStore:
    def __init__(self, executor: Executor) -> None:
        self._ch = AsyncExecutor(executor)

    async def append(
        self, workspace: str, experiment_id: str, run_id: str, points: list[MetricRecord], logged_at: datetime
    ) -> None:
        """Append points to the run's histories, in one block."""
        rows = [
            {
                "workspace": workspace,
                "experiment_id": experiment_id,
                "run_id": run_id,
                "key": point.key,
                "step": point.step,
                "timestamp": datetime_text(point.timestamp),
                "value": point.value,
                "logged_at": datetime_text(logged_at),
                "seq": seq,
            }
            for seq, point in enumerate(points)
        ]
        await self._ch.insert_rows("workbench_metrics", rows)

    async def history(
        self, workspace: str, experiment_id: str, run_id: str, key: str | None, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        where = {"workspace": workspace, "experiment_id": experiment_id, "run_id": run_id, "key": key}
        total = await self._ch.query(COUNT_HISTORY, where)
        rows = await self._ch.query(READ_HISTORY, {**where, "limit": limit, "offset": offset})
        return rows, int(total[0]["total"]) if total else 0

    async def latest(self, workspace: str, experiment_id: str, run_id: str) -> dict[str, float]:
        """{key: latest value} of the run."""
        where = {"workspace": workspace, "experiment_id": experiment_id, "run_id": run_id}
        return {row["key"]: row["value"] for row in await self._ch.query(LATEST_VALUES, where)}

    async def delete_runs(self, workspace: str, experiment_id: str, run_ids: list[str]) -> None:
        if run_ids:
            where = {"workspace": workspace, "experiment_id": experiment_id, "run_ids": run_ids}
            await self._ch.command(DELETE_RUNS, where)
