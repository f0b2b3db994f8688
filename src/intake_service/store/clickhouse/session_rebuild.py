"""Sessions rebuilt from all the stored spans of the touched sessions: one read of their spans, the
session rows folded here, one insert (JSONEachRow, as every batch). A session whose stored spans
are only those the request just stored (a new trace, sent whole) is folded from them as they are
in memory; what decides is a count of its stored rows, not a read of them.

One INSERT … SELECT with two dozen aggregate functions did the same, but ClickHouse spent ~15 ms
planning it whatever the number of rows, most of an OTLP request's store time; the plain read
plans in ~3 ms. The fold is the statement's, value for value (tests/store/test_session_rebuild.py
compares the two):
- the root spans (no parent) give the status, the window, the test case, input and output and,
  first, model and agent; tokens and cost are summed over every span (NULL when no span has one);
  the window is the roots' (earliest start, latest end), else all the spans';
- "first" is the earliest start whose value is not NULL, the lowest span id among equal starts;
  sums add in span id order. (The statement took spans in the order FINAL read them, which
  depends on how their parts were merged: a float sum's last bits and the pick among equal
  starts could change with a merge; here they do not.)
- the window is read in nanoseconds and cut to microseconds toward zero, as CAST does; the version
  is the server's clock at the read, as now64() was in the statement.
"""

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import anyio
import orjson

from intake_service.store.clickhouse.executor import AsyncExecutor, Row
from intake_service.store.clickhouse.spans import Span
from intake_service.store.clickhouse.values import microsecond_text

SESSION_SPANS = """
SELECT session_id, parent_span_id = '' AS is_root, source, toUnixTimestamp64Nano(start_time) AS start_ns,
       toUnixTimestamp64Nano(end_time) AS end_ns, if(is_root, status, '') AS root_status,
       if(is_root, test_case_id, NULL) AS root_test_case_id, model_name, agent_name, agent_version,
       input_tokens, output_tokens, cached_tokens, cost_usd,
       if(is_root, input, NULL) AS root_input, if(is_root, output, NULL) AS root_output,
       toUInt64(toUnixTimestamp64Nano(now64(9))) AS version
FROM spans FINAL
WHERE workspace = {workspace:String} AND session_id IN {session_ids:Array(String)}
ORDER BY session_id, span_id
"""

# Rows stored per session (every copy, before FINAL): as many as the request stored, with distinct span
# ids, means no other span of it is stored. The version is taken before the count is read, so a
# concurrent request whose spans it missed rebuilds the session later, with a higher version.
STORED_ROWS = """
SELECT session_id, count() AS stored, toUInt64(toUnixTimestamp64Nano(now64(9))) AS version
FROM spans
WHERE workspace = {workspace:String} AND session_id IN {session_ids:Array(String)}
GROUP BY session_id
"""

_INT64 = 2**64
# A JSON escape: an escaped backslash (kept, so that what follows it is not taken for an escape) or \u00XX.
_ESCAPES = re.compile(r"\\(\\|u00[0-9a-f]{2})")


async def rebuild_rows(
    ch: AsyncExecutor, workspace: str, bindings: Mapping[str, str], stored: Sequence[Span]
) -> list[Row]:
    """The session row of every session of `bindings` that has spans, bound to the experiment id it
    gives ('' = none); `stored`: the spans the caller has just stored."""
    params: dict[str, Any] = {"workspace": workspace, "session_ids": sorted(bindings)}
    rows: list[Row] = []
    if stored:
        counts = await ch.query(STORED_ROWS, params)
        alone = _alone(stored, {row["session_id"]: row["stored"] for row in counts})
        if alone:
            columns = _columns(sorted(alone, key=lambda span: (span.session_id, span.span_id)), counts[0]["version"])
            rows = await anyio.to_thread.run_sync(session_rows, workspace, bindings, columns)
        folded = {span.session_id for span in alone}
        params["session_ids"] = [s for s in params["session_ids"] if s not in folded]
    if params["session_ids"]:
        columns = await ch.query_columns(SESSION_SPANS, params)
        rows += await anyio.to_thread.run_sync(session_rows, workspace, bindings, columns)
    return rows


def _alone(stored: Sequence[Span], counts: Mapping[str, int]) -> list[Span]:
    """The spans of the sessions whose only stored rows are these spans."""
    by_session: dict[str, list[Span]] = {}
    for span in stored:
        by_session.setdefault(span.session_id, []).append(span)
    return [
        span
        for session_id, spans in by_session.items()
        if counts.get(session_id) == len(spans) == len({span.span_id for span in spans})
        for span in spans
    ]


