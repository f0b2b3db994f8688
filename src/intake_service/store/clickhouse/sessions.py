"""Session SQL and rows: the columns of batch inserts, the row each checked session becomes, listing reads."""

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from intake_service.store.clickhouse.values import datetime_text

# Batches go in through Executor.insert_json as JSONEachRow, keyed by the table's column names.


class SessionFields(Protocol):
    """What a row is made of: SessionInput, or the fast path's struct of the same fields."""

    @property
    def session_id(self) -> str: ...
    @property
    def test_case_id(self) -> str | None: ...
    @property
    def started_at(self) -> datetime: ...
    @property
    def ended_at(self) -> datetime | None: ...
    @property
    def status(self) -> str: ...
    @property
    def model_name(self) -> str | None: ...
    @property
    def agent_name(self) -> str | None: ...
    @property
    def agent_version(self) -> str | None: ...
    @property
    def input_tokens(self) -> int | None: ...
    @property
    def output_tokens(self) -> int | None: ...
    @property
    def cached_tokens(self) -> int | None: ...
    @property
    def cost_usd(self) -> float | None: ...
    @property
    def input(self) -> str | None: ...
    @property
    def output(self) -> str | None: ...


class SessionRecord(NamedTuple):
    """A checked session and what ingest derived from it: latency, numeric scores, metadata as JSON.
    (A tuple: one is made per ingested session, in a third of a frozen dataclass's time.)"""

    session: SessionFields
    latency_ms: float | None
    scores: dict[str, float]
    metadata: str


@dataclass(frozen=True)
class SessionBatch:
    """A request's sessions as the JSONEachRow rows of one INSERT."""

    count: int
    rows: bytes


def session_rows(
    workspace: str, experiment_id: str, records: list[SessionRecord], version: int | None = None
) -> list[dict[str, Any]]:
    """The JSONEachRow rows of the sessions table; a later copy of a session in the batch wins over an
    earlier one (a higher version)."""
    first = time.time_ns() if version is None else version
    return [_session_row(workspace, experiment_id, record, first + index) for index, record in enumerate(records)]


def _session_row(workspace: str, experiment_id: str, record: SessionRecord, version: int) -> dict[str, Any]:
    session = record.session
    return {
        "workspace": workspace,
        "experiment_id": experiment_id,
        "session_id": session.session_id,
        "test_case_id": session.test_case_id,
        "started_at": datetime_text(session.started_at),
        "ended_at": None if session.ended_at is None else datetime_text(session.ended_at),
        "latency_ms": record.latency_ms,
        "status": session.status or "unknown",
        "model_name": session.model_name,
        "agent_name": session.agent_name,
        "agent_version": session.agent_version,
        "input_tokens": session.input_tokens,
        "output_tokens": session.output_tokens,
        "cached_tokens": session.cached_tokens,
        "cost_usd": session.cost_usd,
        "input": session.input,
        "output": session.output,
        "metadata": record.metadata,
        "scores": record.scores,
        "version": version,
    }


EXPERIMENTS_WITH_SESSION = """
SELECT DISTINCT experiment_id FROM sessions
WHERE workspace = {workspace:String} AND session_id = {session_id:String}
"""

# Sort columns come from this whitelist only; ties break by session_id.
SESSION_SORTS = {
    "started_at": "started_at",
    "ended_at": "ended_at",
    "latency_ms": "latency_ms",
    "cost_usd": "cost_usd",
    "test_case_id": "test_case_id",
    "status": "status",
    "session_id": "session_id",
}
_SESSION_WHERE = """
    workspace = {workspace:String} AND experiment_id = {experiment_id:String}
    AND ({test_case_id:Nullable(String)} IS NULL OR test_case_id = {test_case_id:Nullable(String)})
    AND ({status:Nullable(String)} IS NULL OR status = {status:Nullable(String)})
"""
COUNT_SESSIONS = f"SELECT count() AS total FROM sessions FINAL WHERE {_SESSION_WHERE}"
# A page and, in each of its rows, how many sessions the filter selects: one statement, where a count
# apart cost a second of about 3 ms. A scalar subquery, not a window count: `count() OVER ()` would
# hold every selected session, inputs and outputs, before ORDER BY and LIMIT cut the page.
_LIST_SESSIONS = f"""
SELECT ({COUNT_SESSIONS}) AS total, session_id, test_case_id, started_at, ended_at, latency_ms, status,
       model_name, agent_name, agent_version, input_tokens, output_tokens, cached_tokens, cost_usd, input, output,
       scores
FROM sessions FINAL
WHERE {_SESSION_WHERE}
ORDER BY {{order}}, session_id
LIMIT {{limit:UInt32}} OFFSET {{offset:UInt64}}
"""
SESSION_EXTERNAL_SCORES = """
SELECT session_id, name, value FROM evaluator_results FINAL
WHERE workspace = {workspace:String} AND session_id IN {session_ids:Array(String)}
  AND (experiment_id = '' OR experiment_id = {experiment_id:String})
  AND data_type IN ('NUMERIC', 'BOOLEAN') AND value IS NOT NULL
"""


