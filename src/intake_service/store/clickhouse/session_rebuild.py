"""Sessions rebuilt from all the stored spans of the touched sessions: one read of their spans, the
session rows folded here, one insert (JSONEachRow, as every batch).

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
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from intake_service.store.clickhouse.executor import Row
from intake_service.store.clickhouse.values import datetime_text

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

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_INT64 = 2**64
# A JSON escape: an escaped backslash (kept, so that what follows it is not taken for an escape) or \u00XX.
_ESCAPES = re.compile(r"\\(\\|u00[0-9a-f]{2})")


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
        "started_at": _microsecond_text(started),
        "ended_at": None if ended is None else _microsecond_text(ended),
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


def _microsecond_text(ns: int) -> str:
    microseconds = ns // 1000 if ns >= 0 else -(-ns // 1000)
    return datetime_text(_EPOCH + timedelta(microseconds=microseconds))


def _metadata(sources: list[str], span_count: int, model_names: list[str]) -> str:
    """The JSON toJSONString wrote: orjson's, with '/' and the JavaScript line separators escaped and
    upper-case hex in \\u escapes."""
    text = orjson.dumps({"sources": sources, "span_count": span_count, "model_names": model_names}).decode()
    text = _ESCAPES.sub(lambda m: m.group(0) if m.group(1) == "\\" else m.group(0).upper().replace("U", "u"), text)
    return text.replace("/", "\\/").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
