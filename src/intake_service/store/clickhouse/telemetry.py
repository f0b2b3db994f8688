"""TelemetryStore: the ClickHouse repository for sessions, evaluator results and rollups.

Every method raises errors.TelemetryUnavailable when ClickHouse cannot answer.
"""

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import anyio

from intake_service.domain.rollup_metrics import RollupPath
from intake_service.errors import TelemetryUnavailable
from intake_service.models.generated import EvaluatorResult
from intake_service.store.clickhouse import compare as compare_sql
from intake_service.store.clickhouse import evaluation_rollups as evaluation_sql
from intake_service.store.clickhouse import evaluator_results as result_sql
from intake_service.store.clickhouse import pivot as pivot_sql
from intake_service.store.clickhouse import rollups as rollup_sql
from intake_service.store.clickhouse import session_rebuild
from intake_service.store.clickhouse import sessions as session_sql
from intake_service.store.clickhouse import spans as span_sql
from intake_service.store.clickhouse.evaluator_results import ResultFilters
from intake_service.store.clickhouse.executor import AsyncExecutor, ChdbExecutor, Executor, create_executor
from intake_service.store.clickhouse.migrate import apply_migrations
from intake_service.store.clickhouse.presence import Presence
from intake_service.store.clickhouse.repair import STALE_SPAN_SESSIONS
from intake_service.store.clickhouse.spans import Span
from intake_service.store.clickhouse.stale_rollups import StaleRollups

if TYPE_CHECKING:
    from intake_service.settings import Settings

logger = logging.getLogger(__name__)


