"""The pivot of evaluations: one metric by a row dimension and, optionally, a column dimension.

The evaluations are those the list's filter selects (the same grammar as GET /evaluations, rollup
conditions included); the metric is one of the list's rollup paths, computed from their sessions
in one query as the 0.3.0 rollups compute it (see store/clickhouse/pivot.py), so a cell holding a
single evaluation shows that evaluation's rollup.
"""

from typing import Any

from starlette.datastructures import QueryParams

from intake_service.domain import evaluation_list, evaluation_rollups, evaluations
from intake_service.domain.rollup_metrics import STATS
from intake_service.errors import PayloadTooLarge, query_error
from intake_service.store.clickhouse.pivot import SESSION_DIMENSIONS
from intake_service.store.clickhouse.telemetry import TelemetryStore
from intake_service.store.postgres.evaluations import EvaluationRepository
from intake_service.store.postgres.tables import Experiment

EVALUATION_DIMENSIONS = ("dataset_name", "dataset_version")
DIMENSIONS = (*SESSION_DIMENSIONS, *EVALUATION_DIMENSIONS, "metadata.<key>")
METRIC_FORMS = (*evaluation_rollups.PATH_FORMS,)
MAX_EVALUATIONS = 10_000
COUNTS = {"run_count": "sessions", "test_case_count": "test_cases"}


def check_dimension(param: str, dimension: str) -> None:
    if dimension in SESSION_DIMENSIONS or dimension in EVALUATION_DIMENSIONS:
        return
    if dimension.startswith("metadata.") and len(dimension) > len("metadata."):
        return
    raise query_error(param, dimension, f"{param} must be one of {', '.join(DIMENSIONS)}.")


def parse_metric(metric: str) -> tuple[str, str, str]:
    """(value, evaluator, stat): value is a store.clickhouse.pivot.VALUES key or a count."""
    if not evaluation_rollups.is_rollup_path(metric):
        raise query_error(
            "metric", metric, f"metric must be one of {', '.join(METRIC_FORMS)} (<stat>: {', '.join(STATS)})."
        )
    if metric in COUNTS:
        return metric, "", ""
    head, _, rest = metric.partition(".")
    if head == "evaluators":
        name, _, stat = rest.rpartition(".")
        return "evaluator", name, stat
    return head, "", rest


def _dimension_value(row: Experiment, dimension: str) -> str | None:
    if dimension.startswith("metadata."):
        return evaluations.text_metadata(row.metadata_).get(dimension.removeprefix("metadata."))
    return getattr(row, dimension)


async def _selected(
    repo: EvaluationRepository, telemetry: TelemetryStore, workspace: str, params: QueryParams
) -> tuple[list[Experiment], dict[str, Any]]:
    """The evaluations the filter selects, and the filter's echo."""
    node, predicates, echo, include_deleted = await evaluation_list.parse_list_filter(telemetry, workspace, params)
    rows, total = await repo.list_evaluations(
        workspace, node, include_deleted=include_deleted, keys=[("name", False)], pinned_first=False,
        offset=0, limit=MAX_EVALUATIONS,
    )  # fmt: skip
    if total > MAX_EVALUATIONS:
        raise PayloadTooLarge(
            f"This pivot selects {total} evaluations, more than the {MAX_EVALUATIONS} one request takes; "
            "narrow it with a filter."
        )
    if not predicates:
        return list(rows), echo
    # The rows just read are every one the filter selects: their rollups decide, without a second read.
    evaluation_list.check_sortable(total)
    runs = any(predicate.field == "run_count" for predicate in predicates)
    views = await evaluation_list.rollup_views(telemetry, workspace, rows, run_counts=runs)
    return [view.row for view in views if evaluation_rollups.matches(view, predicates)], echo


async def pivot(
    repo: EvaluationRepository,
    telemetry: TelemetryStore,
    workspace: str,
    params: QueryParams,
    *,
    rows: str,
    columns: str | None,
    metric: str,
) -> dict[str, Any]:
    """The pivot's body (see the PivotResponse schema)."""
    check_dimension("rows", rows)
    if columns is not None:
        check_dimension("columns", columns)
    value, evaluator, stat = parse_metric(metric)
    selected, echo = await _selected(repo, telemetry, workspace, params)
    by_evaluation = {
        side: [_dimension_value(row, dimension) for row in selected]
        for side, dimension in (("row", rows), ("column", columns))
        if dimension is not None and dimension not in SESSION_DIMENSIONS
    }
    cells = await telemetry.pivot(
        workspace, [row.id for row in selected], rows=rows, columns=columns,
        value="cost_usd" if value in COUNTS else value, evaluator=evaluator, by_evaluation=by_evaluation,
    )  # fmt: skip
    body_cells = [
        {
            "row": cell["row_key"],
            "column": cell["column_key"],
            "value": cell[COUNTS[value]] if value in COUNTS else cell[f"value_{stat}"],
            "evaluations": int(cell["evaluations"]),
            "sessions": int(cell["sessions"]),
            "test_cases": int(cell["test_cases"]),
        }
        for cell in cells
    ]
    body_cells.sort(key=lambda c: (_order(c["row"]), _order(c["column"])))
    return {
        "rows": rows,
        "columns": columns,
        "metric": metric,
        "row_values": list(dict.fromkeys(c["row"] for c in body_cells)),
        "column_values": sorted({c["column"] for c in body_cells}, key=_order),
        "cells": body_cells,
        "evaluations": len(selected),
        "filter": echo,
    }


def _order(value: str | None) -> tuple[bool, str]:
    """Values in order, the missing value (null) last."""
    return (value is None, value or "")
