"""Rollups in ClickHouse: the SQL of `experiment_rollups` (recompute, reset, the computing SELECT
whose rows stale_rollups.py and repair.py store) and its reads, generated from the metric
registry (domain/rollup_metrics.py).

Statistics are exact: quantileExactInclusive interpolates linearly between closest ranks, the
numbers numpy.percentile gives by default. A session's value for an evaluator is the mean of its
numeric/boolean values for it, from its own `scores` and from evaluator results alike. FINAL makes
every read correct before background merges have collapsed replaced rows. The texts are built once,
at import, from the registry; values always travel as parameters.
"""

import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import orjson

from intake_service.domain.rollup_metrics import LABELS, METRIC_BY_NAME, METRICS, RollupMetric, RollupPath
from intake_service.store.clickhouse.executor import Executor, clean_value
from intake_service.store.clickhouse.presence import ANY_ROW

BATCH = 500
QUANTILES = {"median": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99}
# stat → its aggregate over plain values, and over Map values (per key)
AGGREGATES = {
    "sum": ("sum({v})", "sumMap({v})"),
    "mean": ("avg({v})", "avgMap({v})"),
    "count": ("count({v})", "sumMap(mapApply((k, x) -> (k, toUInt64(1)), {v}))"),
}
QUANTILES_AGGREGATE = ("quantilesExactInclusive({levels})({v})", "quantilesExactInclusiveMap({levels})({v})")
LABEL_COLUMNS = tuple(f"{label}s" for label in LABELS)
ROLLUP_COLUMNS = (*(metric.column for metric in METRICS), *LABEL_COLUMNS)
# One session's value of each metric, and its labels, each named: every SELECT below that feeds the
# rollups lists them in this order, the two sides of the UNION ALL included.
SESSION_VALUES = (*(metric.name for metric in METRICS), *LABELS)


def _aggregates(metric: RollupMetric) -> tuple[list[str], str]:
    """The aggregates over an experiment's sessions that `metric` needs, and the expression that
    assembles them into its stored value. One sort serves all the quantiles of a metric."""
    v, column = metric.name, metric.column
    if not metric.stats:
        return [f"{metric.aggregate}({v}) AS {column}"], column
    form, at = (1, "[k]") if metric.per_key else (0, "")
    quantiles = [stat for stat in metric.stats if stat in QUANTILES]
    aggregates, elements = [], []
    if quantiles:
        levels = ", ".join(str(QUANTILES[stat]) for stat in quantiles)
        aggregates.append(QUANTILES_AGGREGATE[form].format(levels=levels, v=v) + f" AS {column}_q")
    for stat in metric.stats:
        if stat in QUANTILES:
            elements.append(f"{column}_q{at}[{quantiles.index(stat) + 1}]")
        else:
            aggregates.append(AGGREGATES[stat][form].format(v=v) + f" AS {column}_{stat}")
            elements.append(f"{column}_{stat}{at}")
    value = f"tuple({', '.join(elements)})"
    if metric.per_key:
        value = f"mapFromArrays(mapKeys({column}_count), arrayMap(k -> {value}, mapKeys({column}_count)))"
    return aggregates, value


_SCOPED = f"""
        SELECT experiment_id, session_id, {", ".join(f"{m.source} AS {m.name}" for m in METRICS)},
            {", ".join(LABELS)}
        FROM sessions FINAL
        WHERE workspace = {{workspace:String}} AND experiment_id IN {{experiment_ids:Array(String)}}"""
_SESSIONS = f"SELECT experiment_id, session_id, {', '.join(SESSION_VALUES)} FROM scoped"

# Sessions whose scores also take in evaluator results: a session's value for an evaluator is the
# mean of all its values for it (avgMap averages each key over the rows that hold it).
_RESULT_VALUES = [f"map(r.name, r.value) AS {m.name}" if m.per_key else f"NULL AS {m.name}" for m in METRICS]
_SESSION_MERGE = [f"avgMap({m.name}) AS {m.name}" if m.per_key else f"any({m.name}) AS {m.name}" for m in METRICS]
_SESSIONS_WITH_RESULTS = f"""
        SELECT experiment_id, session_id, {", ".join(_SESSION_MERGE)},
            {", ".join(f"any({label}) AS {label}" for label in LABELS)}
        FROM (
            {_SESSIONS}
            UNION ALL
            SELECT s.experiment_id AS experiment_id, r.session_id AS session_id, {", ".join(_RESULT_VALUES)},
                {", ".join(f"NULL AS {label}" for label in LABELS)}
            FROM (
                SELECT session_id, name, assumeNotNull(value) AS value, experiment_id
                FROM evaluator_results FINAL
                WHERE workspace = {{workspace:String}}
                  AND session_id IN (SELECT session_id FROM scoped)
                  AND data_type IN ('NUMERIC', 'BOOLEAN') AND value IS NOT NULL
            ) AS r
            INNER JOIN scoped AS s ON s.session_id = r.session_id
            WHERE r.experiment_id = '' OR r.experiment_id = s.experiment_id
        )
        GROUP BY experiment_id, session_id"""