class TelemetryStore:
    def __init__(self, executor: Executor) -> None:
        self.executor = executor
        self._ch = AsyncExecutor(executor)
        self.presence = Presence(executor, only_writer=isinstance(executor, ChdbExecutor))
        self.stale = StaleRollups(executor, deferred=isinstance(executor, ChdbExecutor), presence=self.presence)

    async def settle(self) -> None:
        """Let background writes finish (at shutdown, before `close`)."""
        await self.stale.settle()

    def close(self) -> None:
        try:
            self.stale.flush()
        except TelemetryUnavailable:
            logger.error("Rollups left stale at shutdown; `intake-service rollups recompute` rewrites them.")
        self.executor.close()

    @property
    def reader(self) -> AsyncExecutor:
        """The async executor the read repositories (traces, spans, annotations) share."""
        return self._ch

    async def ping(self) -> None:
        await self._ch.query("SELECT 1 AS ok")

    async def insert_sessions(self, workspace: str, experiment_id: str, rows: bytes) -> None:
        """Store the JSONEachRow rows of session_sql.session_rows in one INSERT (one block: all or
        nothing); the experiment's rollups go stale."""
        await self._ch.insert_json("sessions", rows)
        await self.stale.mark(workspace, [experiment_id])

    async def insert_evaluator_result(
        self, result: EvaluatorResult, *, experiment_id: str, experiment_ids: list[str]
    ) -> None:
        """Store the result (scoped to `experiment_id`, '' for none); the rollups of the experiments it
        counts in go stale."""
        row = result_sql.result_row(result, experiment_id)
        self.presence.stored("evaluator_results", result.workspace)
        await self._ch.insert_rows("evaluator_results", [row])
        await self.stale.mark(result.workspace, experiment_ids)

    async def experiments_with_session(self, workspace: str, session_id: str) -> list[str]:
        rows = await self._ch.query(
            session_sql.EXPERIMENTS_WITH_SESSION, {"workspace": workspace, "session_id": session_id}
        )
        return [row["experiment_id"] for row in rows]

    async def recompute_rollups(self, workspace: str, experiment_ids: list[str]) -> None:
        """Rewrite these experiments' rollup rows now, stale or not."""
        await asyncio.to_thread(rollup_sql.recompute, self.executor, workspace, experiment_ids)
        self.stale.forget(workspace, experiment_ids)

    async def rollups(self, workspace: str, experiment_ids: list[str]) -> dict[str, dict[str, Any]]:
        async def fetch(ids: list[str]) -> dict[str, dict[str, Any]]:
            rows = await self._ch.query(rollup_sql.READ_ROLLUPS, {"workspace": workspace, "experiment_ids": ids})
            return {row["experiment_id"]: rollup_sql.to_rollups(row) for row in rows}

        return await self.stale.read(workspace, experiment_ids, fetch)

    async def metric_values(self, workspace: str, path: RollupPath) -> rollup_sql.MetricColumn:
        """The metric's value for every experiment of the workspace that has one, in ascending order."""

        async def fetch(experiment_ids: list[str] | None) -> rollup_sql.MetricColumn:
            # Columnar: a workspace of 100,000 experiments reads 100,000 pairs here.
            sql, params = rollup_sql.metric_query(path, experiment_ids)
            columns = await self._ch.query_columns(sql, {"workspace": workspace, **params})
            return rollup_sql.MetricColumn.from_columns(columns["experiment_id"], columns["value"])

        def from_rows(rows: dict[str, dict[str, Any]]) -> rollup_sql.MetricColumn:
            values = {experiment_id: rollup_sql.metric_value(path, rollups) for experiment_id, rollups in rows.items()}
            return rollup_sql.MetricColumn.from_columns(list(values), list(values.values()))

        return await self.stale.read_column(workspace, path, fetch, from_rows)

    async def list_sessions(
        self,
        workspace: str,
        experiment_id: str,
        *,
        order: list[tuple[str, bool]],
        test_case_id: str | None,
        status: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[dict[str, Any]], int]:
        where = {
            "workspace": workspace,
            "experiment_id": experiment_id,
            "test_case_id": test_case_id,
            "status": status,
        }
        # The page carries the count; a page past the end has no row to carry it (an offset beyond
        # UInt64 is past every end, and is not sent).
        rows = await self._ch.query(
            session_sql.list_sessions_sql(order), {**where, "limit": limit, "offset": offset}
        ) if offset < 2**64 else []  # fmt: skip
        if not rows:
            return [], int((await self._ch.query(session_sql.COUNT_SESSIONS, where))[0]["total"])
        total = int(rows[0]["total"])
        for row in rows:
            del row["total"]
        external = await self._ch.query(
            session_sql.SESSION_EXTERNAL_SCORES,
            {"workspace": workspace, "experiment_id": experiment_id, "session_ids": [r["session_id"] for r in rows]},
        ) if rows and await self.presence.has("evaluator_results", workspace) else []
        values: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        for row in rows:
            for name, value in (row.pop("scores") or {}).items():
                values[row["session_id"]][name].append(value)
        for result in external:
            values[result["session_id"]][result["name"]].append(result["value"])
        traces = await self._session_traces(workspace, [row["session_id"] for row in rows]) if rows else {}
        for row in rows:
            scores = values[row["session_id"]]
            row["evaluator_scores"] = {name: sum(v) / len(v) for name, v in sorted(scores.items())}
            row.update(traces[row["session_id"]])
        return rows, total

    async def evaluation_rollups(self, workspace: str, experiment_ids: list[str]) -> dict[str, dict[str, Any]]:
        """SDK 0.3.0 rollups by experiment id: test_case_count, cost_usd, latency_ms, tokens (statistics
        or None) and aggregate_scores (statistics by evaluator); see store/clickhouse/evaluation_rollups.py."""

        async def fetch(ids: list[str]) -> dict[str, dict[str, Any]]:
            params = {"workspace": workspace, "experiment_ids": ids}
            # Three queries at once: chDB runs them on their own connections, in parallel.
            counts, metrics, scores = await asyncio.gather(*(self._ch.query(sql, params) for sql in (
                evaluation_sql.COUNTS, evaluation_sql.METRICS, evaluation_sql.EVALUATORS
            )))  # fmt: skip
            rollups: dict[str, dict[str, Any]] = {}
            for row in counts:
                rollups[row["experiment_id"]] = {"test_case_count": int(row["test_case_count"]), "aggregate_scores": {}}
            for row in metrics:
                for metric in ("cost_usd", "latency_ms", "tokens"):
                    rollups[row["experiment_id"]][metric] = _statistics(row, metric)
            for row in scores:
                rollups[row["experiment_id"]]["aggregate_scores"][row["name"]] = _statistics(row, "score")
            return rollups

        # Kept in memory as the rollup rows are: every write to their sessions or results marks them.
        return await self.stale.read(workspace, experiment_ids, fetch, kind="evaluation")

    async def evaluations_observing(self, workspace: str, column: str, values: list[str]) -> list[str]:
        """Ids of the evaluations whose sessions show one of `values` in `column` (agent_name,
        agent_version or model_name): whose agent_names, agent_versions or model_names hold it."""
        if column not in evaluation_sql.FACET_COLUMNS:
            raise ValueError(f"not a facet column: {column!r}")
        await self.stale.refresh(workspace)  # the lists are read from the rollup rows, as metric_values
        sql = evaluation_sql.OBSERVING.format(column=column)
        rows = await self._ch.query(sql, {"workspace": workspace, "values": values})
        return sorted(row["experiment_id"] for row in rows)

    async def paired_values(self, workspace: str, experiment_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        """experiment id → its sessions with a test case, in start order within each test case, each as
        {test_case_id, values: {cost_usd, latency_ms, tokens, evaluators.<name>}} (store/clickhouse/compare.py)."""
        params = {"workspace": workspace, "experiment_ids": experiment_ids}
        rows = await self._ch.query(compare_sql.PAIRED_VALUES, params)
        runs: dict[str, list[dict[str, Any]]] = {experiment_id: [] for experiment_id in experiment_ids}
        for row in rows:
            values = {metric: row[metric] for metric in ("cost_usd", "latency_ms", "tokens")}
            names, scores = row["score_names"] or [], row["score_values"] or []
            values |= {f"evaluators.{name}": score for name, score in zip(names, scores, strict=True)}
            runs[row["experiment_id"]].append({"test_case_id": row["test_case_id"], "values": values})
        return runs

    async def pivot(
        self,
        workspace: str,
        experiment_ids: list[str],
        *,
        rows: str,
        columns: str | None,
        value: str,
        evaluator: str,
        by_evaluation: dict[str, list[str | None]],
    ) -> list[dict[str, Any]]:
        """One row per (row_key, column_key) cell: sessions, evaluations, test_cases and the
        statistics value_<stat> (store/clickhouse/pivot.py); `by_evaluation` holds the values of an
        evaluation-level dimension ("row", "column"), aligned with `experiment_ids`."""
        if not experiment_ids:
            return []
        params: dict[str, Any] = {"workspace": workspace, "experiment_ids": experiment_ids, "evaluator": evaluator}
        params |= {f"{side}_values": values for side, values in by_evaluation.items()}
        return await self._ch.query(pivot_sql.pivot_sql(rows, columns, value), params)

    async def _has_spans(self, workspace: str) -> bool:
        return await self.presence.has("spans", workspace)

    async def _session_traces(self, workspace: str, session_ids: list[str]) -> dict[str, dict[str, str]]:
        """Each session's trace_id and root_span_id (NeMo answers both for every session, whose spans it
        is made of): the root span's; without a stored root (a session ingested in bulk has no spans)
        the session is its own root, and its own trace unless a span names one."""
        params = {"workspace": workspace, "session_ids": session_ids}
        rows = await self._ch.query(session_sql.SESSION_TRACES, params) if await self._has_spans(workspace) else []
        found = {row["session_id"]: row for row in rows}
        traces = {}
        for session_id in session_ids:
            row = found.get(session_id)
            if row is not None and row["has_root"]:
                traces[session_id] = {"trace_id": row["root_trace_id"], "root_span_id": row["root_span_id"]}
            else:
                trace_id = row["first_trace_id"] if row is not None else session_id
                traces[session_id] = {"trace_id": trace_id, "root_span_id": session_id}
        return traces


    # --- spans (OTLP, ATIF, chat completions) and the sessions rebuilt from them -----------------

    async def insert_spans(self, workspace: str, spans: list[Span], *, replace: bool = False) -> None:
        """Store spans in one INSERT; with `replace`, the touched sessions' older spans go after it."""
        version = time.time_ns()
        # Up to 10,000 spans' rows (their attributes as JSON): built off the event loop.
        rows = await anyio.to_thread.run_sync(lambda: [span.row(workspace, version) for span in spans])
        self.presence.stored("spans", workspace)
        await self._ch.insert_rows("spans", rows)
        if replace and spans:
            session_ids = sorted({span.session_id for span in spans})
            params = {"workspace": workspace, "session_ids": session_ids, "version": version}
            await self._ch.command(span_sql.DELETE_OLDER_SESSION_SPANS, params)

    async def session_roots(self, workspace: str, session_id: str) -> list[dict[str, Any]]:
        return await self._ch.query(span_sql.SESSION_ROOTS, {"workspace": workspace, "session_id": session_id})

    async def span_session_bindings(self, workspace: str, session_ids: list[str]) -> dict[str, str]:
        """session id → the experiment id its span-built session is bound to now ('' = none)."""
        rows = await self._ch.query(span_sql.READ_BINDINGS, {"workspace": workspace, "session_ids": session_ids})
        return {row["session_id"]: row["experiment_id"] for row in rows}

    async def stale_span_sessions(self) -> dict[str, dict[str, str | None]]:
        """workspace → {session id → its earliest root's experiment tag} for every span set whose
        session row is missing or older than its spans (see repair.STALE_SPAN_SESSIONS)."""
        stale: dict[str, dict[str, str | None]] = defaultdict(dict)
        for row in await self._ch.query(STALE_SPAN_SESSIONS):
            stale[row["workspace"]][row["session_id"]] = row["tag"]
        return dict(stale)

    async def rebuild_sessions(
        self, workspace: str, bindings: dict[str, str], previous: dict[str, str], stored: Sequence[Span] = ()
    ) -> None:
        """Rebuild each session of `bindings` from all its spans into its experiment ('' = none), drop
        the copy a session left behind in its `previous` experiment; the rollups of both go stale.
        `stored`: the spans just stored, which spare a new session the read of its spans."""
        rows = await session_rebuild.rebuild_rows(self._ch, workspace, bindings, stored)
        # A session with no binding row is unbound (''): an untagged child span must not write ''
        # over a binding a concurrent tagged root is writing.
        changed = {s: e for s, e in bindings.items() if previous.get(s, "") != e}
        left: dict[str, list[str]] = defaultdict(list)
        for session_id in changed:
            if session_id in previous:
                left[previous[session_id]].append(session_id)
        binds = span_sql.binding_rows(workspace, changed, time.time_ns()) if changed else []
        if left:
            # A session moving out: its row first, so a failed insert leaves the old binding and the
            # client's retry finds the move again (and deletes the copy left behind).
            if rows:
                await self._ch.insert_rows("sessions", rows)
            await self._ch.insert_rows("span_sessions", binds)
        else:
            # Both at once, on two of chDB's connections: a binding stored without its session row (a
            # failure or crash in between) is rebuilt at start like any missing row (repair.py).
            await asyncio.gather(
                *([self._ch.insert_rows("sessions", rows)] if rows else []),
                *([self._ch.insert_rows("span_sessions", binds)] if binds else []),
            )
        for experiment_id, moved in left.items():
            await self._ch.command(
                span_sql.DELETE_SESSIONS, {"workspace": workspace, "experiment_id": experiment_id, "session_ids": moved}
            )
        await self.stale.mark(workspace, sorted({e for e in bindings.values() if e} - left.keys()))
        await self.stale.mark(workspace, sorted(e for e in left if e), may_be_empty=True)

    # --- evaluator-result reads -----------------------------------------------------------------

    async def list_evaluator_results(
        self, workspace: str, filters: ResultFilters, *, sort: str, descending: bool, limit: int, offset: int
    ) -> tuple[list[EvaluatorResult], int]:
        where = {"workspace": workspace, **filters.params()}
        total = int((await self._ch.query(result_sql.COUNT_RESULTS, where))[0]["total"])
        if offset >= total:
            return [], total
        rows = await self._ch.query(
            result_sql.list_results_sql(sort, descending), {**where, "limit": limit, "offset": offset}
        )
        return [EvaluatorResult(**row) for row in rows], total

    async def get_evaluator_result(self, workspace: str, evaluator_result_id: str) -> EvaluatorResult | None:
        rows = await self._ch.query(
            result_sql.GET_RESULT, {"workspace": workspace, "evaluator_result_id": evaluator_result_id}
        )
        return EvaluatorResult(**rows[0]) if rows else None


def open_telemetry(settings: "Settings") -> TelemetryStore:
    return TelemetryStore(create_executor(settings.clickhouse_url, settings.data_dir))


def migrate_telemetry(settings: "Settings") -> list[str]:
    executor = create_executor(settings.clickhouse_url, settings.data_dir)
    try:
        return apply_migrations(executor, settings.clickhouse_cluster)
    finally:
        executor.close()


def _statistics(row: dict[str, Any], prefix: str) -> dict[str, Any] | None:
    """The statistics `<prefix>_<stat>` of a row; None when no value went into them."""
    count = int(row[f"{prefix}_count"])
    if count == 0:
        return None
    return {stat: count if stat == "count" else row[f"{prefix}_{stat}"] for stat in evaluation_sql.STAT_NAMES}
