"""Spans in ClickHouse: the span every ingest format normalises to and the row it becomes; the SQL
that stores spans and rebuilds sessions from all the stored spans of the touched sessions.

Constant texts with typed parameters only; span batches go in through Executor.insert_rows.
"""

from dataclasses import dataclass, field
from typing import Any

import orjson

from intake_service.store.clickhouse.values import nanosecond_text

MAX_ATTRIBUTES_BYTES = 256 * 1024


@dataclass
class Span:
    """One unit of work in a session; times are Unix nanoseconds."""

    session_id: str
    span_id: str
    source: str
    start_ns: int
    end_ns: int | None = None
    trace_id: str = ""
    parent_span_id: str = ""
    name: str = ""
    kind: str = ""
    status: str = "unknown"
    experiment_name: str | None = None
    test_case_id: str | None = None
    model_name: str | None = None
    agent_name: str | None = None
    agent_version: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_tokens: int | None = None
    cost_usd: float | None = None
    input: str | None = None
    output: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def is_root(self) -> bool:
        return not self.parent_span_id

    def row(self, workspace: str, version: int) -> dict[str, Any]:
        """The JSONEachRow row of SPAN_COLUMNS; attributes beyond MAX_ATTRIBUTES_BYTES are dropped."""
        attributes = orjson.dumps(self.attributes, default=str).decode()
        if len(attributes) > MAX_ATTRIBUTES_BYTES:
            attributes = orjson.dumps({"truncated": True}).decode()
        return {
            "workspace": workspace,
            "session_id": self.session_id,
            "span_id": self.span_id,
            "trace_id": self.trace_id,
            "parent_span_id": self.parent_span_id,
            "source": self.source,
            "name": self.name,
            "kind": self.kind,
            "start_time": nanosecond_text(self.start_ns),
            "end_time": None if self.end_ns is None else nanosecond_text(self.end_ns),
            "status": self.status,
            "experiment_name": self.experiment_name,
            "test_case_id": self.test_case_id,
            "model_name": self.model_name,
            "agent_name": self.agent_name,
            "agent_version": self.agent_version,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cached_tokens": self.cached_tokens,
            "cost_usd": self.cost_usd,
            "input": self.input,
            "output": self.output,
            "attributes": attributes,
            "version": version,
        }


SPAN_COLUMNS = (
    "workspace LowCardinality(String), session_id String, span_id String, trace_id String, "
    "parent_span_id String, source LowCardinality(String), name String, kind LowCardinality(String), "
    "start_time DateTime64(9, 'UTC'), end_time Nullable(DateTime64(9, 'UTC')), status LowCardinality(String), "
    "experiment_name Nullable(String), test_case_id Nullable(String), model_name Nullable(String), "
    "agent_name Nullable(String), agent_version Nullable(String), input_tokens Nullable(Int64), "
    "output_tokens Nullable(Int64), cached_tokens Nullable(Int64), cost_usd Nullable(Float64), "
    "input Nullable(String), output Nullable(String), attributes String, version UInt64"
)

# A re-sent trajectory replaces its session: once the new spans are in, the earlier ones go
# (a lightweight delete of older versions), so a failure in between loses nothing.
DELETE_OLDER_SESSION_SPANS = """
DELETE FROM spans
WHERE workspace = {workspace:String} AND session_id IN {session_ids:Array(String)} AND version < {version:UInt64}
"""

# The root spans (no parent) of one session, as a chat capture extends its session window.
SESSION_ROOTS = """
SELECT span_id, trace_id, source, toDateTime64(start_time, 6, 'UTC') AS start_time,
       toDateTime64(end_time, 6, 'UTC') AS end_time, experiment_name, test_case_id, input, output
FROM spans FINAL
WHERE workspace = {workspace:String} AND session_id = {session_id:String} AND parent_span_id = ''
ORDER BY start_time, span_id
"""

BINDING_COLUMNS = "workspace LowCardinality(String), session_id String, experiment_id String, version UInt64"
READ_BINDINGS = """
SELECT session_id, experiment_id FROM span_sessions FINAL
WHERE workspace = {workspace:String} AND session_id IN {session_ids:Array(String)}
"""

# One session row per touched session from all its stored spans. The root spans (no parent) give
# status, window, test case, input/output and, first, model and agent; tokens and cost are summed
# over every span; the window is the roots' (earliest start, latest end), else all the spans'.
# experiment_ids[i] is the binding of session_ids[i] ('' = no experiment).
REBUILD_SESSIONS = """
INSERT INTO sessions
    (workspace, experiment_id, session_id, test_case_id, started_at, ended_at, latency_ms, status,
     model_name, agent_name, agent_version, input_tokens, output_tokens, cached_tokens, cost_usd,
     input, output, metadata, scores, version)
SELECT
    {workspace:String},
    {experiment_ids:Array(String)}[indexOf({session_ids:Array(String)}, session_id)],
    session_id,
    argMinIf(test_case_id, start_time, is_root AND test_case_id IS NOT NULL),
    if(countIf(is_root) > 0, minIf(start_time, is_root), min(start_time)) AS started,
    if(countIf(is_root) > 0, maxIf(end_time, is_root), max(end_time)) AS ended,
    if(ended IS NULL, NULL, (toUnixTimestamp64Nano(ended) - toUnixTimestamp64Nano(started)) / 1e6),
    multiIf(countIf(is_root AND status = 'error') > 0, 'error',
            countIf(is_root AND status = 'success') > 0, 'success',
            countIf(is_root AND status = 'cancelled') > 0, 'cancelled', 'unknown'),
    coalesce(argMinIf(model_name, start_time, is_root AND model_name IS NOT NULL),
             argMinIf(model_name, start_time, model_name IS NOT NULL)),
    coalesce(argMinIf(agent_name, start_time, is_root AND agent_name IS NOT NULL),
             argMinIf(agent_name, start_time, agent_name IS NOT NULL)),
    coalesce(argMinIf(agent_version, start_time, is_root AND agent_version IS NOT NULL),
             argMinIf(agent_version, start_time, agent_version IS NOT NULL)),
    sum(input_tokens),
    sum(output_tokens),
    sum(cached_tokens),
    sum(cost_usd),
    argMinIf(input, start_time, is_root AND input IS NOT NULL),
    argMinIf(output, start_time, is_root AND output IS NOT NULL),
    toJSONString(CAST(tuple(arraySort(groupUniqArray(source)), count(),
                            arraySort(groupUniqArrayIf(model_name, model_name IS NOT NULL))),
                      'Tuple(sources Array(String), span_count UInt64, model_names Array(String))')),
    CAST(map(), 'Map(String, Float64)'),
    toUInt64(toUnixTimestamp64Nano(now64(9)))
FROM (
    SELECT *, parent_span_id = '' AS is_root
    FROM spans FINAL
    WHERE workspace = {workspace:String} AND session_id IN {session_ids:Array(String)}
)
GROUP BY session_id
"""

# A session that was bound elsewhere before leaves that experiment.
DELETE_SESSIONS = """
DELETE FROM sessions
WHERE workspace = {workspace:String} AND experiment_id = {experiment_id:String}
  AND session_id IN {session_ids:Array(String)}
"""