def _columns(spans: Sequence[Span], version: int) -> dict[str, list[Any]]:
    """SESSION_SPANS' answer for these spans, in its order."""
    roots = [span.is_root for span in spans]
    return {
        "session_id": [span.session_id for span in spans],
        "is_root": roots,
        "source": [span.source for span in spans],
        "start_ns": [span.start_ns for span in spans],
        "end_ns": [span.end_ns for span in spans],
        "root_status": [span.status if root else "" for span, root in zip(spans, roots, strict=True)],
        "root_test_case_id": [span.test_case_id if root else None for span, root in zip(spans, roots, strict=True)],
        "model_name": [span.model_name for span in spans],
        "agent_name": [span.agent_name for span in spans],
        "agent_version": [span.agent_version for span in spans],
        "input_tokens": [span.input_tokens for span in spans],
        "output_tokens": [span.output_tokens for span in spans],
        "cached_tokens": [span.cached_tokens for span in spans],
        "cost_usd": [span.cost_usd for span in spans],
        "root_input": [span.input if root else None for span, root in zip(spans, roots, strict=True)],
        "root_output": [span.output if root else None for span, root in zip(spans, roots, strict=True)],
        "version": [version] * len(spans),
    }


def session_rows(workspace: str, bindings: Mapping[str, str], columns: Mapping[str, list[Any]]) -> list[Row]:
    """The sessions table's row of every session in `columns` (SESSION_SPANS' answer), bound to the
    experiment id `bindings` gives it ('' = none)."""
    ordered = columns["session_id"]
    return [
        _session(workspace, bindings[session_id], columns, list(spans))
        for session_id, spans in itertools.groupby(range(len(ordered)), key=ordered.__getitem__)
    ]


def _session(workspace: str, experiment_id: str, columns: Mapping[str, list[Any]], spans: list[int]) -> Row:
    starts, ends, is_root = columns["start_ns"], columns["end_ns"], columns["is_root"]
    roots = [i for i in spans if is_root[i]]
    window = roots or spans
    started = min(starts[i] for i in window)
    ended = max((ends[i] for i in window if ends[i] is not None), default=None)
    statuses = {columns["root_status"][i] for i in roots}
    models = columns["model_name"]
    return {
        "workspace": workspace,
        "experiment_id": experiment_id,
        "session_id": columns["session_id"][spans[0]],
        "test_case_id": _first(columns["root_test_case_id"], starts, roots),
        "started_at": microsecond_text(started),
        "ended_at": None if ended is None else microsecond_text(ended),
        "latency_ms": None if ended is None else (ended - started) / 1e6,
        "status": next((s for s in ("error", "success", "cancelled") if s in statuses), "unknown"),
        "model_name": _root_first(models, starts, roots, spans),
        "agent_name": _root_first(columns["agent_name"], starts, roots, spans),
        "agent_version": _root_first(columns["agent_version"], starts, roots, spans),
        "input_tokens": _int_sum(columns["input_tokens"], spans),
        "output_tokens": _int_sum(columns["output_tokens"], spans),
        "cached_tokens": _int_sum(columns["cached_tokens"], spans),
        "cost_usd": _float_sum(columns["cost_usd"], spans),
        "input": _first(columns["root_input"], starts, roots),
        "output": _first(columns["root_output"], starts, roots),
        "metadata": _metadata(
            sorted({columns["source"][i] for i in spans}),
            len(spans),
            sorted({models[i] for i in spans if models[i] is not None}),
        ),
        "scores": {},
        "version": columns["version"][spans[0]],
    }


def _first(values: Sequence[Any], starts: Sequence[int], spans: Iterable[int]) -> Any:
    """The value of the earliest span (the first met among equal starts) that has one, else None."""
    found, earliest = None, None
    for i in spans:
        if values[i] is not None and (earliest is None or starts[i] < earliest):
            found, earliest = values[i], starts[i]
    return found


def _root_first(values: Sequence[Any], starts: Sequence[int], roots: list[int], spans: list[int]) -> Any:
    found = _first(values, starts, roots)
    return _first(values, starts, spans) if found is None else found


def _int_sum(values: Sequence[int | None], spans: Iterable[int]) -> int | None:
    present = [value for i in spans if (value := values[i]) is not None]
    if not present:
        return None
    total = sum(present) % _INT64  # Int64 arithmetic wraps, as sum() of an Int64 column does
    return total - _INT64 if total >= 2**63 else total


def _float_sum(values: Sequence[float | None], spans: Iterable[int]) -> float | None:
    total: float | None = None
    for i in spans:
        if (value := values[i]) is not None:
            total = value if total is None else total + value  # in order, one addition at a time
    return total


def _metadata(sources: list[str], span_count: int, model_names: list[str]) -> str:
    """The JSON toJSONString wrote: orjson's, with '/' and the JavaScript line separators escaped and
    upper-case hex in \\u escapes."""
    text = orjson.dumps({"sources": sources, "span_count": span_count, "model_names": model_names}).decode()
    text = _ESCAPES.sub(lambda m: m.group(0) if m.group(1) == "\\" else m.group(0).upper().replace("U", "u"), text)
    return text.replace("/", "\\/").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
