"""Session reads: sort and filter rules for GET .../experiments/{name}/sessions, and GET /sessions/{id}."""

from intake_service.domain.experiments import require_live
from intake_service.domain.paging import pagination, parse_signed_sort
from intake_service.domain.spans import span_reads
from intake_service.errors import SessionNotFound, query_error
from intake_service.models.generated import (
    ExperimentSessionResponse,
    ExperimentSessionsPage,
    IntakeSession,
)
from intake_service.store.clickhouse.sessions import SESSION_SORTS
from intake_service.store.clickhouse.telemetry import TelemetryStore
from intake_service.store.postgres.experiments import ExperimentRepository

STATUSES = ("success", "error", "cancelled", "unknown")


async def list_sessions(
    repo: ExperimentRepository,
    telemetry: TelemetryStore,
    workspace: str,
    name: str,
    *,
    page: int,
    page_size: int,
    sort: str,
    test_case_id: str | None,
    status: str | None,
) -> ExperimentSessionsPage:
    sort_field, descending = parse_signed_sort(sort, SESSION_SORTS)
    if status is not None and status not in STATUSES:
        raise query_error("filter[status]", status, f"Invalid status {status!r}. Valid values: {list(STATUSES)}.")
    experiment = await require_live(repo, workspace, name)
    rows, total = await telemetry.list_sessions(
        workspace,
        experiment.id,
        order=[(sort_field, descending)],
        test_case_id=test_case_id,
        status=status,
        limit=page_size,
        offset=(page - 1) * page_size,
    )
    # The seeds' session rows carry no output; cost_total_usd is SDK 0.2.0's name of cost_usd.
    data = [
        ExperimentSessionResponse(
            workspace=workspace,
            experiment_name=name,
            cost_total_usd=row["cost_usd"],
            **{k: v for k, v in row.items() if k != "output"},
        )
        for row in rows
    ]
    echo = {k: v for k, v in (("test_case_id", test_case_id), ("status", status)) if v is not None}
    return ExperimentSessionsPage(
        data=data,
        pagination=pagination(page, page_size, len(data), total),
        sort=sort,
        filter=echo,
    )


async def get_session(telemetry: TelemetryStore, workspace: str, session_id: str) -> IntakeSession:
    """GET /sessions/{id}: the session's telemetry aggregated over all its stored spans (SDK 0.3.0's
    `Session`); a session without spans (bulk-ingested rows only) is not found."""
    row = await span_reads(telemetry).session(workspace, session_id)
    if row is None:
        raise SessionNotFound(workspace, session_id)
    return IntakeSession(**row, workspace=workspace)
