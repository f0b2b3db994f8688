"""Evaluator-result reads: GET /evaluator-results (paged, filtered, sorted) and GET /evaluator-results/{id}."""

import math
from datetime import UTC
from typing import Any

from intake_service.domain.filters import parse_datetime
from intake_service.domain.paging import pagination, parse_signed_sort, reject_unknown_params
from intake_service.errors import DomainError, TelemetryUnavailable, query_error
from intake_service.models.generated import EvaluatorResult, EvaluatorResultsPage
from intake_service.store.clickhouse.evaluator_results import RESULT_SORTS
from intake_service.store.clickhouse.executor import datetime_text
from intake_service.store.clickhouse.telemetry import TelemetryStore

DATA_TYPES = ("NUMERIC", "BOOLEAN", "CATEGORICAL", "TEXT")
# query parameter → (store filter name, parser)
TEXT_FILTERS = {
    "filter[session_id]": "session_id",
    "filter[span_id]": "span_id",
    "filter[name]": "name",
    "filter[data_type]": "data_type",
}
RANGE_FILTERS = {
    "filter[value][$gte]": "value_gte",
    "filter[value][$lte]": "value_lte",
    "filter[created_at][$gte]": "created_gte",
    "filter[created_at][$lte]": "created_lte",
}
LIST_PARAMS = {"page", "page_size", "sort", *TEXT_FILTERS, *RANGE_FILTERS}


class EvaluatorResultNotFound(DomainError):
    status_code = 404

    def __init__(self, evaluator_result_id: str) -> None:
        super().__init__(f"Evaluator result '{evaluator_result_id}' not found.")


def _number(param: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise query_error(param, raw, f"{param} must be a finite number.")
    return value


def _moment(param: str, raw: str) -> str:
    try:
        moment = parse_datetime(raw)
    except ValueError as exc:  # not RFC 3339, or beyond what a datetime holds
        raise query_error(param, raw, f"{param}: {exc}.") from None
    # ClickHouse's DateTime64 holds 1900-2299; outside it a comparison is the caller's mistake.
    if not 1900 <= moment.astimezone(UTC).year <= 2299:
        raise query_error(param, raw, f"{param} must lie between the years 1900 and 2299.")
    return datetime_text(moment)


def parse_filters(params: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(store filters, echo) from the query parameters; unknown parameters are a 422."""
    filters: dict[str, Any] = {}
    echo: dict[str, Any] = {}
    reject_unknown_params(params.items(), LIST_PARAMS)
    for param, raw in params.items():
        if param in TEXT_FILTERS:
            if param == "filter[data_type]" and raw not in DATA_TYPES:
                raise query_error(param, raw, f"Invalid data_type {raw!r}. Valid values: {list(DATA_TYPES)}.")
            filters[TEXT_FILTERS[param]] = raw
            echo[TEXT_FILTERS[param]] = raw
        elif param in RANGE_FILTERS:
            field, op = param[len("filter[") :].split("][")
            value: Any = _number(param, raw) if field == "value" else _moment(param, raw)
            filters[RANGE_FILTERS[param]] = value
            echo.setdefault(field, {})[op.rstrip("]")] = value if field == "value" else raw
    return filters, echo


async def list_results(
    telemetry: TelemetryStore | None,
    workspace: str,
    params: dict[str, str],
    *,
    page: int,
    page_size: int,
    sort: str,
) -> EvaluatorResultsPage:
    filters, echo = parse_filters(params)
    field, descending = parse_signed_sort(sort, RESULT_SORTS)
    if telemetry is None:
        raise TelemetryUnavailable()
    rows, total = await telemetry.list_evaluator_results(
        workspace, filters, sort=field, descending=descending, limit=page_size, offset=(page - 1) * page_size
    )
    data = [EvaluatorResult(**row) for row in rows]
    return EvaluatorResultsPage(
        data=data,
        pagination=pagination(page, page_size, len(data), total),
        sort=sort,
        filter=echo,
    )


async def get_result(telemetry: TelemetryStore | None, workspace: str, evaluator_result_id: str) -> EvaluatorResult:
    if telemetry is None:
        raise TelemetryUnavailable()
    row = await telemetry.get_evaluator_result(workspace, evaluator_result_id)
    if row is None:
        raise EvaluatorResultNotFound(evaluator_result_id)
    return EvaluatorResult(**row)
