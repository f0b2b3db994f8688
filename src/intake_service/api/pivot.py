"""The pivot route, GET /evaluations/pivot (declared before /evaluations/{name}). Rules live in
domain.pivot, the query in store.clickhouse.pivot."""

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from intake_service.api.deps import Session, Telemetry, Workspace
from intake_service.api.export import FormatParam, export_format, export_responses, stream
from intake_service.api.responses import BAD_REQUEST, TOO_LARGE, UNAVAILABLE, OffLoopJsonRoute
from intake_service.domain import pivot as domain
from intake_service.domain.evaluation_rollups import COUNTS, STATISTICS
from intake_service.domain.paging import reject_unknown_params
from intake_service.domain.rollup_metrics import STATS
from intake_service.models.generated import PivotResponse
from intake_service.store.postgres.evaluations import EvaluationRepository

router = APIRouter(prefix="/evaluations", tags=["evaluations"], route_class=OffLoopJsonRoute)
PARAMS = {"rows", "columns", "metric", "filter", "format"}
DIMENSION_HELP = f"one of {', '.join(domain.DIMENSIONS)} (the evaluation's metadata)"
# The rules domain.pivot checks, as the document states them (a NUL is refused in every query value).
_STAT = "|".join(STATS)
DIMENSION = {"pattern": rf"^({'|'.join(domain.DIMENSIONS[:-1])}|metadata\.[^\x00]+)$"}
METRIC = {"pattern": rf"^({'|'.join(COUNTS)}|({'|'.join(STATISTICS)})\.({_STAT})|evaluators\.[^\x00]+\.({_STAT}))$"}


async def _wide(body: dict[str, Any]) -> AsyncIterator[list[dict[str, Any]]]:
    """CSV: one line per row value, one column per column value (the metric's name without columns)."""
    cells = {(c["row"], c["column"]): c["value"] for c in body["cells"]}
    labels = body["column_values"] if body["columns"] is not None else [None]
    rows = []
    for row in body["row_values"]:
        line = {body["rows"]: row}
        for column in labels:
            line[body["metric"] if body["columns"] is None else (column or "")] = cells.get((row, column))
        rows.append(line)
    yield rows


async def _cells(body: dict[str, Any]) -> AsyncIterator[list[dict[str, Any]]]:
    yield body["cells"]


@router.get(
    "/pivot",
    response_model=PivotResponse,
    responses={
        **export_responses(
            PivotResponse,
            "agent_version,gsm8k,tickets\nv1,0.71,0.64\nv2,0.78,\n",
            '{"row": "v1", "column": "gsm8k", "value": 0.71, "evaluations": 2, "sessions": 240, "test_cases": 120}\n',
        ),
        **BAD_REQUEST,
        **TOO_LARGE,
        **UNAVAILABLE,
    },
    operation_id="pivot-evaluations-apis-intake-v-2-workspaces-workspace-evaluations-pivot-get",
    summary="Pivot Evaluations",
)
async def pivot_evaluations(
    workspace: Workspace,
    request: Request,
    session: Session,
    telemetry: Telemetry,
    rows: Annotated[str, Query(description=f"The row dimension: {DIMENSION_HELP}.", json_schema_extra=DIMENSION)],
    metric: Annotated[
        str,
        Query(
            description="A rollup path of the evaluation list: run_count, test_case_count, cost_usd.<stat>, "
            "latency_ms.<stat>, tokens.<stat>, evaluators.<name>.<stat> (stat: sum, mean, median, p90, p95, "
            "p99, count).",
            json_schema_extra=METRIC,
        ),
    ],
    columns: Annotated[
        str | None,
        Query(description=f"The column dimension, optional: {DIMENSION_HELP}.", json_schema_extra=DIMENSION),
    ] = None,
    filter: Annotated[
        str | None,
        Query(
            min_length=1,
            description="The evaluations to take, as the list's filter (JSON; filter[field][$op]=value is "
            "accepted too).",
            json_schema_extra={"pattern": r"^\s*\{"},
        ),
    ] = None,
    format: FormatParam = None,
) -> PivotResponse | Response:
    """One metric of the evaluations the filter selects, by a row dimension and optionally a column
    dimension, computed from their sessions in one query as the 0.3.0 rollups compute it: per test
    case of each evaluation first, then across the cell's test cases (a cell of one evaluation shows
    that evaluation's rollup). Dimensions of the session: agent_name, agent_version, model; of the
    evaluation: dataset_name, dataset_version, metadata.<key>. A missing value is its own row or
    column (null). CSV is the wide table (a line per row value, a column per column value); NDJSON has
    one cell per line."""
    reject_unknown_params(request.query_params.multi_items(), PARAMS, bracket_filters=True)
    body = await domain.pivot(
        EvaluationRepository(session), telemetry, workspace, request.query_params,
        rows=rows, columns=columns, metric=metric,
    )  # fmt: skip
    wanted = export_format(request, format)
    if wanted == "json":
        return PivotResponse.model_validate(body)
    return stream(_wide(body) if wanted == "csv" else _cells(body), wanted)
