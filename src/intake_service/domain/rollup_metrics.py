"""The registry of rollup metrics: what an experiment's rollups hold, and the paths that name them.

The list grammar (sort and filter paths), the empty rollups of a response and the ClickHouse rollup
SQL (store/clickhouse/rollups.py) all read `METRICS`, so a new metric is one entry here plus its
column in a new ClickHouse migration; `intake-service rollups recompute` then fills existing rows.
"""

from dataclasses import dataclass
from typing import Any

STATS = ("sum", "mean", "median", "p90", "p95", "p99", "count")


@dataclass(frozen=True)
class RollupMetric:
    """One metric. With `stats` it is statistics over the sessions' values (null without any);
    without, one number: `aggregate` over them (0 without any)."""

    name: str  # the path in sort and filter: `name`, `name.<stat>`, or `name.<key>.<stat>` per key
    column: str  # its column in experiment_rollups
    source: str  # its value in one `sessions` row, as a ClickHouse expression
    response_field: str  # its field in ExperimentResponse
    stats: tuple[str, ...] = STATS
    aggregate: str = "count"  # a ClickHouse aggregate function, for a metric without stats
    # For a Map(String, Float64) source: statistics per key (per evaluator, fed by evaluator results
    # too), and the response field that lists the keys.
    keys_field: str | None = None

    @property
    def per_key(self) -> bool:
        return self.keys_field is not None

    @property
    def missing(self) -> float | None:
        """The value a sort or filter sees for an experiment without it: no sessions is a count of 0."""
        return None if self.stats else 0.0

    @property
    def empty(self) -> Any:
        """The response field of an experiment without it."""
        return {} if self.per_key else None if self.stats else 0

    @property
    def path_form(self) -> str:
        return f"{self.name}.<name>.<stat>" if self.per_key else f"{self.name}.<stat>" if self.stats else self.name


METRICS = (
    RollupMetric("run_count", "run_count", "session_id", "run_count", stats=()),
    RollupMetric("cost_usd", "cost", "cost_usd", "cost_usd"),
    RollupMetric("latency_ms", "latency", "latency_ms", "latency_ms"),
    RollupMetric("evaluators", "evaluators", "scores", "aggregate_scores", keys_field="evaluator_names"),
)
METRIC_BY_NAME = {metric.name: metric for metric in METRICS}
# Each rollup row also lists the sessions' distinct non-empty values of these columns, as `<label>s`.
LABELS = ("model_name", "agent_name", "agent_version")


@dataclass(frozen=True)
class RollupPath:
    """A metric as sort and filter name it: `run_count`, `cost_usd.<stat>`, `evaluators.<key>.<stat>`."""

    metric: str
    stat: str | None = None
    key: str | None = None


def parse_rollup_path(path: str) -> RollupPath | None:
    """A rollup path, or None when `path` is not one. Keys (evaluator names) may contain dots."""
    metric = METRIC_BY_NAME.get(path)
    if metric is not None and not metric.stats:
        return RollupPath(metric.name)
    head, _, stat = path.rpartition(".")
    name, _, key = head.partition(".")
    metric = METRIC_BY_NAME.get(name)
    if metric is None or stat not in metric.stats or bool(key) != metric.per_key:
        return None
    return RollupPath(metric.name, stat, key or None)
