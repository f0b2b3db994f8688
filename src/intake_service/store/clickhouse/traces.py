"""Trace reads: a trace is the spans sharing a trace id, listed when its root span (no parent) is stored.

Root fields (name, status, window, tags, input/output, agent) come from the earliest root; tokens, cost
and counts are summed over every span of the trace, and its models and providers are those any span names.
"""

from collections.abc import Mapping
from typing import Any

from intake_service.store.clickhouse.evaluation_rollups import of_present, ordered_mean, ordered_sum
from intake_service.store.clickhouse.executor import AsyncExecutor, Row
from intake_service.store.clickhouse.paged import read_page
from intake_service.store.clickhouse.spans import SPAN_KINDS, SPAN_VIEW

_TRACE_ROWS = f"""
SELECT id, root.1 AS root_span_id, root.2 AS session_id, root.3 AS name, root.4 AS status,
       root.5 AS started_at, root.6 AS ended_at, root.7 AS evaluation_id, root.8 AS test_case_id,
       root.9 AS input, root.10 AS output, root.11 AS agent_name, root.12 AS agent_version,
       if(root.6 IS NULL, NULL, (toUnixTimestamp64Micro(root.6) - toUnixTimestamp64Micro(root.5)) / 1e3)
           AS duration_ms,
       sum_input AS input_tokens, sum_output AS output_tokens, sum_cached AS cached_tokens,
       sum_total AS total_tokens, sum_cost AS cost_usd, span_count, error_count, models, providers
FROM (
    SELECT tid AS id,
           argMinIf(tuple(span_id, session_id, name, status, started_at, ended_at, experiment_name, test_case_id,
                          input, output, agent_name, agent_version),
                    tuple(start_time, span_id), parent_span_id = '') AS root,
           sum(input_tokens) AS sum_input,
           sum(output_tokens) AS sum_output,
           sum(cached_tokens) AS sum_cached,
           if(countIf(input_tokens IS NOT NULL OR output_tokens IS NOT NULL) = 0, NULL,
              sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0))) AS sum_total,
           {of_present(ordered_sum, "cost_usd")} AS sum_cost,
           count() AS span_count,
           countIf(status = 'error') AS error_count,
           arraySort(groupUniqArrayIf(assumeNotNull(model_name), notEmpty(ifNull(model_name, '')))) AS models,
           arraySort(groupUniqArrayIf(assumeNotNull(provider), notEmpty(ifNull(provider, '')))) AS providers
    FROM ({SPAN_VIEW})
    WHERE empty({{ids:Array(String)}}) OR tid IN {{ids:Array(String)}}
    GROUP BY tid
    HAVING countIf(parent_span_id = '') > 0
)
"""

# Filters on the root's fields; every one a typed parameter, NULL meaning "not filtered".
_TRACE_WHERE = """
    ({session_id:Nullable(String)} IS NULL OR session_id = {session_id:Nullable(String)})
    AND ({status:Nullable(String)} IS NULL OR status = {status:Nullable(String)})
    AND ({evaluation_id:Nullable(String)} IS NULL OR evaluation_id = {evaluation_id:Nullable(String)})
    AND ({test_case_id:Nullable(String)} IS NULL OR test_case_id = {test_case_id:Nullable(String)})
    AND ({agent_name:Nullable(String)} IS NULL OR agent_name = {agent_name:Nullable(String)})
    AND ({started_gte:Nullable(DateTime64(6, 'UTC'))} IS NULL
         OR started_at >= {started_gte:Nullable(DateTime64(6, 'UTC'))})
    AND ({started_lte:Nullable(DateTime64(6, 'UTC'))} IS NULL
         OR started_at <= {started_lte:Nullable(DateTime64(6, 'UTC'))})
"""
TRACE_FILTER_PARAMS = (
    "ids", "session_id", "status", "evaluation_id", "test_case_id", "agent_name", "started_gte", "started_lte"
)

COUNT_TRACES = f"SELECT count() AS total FROM ({_TRACE_ROWS}) WHERE {_TRACE_WHERE}"
_LIST_TRACES = f"""
SELECT * FROM ({_TRACE_ROWS}) WHERE {_TRACE_WHERE}
ORDER BY started_at {{direction}}, id
LIMIT {{limit:UInt32}} OFFSET {{offset:UInt64}}
"""

# GET /traces/metrics (NeMo 0.4.0): the traces the filter selects, grouped by the start of their root
# in the requested time zone (weeks start on Monday); `total` puts them all in one group. Sums and
# means over the traces that have the value; quantiles as NeMo takes them (ClickHouse `quantiles`).
BUCKETS = {
    "total": "toDateTime(0)",
    "hour": "toStartOfHour(started_at, {timezone:String})",
    "day": "toStartOfDay(started_at, {timezone:String})",
    "week": "toDateTime(toStartOfWeek(started_at, 1, {timezone:String}), {timezone:String})",
    "month": "toDateTime(toStartOfMonth(started_at, {timezone:String}), {timezone:String})",
}
SUMMED = ("input_tokens", "output_tokens", "cached_tokens", "total_tokens", "cost_usd")
# Sums and means add in sorted order (evaluation_rollups.ordered_sum): one answer for one set of traces.
_SUMMED_COLUMNS = ",\n       ".join(
    f"{of_present(ordered_sum, c)} AS {c}_sum, {of_present(ordered_mean, c)} AS {c}_mean, "
    f"quantiles(0.9, 0.99)({c}) AS {c}_quantiles"
    for c in SUMMED
)
_TRACE_METRICS = f"""
SELECT toUnixTimestamp({{bucket}}) AS bucket_epoch, count() AS run_count, countIf(status = 'error') AS failed_run_count,
       {_SUMMED_COLUMNS},
       {of_present(ordered_mean, "duration_ms")} AS latency_ms_mean,
       quantiles(0.5, 0.9, 0.95, 0.99)(duration_ms) AS latency_ms_quantiles
FROM ({_TRACE_ROWS}) WHERE {_TRACE_WHERE}
GROUP BY bucket_epoch ORDER BY bucket_epoch
"""


def list_traces_sql(descending: bool) -> str:
    return _LIST_TRACES.replace("{direction}", "DESC" if descending else "ASC")


class TraceReads:
    def __init__(self, ch: AsyncExecutor) -> None:
        self._ch = ch

    def _params(self, workspace: str, filters: Mapping[str, Any]) -> dict[str, Any]:
        params = {"workspace": workspace, "kinds": list(SPAN_KINDS), **{k: filters.get(k) for k in TRACE_FILTER_PARAMS}}
        params["ids"] = params["ids"] or []
        return params

    async def page(
        self, workspace: str, filters: Mapping[str, Any], *, descending: bool, limit: int, offset: int
    ) -> tuple[list[Row], int]:
        params = self._params(workspace, filters)
        return await read_page(self._ch, COUNT_TRACES, list_traces_sql(descending), params, limit=limit, offset=offset)

    async def get(self, workspace: str, trace_id: str) -> Row | None:
        rows = await self._ch.query(
            list_traces_sql(False),
            {
                **self._params(workspace, {"ids": [trace_id]}),
                "limit": 1,
                "offset": 0,
            },
        )
        return rows[0] if rows else None

    async def metrics(self, workspace: str, filters: Mapping[str, Any], bucket: str, timezone: str) -> list[Row]:
        """One row per bucket (BUCKETS) holding traces, oldest first; `bucket_epoch` its Unix start."""
        sql = _TRACE_METRICS.replace("{bucket}", BUCKETS[bucket])
        return await self._ch.query(sql, {**self._params(workspace, filters), "timezone": timezone})
