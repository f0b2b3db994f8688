"""Evaluator results: record one (POST /evaluator-results, and the rewards of an ATIF trajectory),
list them (paged, filtered, sorted) and read one by id."""

import hashlib
import math
from datetime import UTC, datetime
from typing import Any

from intake_service.domain.experiments import find_live
from intake_service.domain.filters import parse_datetime
from intake_service.domain.ingest import experiment_problem
from intake_service.domain.paging import pagination, parse_signed_sort
from intake_service.errors import DomainError, EvaluatorResultNotFound, query_error
from intake_service.models.generated import EvaluatorResult, EvaluatorResultInput, EvaluatorResultsPage
from intake_service.store.clickhouse.evaluator_results import RESULT_SORTS, ResultFilters
from intake_service.store.clickhouse.telemetry import TelemetryStore
from intake_service.store.clickhouse.values import holds_microseconds
from intake_service.store.postgres.experiments import ExperimentRepository

DATA_TYPES = ("NUMERIC", "BOOLEAN", "CATEGORICAL", "TEXT")


# --- recording --------------------------------------------------------------------------------


def evaluator_result_id(workspace: str, session_id: str, span_id: str, name: str, experiment_id: str = "") -> str:
    """Stable per replacement key; a result scoped to an experiment is keyed by that experiment too."""
    parts = (workspace, session_id, span_id, name, *((experiment_id,) if experiment_id else ()))
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return f"eval-{digest[:32]}"


def _check_result(body: EvaluatorResultInput) -> None:
    if body.data_type in ("NUMERIC", "BOOLEAN"):
        if body.value is None:
            raise DomainError(f"A {body.data_type} evaluator result needs a value.")
        if not math.isfinite(body.value):
            raise DomainError("An evaluator result value must be a finite number.")
        if body.data_type == "BOOLEAN" and body.value not in (0, 1):
            raise DomainError("A BOOLEAN evaluator result value must be 0 or 1.")
    elif body.string_value is None:
        raise DomainError(f"A {body.data_type} evaluator result needs a string_value.")


async def record_evaluator_result(
    repo: ExperimentRepository,
    telemetry: TelemetryStore,
    workspace: str,
    body: EvaluatorResultInput,
    created_by: str | None = None,
) -> EvaluatorResult:
    """A result naming an experiment counts in that one; else in every live experiment having the session."""
    _check_result(body)
    if body.experiment_name is not None:
        experiment = await find_live(repo, workspace, body.experiment_name, for_share=True)  # see ingest_sessions
        if experiment is None:
            raise await experiment_problem(repo, workspace, body.experiment_name)
        experiment_id, affected = experiment.id, [experiment.id]
    else:
        experiment_id = ""
        having_session = await repo.get_many(await telemetry.experiments_with_session(workspace, body.session_id))
        affected = [row.id for row in having_session.values() if not row.is_deleted]
    now = datetime.now(UTC)
    result = EvaluatorResult(
        evaluator_result_id=evaluator_result_id(
            workspace, body.session_id, body.span_id or "", body.name, experiment_id
        ),
        workspace=workspace,
        session_id=body.session_id,
        span_id=body.span_id or "",
        name=body.name,
        data_type=body.data_type,
        value=body.value,
        string_value=body.string_value,
        comment=body.comment,
        experiment_name=body.experiment_name,
        created_by=created_by,
        created_at=now,
        ingested_at=now,
    )
    await telemetry.insert_evaluator_result(result, experiment_id=experiment_id, experiment_ids=affected)
    return result


# --- reading ----------------------------------------------------------------------------------


def _finite(param: str, value: float | None) -> float | None:
    if value is not None and not math.isfinite(value):
        raise query_error(param, value, f"{param} must be a finite number.")
    return value


def _moment(param: str, raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        moment = parse_datetime(raw)
    except ValueError as exc:  # not RFC 3339, or beyond what a datetime holds
        raise query_error(param, raw, f"{param}: {exc}.") from None
    # Outside what the column holds a comparison is the caller's mistake.
    if not holds_microseconds(moment):
        raise query_error(param, raw, f"{param} must lie between the years 1900 and 2299.")
    return moment


async def list_results(
    telemetry: TelemetryStore,
    workspace: str,
    *,
    page: int,
    page_size: int,
    sort: str,
    session_id: str | None = None,
    span_id: str | None = None,
    name: str | None = None,
    data_type: str | None = None,
    value_gte: float | None = None,
    value_lte: float | None = None,
    created_gte: str | None = None,
    created_lte: str | None = None,
) -> EvaluatorResultsPage:
    """One page. Times are RFC 3339 text, echoed in the page's `filter` as given."""
    if data_type is not None and data_type not in DATA_TYPES:
        raise query_error(
            "filter[data_type]", data_type, f"Invalid data_type {data_type!r}. Valid values: {list(DATA_TYPES)}."
        )
    filters = ResultFilters(
        session_id=session_id,
        span_id=span_id,
        name=name,
        data_type=data_type,
        value_gte=_finite("filter[value][$gte]", value_gte),
        value_lte=_finite("filter[value][$lte]", value_lte),
        created_gte=_moment("filter[created_at][$gte]", created_gte),
        created_lte=_moment("filter[created_at][$lte]", created_lte),
    )
    field, descending = parse_signed_sort(sort, RESULT_SORTS)
    data, total = await telemetry.list_evaluator_results(
        workspace, filters, sort=field, descending=descending, limit=page_size, offset=(page - 1) * page_size
    )
    echo: dict[str, Any] = {
        key: value
        for key, value in (("session_id", session_id), ("span_id", span_id), ("name", name), ("data_type", data_type))
        if value is not None
    }
    for key, gte, lte in (("value", value_gte, value_lte), ("created_at", created_gte, created_lte)):
        if bounds := {op: bound for op, bound in (("$gte", gte), ("$lte", lte)) if bound is not None}:
            echo[key] = bounds
    return EvaluatorResultsPage(
        data=data,
        pagination=pagination(page, page_size, len(data), total),
        sort=sort,
        filter=echo,
    )


async def get_result(telemetry: TelemetryStore, workspace: str, evaluator_result_id: str) -> EvaluatorResult:
    result = await telemetry.get_evaluator_result(workspace, evaluator_result_id)
    if result is None:
        raise EvaluatorResultNotFound(evaluator_result_id)
    return result
