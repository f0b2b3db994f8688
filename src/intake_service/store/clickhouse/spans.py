"""Spans in ClickHouse: the span every ingest format normalises to and the row it becomes; the SQL
that stores spans and binds their sessions (session_rebuild.py rebuilds the sessions from them).

Constant texts with typed parameters only; span batches go in through Executor.insert_rows. The
reads (SpanReads) serve GET /spans, /spans/groups, /spans/{span_id} and its evaluator results, and
GET /sessions/{id}.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from intake_service.store.clickhouse.evaluator_results import SPAN_RESULTS
from intake_service.store.clickhouse.executor import AsyncExecutor, Row
from intake_service.store.clickhouse.paged import read_page
from intake_service.store.clickhouse.sessions import SESSION_DETAIL
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
        """The JSONEachRow row of the spans table; attributes beyond MAX_ATTRIBUTES_BYTES are dropped."""
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


def binding_rows(workspace: str, bindings: Mapping[str, str], version: int) -> list[Row]:
    """The span_sessions rows binding each session id to its experiment id ('' = none)."""
    return [
        {"workspace": workspace, "session_id": s, "experiment_id": e, "version": version} for s, e in bindings.items()
    ]


READ_BINDINGS = """
SELECT session_id, experiment_id FROM span_sessions FINAL
WHERE workspace = {workspace:String} AND session_id IN {session_ids:Array(String)}
"""

# A session that was bound elsewhere before leaves that experiment.
DELETE_SESSIONS = """
DELETE FROM sessions
WHERE workspace = {workspace:String} AND experiment_id = {experiment_id:String}
  AND session_id IN {session_ids:Array(String)}
"""


# --- reads: GET /spans, /spans/groups, /spans/{span_id} ---------------------------------------------

# ATIF and chat spans carry no trace id of their own: their session is their trace (as in NeMo).
# Sources read as NeMo names them (otel, atif, chat_completions).
# Kinds are stored as each format names them; reads answer NeMo's upper-case kinds, an OTLP span's
# from its OpenInference kind when it has one (its OTLP kind, client or server, says less).
SPAN_KINDS = (
    "LLM",
    "CHAIN",
    "TOOL",
    "RETRIEVER",
    "EMBEDDING",
    "AGENT",
    "RERANKER",
    "EVALUATOR",
    "GUARDRAIL",
    "UNKNOWN",
)
# A span's inference provider, from the first of these attributes that names one (as NeMo reads it).
PROVIDER_KEYS = ("gen_ai.system", "gen_ai.provider.name", "llm.provider", "llm.system")
SPAN_VIEW = """
SELECT span_id, session_id, if(trace_id = '', session_id, trace_id) AS tid, parent_span_id, name,
       transform(source, ['otlp', 'chat'], ['otel', 'chat_completions'], source) AS span_source,
       upper(if(JSONHas(attributes, 'openinference.span.kind'),
                JSONExtractString(attributes, 'openinference.span.kind'), kind)) AS upper_kind,
       if(upper_kind IN {kinds:Array(String)}, upper_kind, 'UNKNOWN') AS span_kind,
       toDateTime64(start_time, 6, 'UTC') AS started_at, toDateTime64(end_time, 6, 'UTC') AS ended_at,
       start_time, status, experiment_name, test_case_id, model_name, agent_name, agent_version,
       nullIf(arrayFirst(p -> p != '', [{PROVIDER_VALUES}]), '') AS provider,
       input_tokens, output_tokens, cached_tokens, cost_usd, input, output, attributes,
       toDateTime64(fromUnixTimestamp64Nano(toInt64(version)), 6, 'UTC') AS ingested_at
FROM spans FINAL
WHERE workspace = {workspace:String}
""".replace("{PROVIDER_VALUES}", ", ".join(f"JSONExtractString(attributes, '{k}')" for k in PROVIDER_KEYS))

# Every filter is a typed parameter; NULL means "not filtered".
SPAN_WHERE = """
    ({session_id:Nullable(String)} IS NULL OR session_id = {session_id:Nullable(String)})
    AND ({trace_id:Nullable(String)} IS NULL OR tid = {trace_id:Nullable(String)})
    AND ({parent_span_id:Nullable(String)} IS NULL OR parent_span_id = {parent_span_id:Nullable(String)})
    AND ({evaluation_id:Nullable(String)} IS NULL OR experiment_name = {evaluation_id:Nullable(String)})
    AND ({test_case_id:Nullable(String)} IS NULL OR test_case_id = {test_case_id:Nullable(String)})
    AND ({source:Nullable(String)} IS NULL OR span_source = {source:Nullable(String)})
    AND ({kind:Nullable(String)} IS NULL OR span_kind = {kind:Nullable(String)})
    AND ({status:Nullable(String)} IS NULL OR status = {status:Nullable(String)})
    AND ({model:Nullable(String)} IS NULL OR model_name = {model:Nullable(String)})
    AND ({agent_name:Nullable(String)} IS NULL OR agent_name = {agent_name:Nullable(String)})
    AND ({provider:Nullable(String)} IS NULL OR provider = {provider:Nullable(String)})
    AND ({started_gte:Nullable(DateTime64(6, 'UTC'))} IS NULL
         OR start_time >= {started_gte:Nullable(DateTime64(6, 'UTC'))})
    AND ({started_lte:Nullable(DateTime64(6, 'UTC'))} IS NULL
         OR start_time <= {started_lte:Nullable(DateTime64(6, 'UTC'))})
