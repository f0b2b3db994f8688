"""Best run, primary metric and the parameter diff of a comparison.

The primary metric of an experiment is `accuracy` if any run reports it, else the first final metric
key in alphabetical order; lower is better when the key ends in `loss` or `error`, else higher. The
best run has the best final value of it; ties go to the earlier run.
"""

import json
import math
from collections.abc import Sequence
from typing import Any

import orjson

from intake_service.store.postgres.tables import WorkbenchRun

PREFERRED_METRIC = "accuracy"


def _numeric(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def final_values(run: WorkbenchRun) -> dict[str, float]:
    return {item["key"]: item["value"] for item in run.final_metrics or [] if _numeric(item.get("value"))}


def primary_metric(runs: Sequence[WorkbenchRun]) -> str | None:
    keys = {key for run in runs for key in final_values(run)}
    if PREFERRED_METRIC in keys:
        return PREFERRED_METRIC
    return min(keys) if keys else None


def lower_is_better(key: str) -> bool:
    return key.lower().endswith(("loss", "error"))


def best_run(runs: Sequence[WorkbenchRun]) -> WorkbenchRun | None:
    """`runs` oldest first, so a strict comparison leaves ties with the earlier run."""
    metric = primary_metric(runs)
    if metric is None:
        return None
    lower = lower_is_better(metric)
    best: WorkbenchRun | None = None
    best_value = 0.0
    for run in runs:
        value = final_values(run).get(metric)
        if value is None:
            continue
        if best is None or (value < best_value if lower else value > best_value):
            best, best_value = run, value
    return best


def _canonical(value: Any) -> Any:
    """Equal JSON values compare equal (1 and 1.0 are one number; true is not 1)."""
    if isinstance(value, bool) or value is None:
        return ("literal", value)
    if isinstance(value, int | float):
        return ("number", float(value))
    try:
        return ("json", orjson.dumps(value, option=orjson.OPT_SORT_KEYS))
    except TypeError:  # an integer beyond 64 bits, which orjson cannot write
        return ("json", json.dumps(value, sort_keys=True).encode())


def parameter_diff(best_runs: Sequence[WorkbenchRun | None]) -> dict[str, list[Any]]:
    """Parameters whose best-run values differ across the compared experiments: key → the value per
    experiment (null where its best run lacks the key or it has no best run), keys in first-seen order."""
    per_experiment = [
        {item["key"]: item["value"] for item in (run.parameters or [])} if run is not None else {}
        for run in best_runs
    ]
    keys: dict[str, None] = {}
    for params in per_experiment:
        keys.update(dict.fromkeys(params))
    diff: dict[str, list[Any]] = {}
    for key in keys:
        values = [params.get(key) for params in per_experiment]
        if len({_canonical(value) for value in values}) > 1:
            diff[key] = values
    return diff