def _rollups_select(source: str) -> str:
    """One scan over the experiments' sessions; -Map combinators give per-evaluator statistics."""
    parts = [_aggregates(metric) for metric in METRICS]
    values = [f"{value} AS {metric.column}" for metric, (_, value) in zip(METRICS, parts, strict=True)]
    return f"""
WITH scoped AS ({_SCOPED})
SELECT workspace, experiment_id, {", ".join(values)}, {", ".join(LABEL_COLUMNS)}, now64(9) AS computed_at
FROM ({_aggregates_select(source)})
"""


def _aggregates_select(source: str, *more: str) -> str:
    """Each experiment's aggregates (which `_aggregates` assembles into its stored values), its labels
    and `more` columns, from `scoped`."""
    aggregates = [aggregate for metric in METRICS for aggregate in _aggregates(metric)[0]]
    labels = [f"arraySort(groupUniqArrayIf({label}, {label} != '')) AS {label}s" for label in LABELS]
    return f"""
    SELECT {{workspace:String}} AS workspace, experiment_id, {", ".join([*aggregates, *labels, *more])}
    FROM ({source})
    GROUP BY experiment_id
"""


def _recompute(source: str) -> str:
    columns = f"workspace, experiment_id, {', '.join(ROLLUP_COLUMNS)}, computed_at"
    return f"\nINSERT INTO experiment_rollups ({columns}){_rollups_select(source)}"


# Two texts, chosen by whether the workspace has any evaluator results: most ingests carry their
# scores inline, and skipping the join with evaluator_results halves the cost of a recompute.
RECOMPUTE_ROLLUPS = _recompute(_SESSIONS)
RECOMPUTE_ROLLUPS_WITH_RESULTS = _recompute(_SESSIONS_WITH_RESULTS)
HAS_EVALUATOR_RESULTS = ANY_ROW.format(table="evaluator_results")


def computing_sql(with_results: bool) -> str:
    """The aggregates of {experiment_ids} that have sessions, read instead of stored: `computed_row`
    assembles each into its row as a read of the stored row returns it (see stale_rollups.py), where
    a statement that assembled them cost a third more (~3.5 ms, planning its casts and lambdas).
    On one thread: in the embedded chDB it runs on the cores the requests share, where handing a
    scan of some thousand sessions between threads cost more CPU than it saved (a third at 50
    experiments: bench/load.py's 16,000 sessions, 23 → 15.5 ms)."""
    computed_at = "toString(now64(9, 'UTC')) AS computed_at"  # as a read of the stored row returns it
    source = _SESSIONS_WITH_RESULTS if with_results else _SESSIONS
    return f"WITH scoped AS ({_SCOPED}){_aggregates_select(source, computed_at)}SETTINGS max_threads = 1\n"


def computed_row(aggregates: Mapping[str, Any]) -> dict[str, Any]:
    """A row of `computing_sql` as a read of the stored row returns it (before clean_value): each
    metric's value assembled from its aggregates as `_aggregates`' expression does in SQL, where a
    key missing from a Map and an index past an Array's end give their type's default."""
    row = {name: aggregates[name] for name in ("workspace", "experiment_id")}
    for metric in METRICS:
        column = metric.column
        if not metric.stats:
            row[column] = aggregates[column]
        elif not metric.per_key:
            row[column] = _assembled(metric, aggregates.__getitem__)
        else:
            maps = {name: dict(value or []) for name, value in aggregates.items() if name.startswith(f"{column}_")}
            keys = [key for key, _ in aggregates[f"{column}_count"] or []]
            row[column] = [(key, _assembled(metric, _of_key(maps, key))) for key in keys]
    for name in (*LABEL_COLUMNS, "computed_at"):
        row[name] = aggregates[name]
    return row


def _of_key(maps: dict[str, dict[str, Any]], key: str) -> Callable[[str], Any]:
    """name → `name[key]` of these Maps; a missing key gives the default of the Map's value type."""

    def value(name: str) -> Any:
        return maps[name].get(key, [] if name.endswith("_q") else 0 if name.endswith("_count") else 0.0)

    return value


