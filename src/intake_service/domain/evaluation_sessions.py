"""The sessions of an evaluation (SDK 0.3.0 `/evaluations/{name}/sessions`): `mode`, multi-key sort,
and the 0.3.0 row (evaluation_name, trace_id, root_span_id, cost_total_usd, output). SDK 0.4+ name
the test case `test_case_name`: rows carry both spellings, and the filter and the sort take either
(as NeMo's 0.6.0 server: two filters that disagree are a 400)."""

from intake_service.domain.evaluation_list import parse_sort_keys
from intake_service.domain.evaluations import require_live
from intake_service.domain.paging import pagination
from intake_service.domain.span_filters import STATUSES, Mode, for_mode
from intake_service.errors import DomainError
from intake_service.models.generated import EvaluationSessionResponse, EvaluationSessionsPage
from intake_service.store.clickhouse.telemetry import TelemetryStore
from intake_service.store.postgres.evaluations import EvaluationRepository

SESSION_SORTS = (
    "test_case_name", "test_case_id", "started_at", "ended_at", "latency_ms", "status", "cost_total_usd", "tokens"
)


async def list_sessions(
    repo: EvaluationRepository,
    telemetry: TelemetryStore,
    workspace: str,
    name: str,
    *,
    page: int,
    page_size: int,
    mode: Mode,
    sort: str | None,
    test_case_name: str | None,
    test_case_id: str | None,
    status: str | None,
) -> EvaluationSessionsPage:
    keys = parse_sort_keys(sort, SESSION_SORTS) if sort is not None else [("started_at", False)]
    keys = [("test_case_id" if field == "test_case_name" else field, descending) for field, descending in keys]
    if None not in (test_case_name, test_case_id) and test_case_name != test_case_id:
        raise DomainError("filter[test_case_name] and filter[test_case_id] name different test cases.")
    test_case = test_case_name if test_case_name is not None else test_case_id
    if status is not None and status not in STATUSES:
        raise DomainError(f"Invalid status {status!r}; valid values are {', '.join(STATUSES)}.")
    evaluation = await require_live(repo, workspace, name)
    rows, total = await telemetry.list_sessions(
        workspace,
        evaluation.id,
        order=keys,
        test_case_id=test_case,
        status=status,
        limit=page_size,
        offset=(page - 1) * page_size,
    )
    data = [
        EvaluationSessionResponse(
            workspace=workspace,
            evaluation_name=name,
            experiment_name=name,
            session_id=row["session_id"],
            test_case_name=row["test_case_id"],
            test_case_id=row["test_case_id"],
            trace_id=row["trace_id"],
            root_span_id=row["root_span_id"],
            started_at=row["started_at"],
            ended_at=row["ended_at"],
            latency_ms=row["latency_ms"],
            status=row["status"],
            input=for_mode(row["input"], mode),
            output=for_mode(row["output"], mode),
            input_tokens=row["input_tokens"],
            output_tokens=row["output_tokens"],
            cached_tokens=row["cached_tokens"],
            cost_total_usd=row["cost_usd"],
            evaluator_scores=row["evaluator_scores"],
        )
        for row in rows
    ]
    given = (("test_case_name", test_case_name), ("test_case_id", test_case_id), ("status", status))
    echo = {k: v for k, v in given if v is not None}
    return EvaluationSessionsPage(
        data=data, pagination=pagination(page, page_size, len(data), total), sort=sort, filter=echo
    )