"""
SPAN_FILTER_PARAMS = (
    "session_id",
    "trace_id",
    "parent_span_id",
    "evaluation_id",
    "test_case_id",
    "source",
    "kind",
    "status",
    "model",
    "agent_name",
    "provider",
    "started_gte",
    "started_lte",
)
COUNT_SPANS = f"SELECT count() AS total FROM ({SPAN_VIEW}) WHERE {SPAN_WHERE}"
_LIST_SPANS = f"""
SELECT * EXCEPT (start_time) FROM ({SPAN_VIEW}) WHERE {SPAN_WHERE}
ORDER BY start_time {{direction}}, session_id, span_id
LIMIT {{limit:UInt32}} OFFSET {{offset:UInt64}}
"""
# A span id is the producer's, unique within its trace only: the earliest span with it answers.
GET_SPAN = f"""
SELECT * EXCEPT (start_time) FROM ({SPAN_VIEW}) WHERE span_id = {{span_id:String}}
ORDER BY start_time, session_id LIMIT 1
"""

# group-by field → view column; group keys come from this whitelist only.
GROUP_COLUMNS = {"trace_id": "tid", "session_id": "session_id"}
# group sort key → its column; the group starts with its earliest matching span.
GROUP_SORTS = {"span_count": "span_count", "started_at": "started_at"}
_COUNT_GROUPS = f"SELECT count() AS total FROM (SELECT 1 FROM ({SPAN_VIEW}) WHERE {SPAN_WHERE} GROUP BY {{keys}})"
_LIST_GROUPS = f"""
SELECT {{keys}}, count() AS span_count, toDateTime64(min(start_time), 6, 'UTC') AS started_at
FROM ({SPAN_VIEW}) WHERE {SPAN_WHERE}
GROUP BY {{keys}}
ORDER BY {{sort}} {{direction}}, {{keys}}
LIMIT {{limit:UInt32}} OFFSET {{offset:UInt64}}
"""


def list_spans_sql(descending: bool) -> str:
    return _LIST_SPANS.replace("{direction}", "DESC" if descending else "ASC")


def group_sql(fields: Sequence[str], sort: str, descending: bool) -> tuple[str, str]:
    """(count, page) statements grouping by `fields` (each a key of GROUP_COLUMNS), the page sorted
    by `sort` (a key of GROUP_SORTS)."""
    keys = ", ".join(GROUP_COLUMNS[f] for f in fields)
    page = _LIST_GROUPS.replace("{keys}", keys).replace("{direction}", "DESC" if descending else "ASC")
    page = page.replace("{sort}", GROUP_SORTS[sort])
    return _COUNT_GROUPS.replace("{keys}", keys), page


class SpanReads:
    def __init__(self, ch: AsyncExecutor) -> None:
        self._ch = ch

    @staticmethod
    def _params(workspace: str, filters: Mapping[str, Any]) -> dict[str, Any]:
        return {"workspace": workspace, "kinds": list(SPAN_KINDS), **{k: filters.get(k) for k in SPAN_FILTER_PARAMS}}

    async def page(
        self, workspace: str, filters: Mapping[str, Any], *, descending: bool, limit: int, offset: int
    ) -> tuple[list[Row], int]:
        params = self._params(workspace, filters)
        return await read_page(self._ch, COUNT_SPANS, list_spans_sql(descending), params, limit=limit, offset=offset)

    async def groups(
        self,
        workspace: str,
        filters: Mapping[str, Any],
        by: Sequence[str],
        *,
        sort: str,
        descending: bool,
        limit: int,
        offset: int,
    ) -> tuple[list[Row], int]:
        count_sql, page_sql = group_sql(by, sort, descending)
        params = self._params(workspace, filters)
        return await read_page(self._ch, count_sql, page_sql, params, limit=limit, offset=offset)

    async def get(self, workspace: str, span_id: str) -> Row | None:
        rows = await self._ch.query(GET_SPAN, {**self._params(workspace, {}), "span_id": span_id})
        return rows[0] if rows else None

    async def session(self, workspace: str, session_id: str) -> Row | None:
        """The aggregate of one session over its spans, or None when it has none."""
        rows = await self._ch.query(SESSION_DETAIL, {"workspace": workspace, "session_id": session_id})
        return rows[0] if rows else None

    async def evaluator_results(self, workspace: str, span_id: str) -> list[Row]:
        return await self._ch.query(SPAN_RESULTS, {"workspace": workspace, "span_id": span_id})