def _assembled(metric: RollupMetric, aggregate: Callable[[str], Any]) -> dict[str, Any]:
    """tuple(...) of `_aggregates` as a named tuple reads: each stat from its aggregate."""
    quantiles = [stat for stat in metric.stats if stat in QUANTILES]
    levels = aggregate(f"{metric.column}_q") if quantiles else []
    value = {}
    for stat in metric.stats:
        if stat in QUANTILES:
            at = quantiles.index(stat)
            value[stat] = levels[at] if at < len(levels) else 0.0
        else:
            value[stat] = aggregate(f"{metric.column}_{stat}")
    return value


# An experiment that lost its last session gets the row of "no sessions": every column's default
# (a recompute writes rows only for experiments that have sessions).
RESET_EMPTY_ROLLUPS = """
INSERT INTO experiment_rollups (workspace, experiment_id, computed_at)
SELECT {workspace:String}, experiment_id, now64(9)
FROM (SELECT arrayJoin({experiment_ids:Array(String)}) AS experiment_id)
WHERE experiment_id NOT IN (
    SELECT experiment_id FROM sessions FINAL
    WHERE workspace = {workspace:String} AND experiment_id IN {experiment_ids:Array(String)}
)
"""

READ_ROLLUPS = f"""
SELECT experiment_id, {", ".join(ROLLUP_COLUMNS)}
FROM experiment_rollups FINAL
WHERE workspace = {{workspace:String}} AND experiment_id IN {{experiment_ids:Array(String)}}
"""


def recompute(executor: Executor, workspace: str, experiment_ids: list[str]) -> None:
    """Rewrite the rollup rows of these experiments from their sessions. One that has no sessions
    keeps its row: `reset_empty` is for experiments that may have lost their last one."""
    if not experiment_ids:
        return
    sql = RECOMPUTE_ROLLUPS_WITH_RESULTS if has_evaluator_results(executor, workspace) else RECOMPUTE_ROLLUPS
    executor.command(sql, {"workspace": workspace, "experiment_ids": experiment_ids})


def has_evaluator_results(executor: Executor, workspace: str) -> bool:
    """Whether the workspace has any evaluator results, asked now (the statements joining them cost twice)."""
    return bool(executor.query(HAS_EVALUATOR_RESULTS, {"workspace": workspace})[0]["n"])


def reset_empty(executor: Executor, workspace: str, experiment_ids: list[str]) -> None:
    """Give the experiments among these that have no sessions left the rollups of none."""
    if experiment_ids:
        executor.command(RESET_EMPTY_ROLLUPS, {"workspace": workspace, "experiment_ids": experiment_ids})


def computed_rows(
    executor: Executor, workspace: str, experiment_ids: list[str], with_results: bool
) -> Iterator[tuple[dict[str, Any], bytes]]:
    """The rows of these experiments that have sessions, computed (`computing_sql`): each as a read
    of the stored row returns it (its values cleaned) and as JSONEachRow stores it."""
    sql = computing_sql(with_results)
    for start in range(0, len(experiment_ids), BATCH):
        params = {"workspace": workspace, "experiment_ids": experiment_ids[start : start + BATCH]}
        columns = executor.query_columns(sql, params)
        for values in zip(*columns.values(), strict=True):
            raw = computed_row(dict(zip(columns, values, strict=True)))
            stored = stored_row({name: json_ready(value) for name, value in raw.items()})
            yield {name: clean_value(value) for name, value in raw.items()}, orjson.dumps(stored)


def _metric_values_sql(metric: RollupMetric, some: bool) -> str:
    """The metric's value per experiment that has one (`some`: of the experiments given); the key and
    the stat travel as parameters."""
    column = metric.column
    if not metric.stats:
        value, having = f"toFloat64({column})", ""
    elif metric.per_key:
        value = f"toFloat64(tupleElement({column}[{{key:String}}], {{stat:String}}))"
        having = f"AND mapContains({column}, {{key:String}})"
    else:
        value = f"toNullable(toFloat64(tupleElement({column}, {{stat:String}})))"
        having = f"AND {column}.count > 0"
    if some:
        having += " AND experiment_id IN {experiment_ids:Array(String)}"
    return f"""
        SELECT experiment_id, {value} AS value
        FROM experiment_rollups FINAL WHERE workspace = {{workspace:String}} {having}
        ORDER BY value"""


METRIC_VALUES = {metric.name: _metric_values_sql(metric, some=False) for metric in METRICS}
METRIC_VALUES_OF = {metric.name: _metric_values_sql(metric, some=True) for metric in METRICS}


def metric_query(path: RollupPath, experiment_ids: list[str] | None = None) -> tuple[str, dict[str, Any]]:
    """The metric's values for every experiment of the workspace, or for `experiment_ids` only."""
    params = {"stat": path.stat, "key": path.key, "experiment_ids": experiment_ids}
    sql = METRIC_VALUES if experiment_ids is None else METRIC_VALUES_OF
    return sql[path.metric], {name: value for name, value in params.items() if value is not None}