# SDK 0.3.0's evaluation sessions sort by these too: the session's cost and its tokens.
EVALUATION_SESSION_SORTS = {
    **SESSION_SORTS,
    "cost_total_usd": "cost_usd",
    "tokens": "if(input_tokens IS NULL AND output_tokens IS NULL, NULL, "
    "ifNull(input_tokens, 0) + ifNull(output_tokens, 0))",
}
# The trace and root span of span-built sessions: the earliest root's (a span without a trace id is in
# its session's trace, as the traces read them); has_root = 0 while no root is stored.
SESSION_TRACES = """
SELECT session_id, countIf(parent_span_id = '') > 0 AS has_root,
       argMinIf(tid, (start_time, span_id), parent_span_id = '') AS root_trace_id,
       argMinIf(span_id, (start_time, span_id), parent_span_id = '') AS root_span_id,
       argMin(tid, (start_time, span_id)) AS first_trace_id
FROM (
    SELECT session_id, span_id, parent_span_id, start_time, if(trace_id = '', session_id, trace_id) AS tid
    FROM spans FINAL
    WHERE workspace = {workspace:String} AND session_id IN {session_ids:Array(String)}
)
GROUP BY session_id
"""


def list_sessions_sql(order: list[tuple[str, bool]]) -> str:
    """Sessions ordered by each (field, descending) key in turn, the first dominating; each key
    comes from EVALUATION_SESSION_SORTS, never from the request's text."""
    keys = [
        f"{EVALUATION_SESSION_SORTS[field]} {'DESC' if descending else 'ASC'} NULLS LAST" for field, descending in order
    ]
    return _LIST_SESSIONS.replace("{order}", ", ".join(keys))


# GET /sessions/{id}: one session aggregated over all its stored spans (none: no row). Open while
# any span is; the worst status wins (error, cancelled, unknown, then success).
SESSION_DETAIL = """
SELECT {session_id:String} AS id, toDateTime64(min(start_time), 6, 'UTC') AS started_at,
       if(countIf(end_time IS NULL) > 0, NULL, toDateTime64(max(end_time), 6, 'UTC')) AS ended_at,
       if(ended_at IS NULL, NULL, (toUnixTimestamp64Micro(ended_at) - toUnixTimestamp64Micro(started_at)) / 1e3)
           AS duration_ms,
       multiIf(countIf(status = 'error') > 0, 'error', countIf(status = 'cancelled') > 0, 'cancelled',
               countIf(status = 'unknown') > 0, 'unknown', 'success') AS status,
       sum(span_input) AS input_tokens,
       sum(span_output) AS output_tokens,
       sum(span_cached) AS cached_tokens,
       if(countIf(span_input IS NOT NULL OR span_output IS NOT NULL) = 0, NULL,
          sum(coalesce(span_input, 0) + coalesce(span_output, 0))) AS total_tokens,
       sum(span_cost) AS cost_usd,
       uniqExact(if(trace_id = '', session_id, trace_id)) AS trace_count,
       count() AS span_count
FROM (
    -- Renamed so that the sums may take the column names as their aliases.
    SELECT start_time, end_time, status, trace_id, session_id, input_tokens AS span_input,
           output_tokens AS span_output, cached_tokens AS span_cached, cost_usd AS span_cost
    FROM spans FINAL
    WHERE workspace = {workspace:String} AND session_id = {session_id:String}
)
HAVING span_count > 0
"""