def metric_value(path: RollupPath, rollups: dict[str, Any]) -> float | None:
    """The value METRIC_VALUES reads for the path from the row that `to_rollups` made these rollups of
    (None where it reads none): a column is patched from rows in memory as from the table."""
    metric = METRIC_BY_NAME[path.metric]
    value = rollups[metric.response_field]
    if not metric.stats:
        return float(value)
    stats = value.get(path.key) if metric.per_key else value
    return None if stats is None or stats[path.stat] is None else float(stats[path.stat])


@dataclass(frozen=True)
class MetricColumn:
    """A rollup metric's value for every experiment of a workspace that has one, in ascending order
    of value (ties in no particular order): a sort's first rows are a slice, not a sort."""

    ids: list[str]
    values: list[float]
    by_id: dict[str, float]

    @classmethod
    def from_columns(cls, ids: list[str], values: list[float | None]) -> "MetricColumn":
        kept = [(i, v) for i, v in zip(ids, values, strict=True) if v is not None and v == v]  # NaN: no value
        # ClickHouse sent them in order (ORDER BY value); Python's own order decides, in linear time then.
        kept.sort(key=itemgetter(1))
        return cls([i for i, _ in kept], [v for _, v in kept], dict(kept))

    def patched(self, changed: list[str], part: "MetricColumn") -> "MetricColumn":
        """This column with the values of the `changed` experiments taken from `part` (read for them):
        copies and a binary search per change, where reading the column again reads every row."""
        ids, values, by_id = self.ids.copy(), self.values.copy(), self.by_id.copy()
        for experiment_id in changed:
            if (old := by_id.pop(experiment_id, None)) is not None:
                at = ids.index(experiment_id, bisect_left(values, old), bisect_right(values, old))
                del ids[at], values[at]
        for experiment_id, value in zip(part.ids, part.values, strict=True):
            at = bisect_right(values, value)
            ids.insert(at, experiment_id)
            values.insert(at, value)
            by_id[experiment_id] = value
        return MetricColumn(ids, values, by_id)

    def first(self, count: int, descending: bool) -> tuple[list[str], list[float], bool]:
        """The ids and values of the first `count` experiments in sort order, and every one tied with
        the last of them, so any experiment left out sorts after all those in; and whether that is all."""
        if count >= len(self.ids):
            return self.ids, self.values, True
        if descending:
            start = bisect_left(self.values, self.values[-count])
            return self.ids[start:], self.values[start:], start == 0
        end = bisect_right(self.values, self.values[count - 1])
        return self.ids[:end], self.values[:end], end == len(self.ids)


def insert_rows(executor: Executor, rows: Iterable[bytes]) -> None:
    """Store rows of `computed_rows` (JSONEachRow) in one INSERT."""
    executor.insert_json("experiment_rollups", b"\n".join(rows))


def json_ready(value: Any) -> Any:
    """A value of a computed row as JSONEachRow carries it exactly: JSON has no NaN or infinity (an
    aggregate over no values), which ClickHouse reads quoted ("nan", "inf", "-inf"); a Map, which
    arrives from Arrow as pairs, as an object."""
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, list):
        if value and isinstance(value[0], tuple) and len(value[0]) == 2:
            return {k: json_ready(v) for k, v in value}
        return [json_ready(v) for v in value]
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    return value


def stored_row(row: dict[str, Any]) -> dict[str, Any]:
    """A row read (its values cleaned or made json_ready) as JSONEachRow writes it: an empty Map
    arrives as an empty list."""
    return {**row, **{metric.column: row[metric.column] or {} for metric in METRICS if metric.per_key}}


def _statistics(metric: RollupMetric, stats: dict[str, Any] | None) -> dict[str, Any] | None:
    if not stats or not stats.get("count"):
        return None
    return {stat: stats[stat] for stat in metric.stats}


def to_rollups(row: dict[str, Any]) -> dict[str, Any]:
    """One experiment_rollups row → the rollup fields of an ExperimentResponse."""
    rollups = {column: row[column] for column in LABEL_COLUMNS}
    for metric in METRICS:
        value = row[metric.column]
        if metric.keys_field:
            by_key: dict[str, Any] = value or {}
            rollups[metric.response_field] = {key: _statistics(metric, s) for key, s in sorted(by_key.items())}
            rollups[metric.keys_field] = sorted(by_key)
        else:
            rollups[metric.response_field] = _statistics(metric, value) if metric.stats else value
    return rollups
