"""Trace reads: GET /traces (filter, sort, mode) and GET /traces/{id} over the stored spans."""

from collections.abc import Iterable
from typing import Any

from intake_service.domain.span_filters import (
    STATUSES,
    FilterField,
    Mode,
    evaluation_context,
    for_mode,
    read_list,
)
from intake_service.errors import TraceNotFound
from intake_service.models.generated import (
    TelemetryExperimentContext,
    Trace,
    TracesPage,
)
from intake_service.store.clickhouse.telemetry import TelemetryStore
from intake_service.store.clickhouse.traces import TraceReads

LIST_PARAMS = ("page", "page_size", "sort", "mode")
FILTERS = {
    "id": FilterField("ids", "ids"),
    "session_id": FilterField("text", "session_id"),
    "status": FilterField("enum", "status", STATUSES),
    "started_at": FilterField("time", "started"),
    "evaluation_id": FilterField("text", "evaluation_id"),
    "experiment_id": FilterField("text", "evaluation_id"),  # deprecated alias of evaluation_id
    "test_case_id": FilterField("text", "test_case_id"),
    # SDK 0.4+: the names of the same two tags, and the root span's agent.
    "evaluation_name": FilterField("text", "evaluation_id"),
    "test_case_name": FilterField("text", "test_case_id"),
    "agent_name": FilterField("text", "agent_name"),
}
# Summary mode leaves out the payloads and the rollups over the trace's spans.
ROLLUPS = (
    "input_tokens", "output_tokens", "cached_tokens", "total_tokens", "cost_usd", "span_count", "error_count", "models",
    "providers",
)


def _reads(telemetry: TelemetryStore) -> TraceReads:
    return TraceReads(telemetry.reader)


def to_trace(workspace: str, row: dict[str, Any], mode: Mode) -> Trace:
    evaluation_id, test_case_id = row.pop("evaluation_id"), row.pop("test_case_id")
    tagged = evaluation_id is not None
    if mode == "summary":
        row = {k: v for k, v in row.items() if k not in ROLLUPS}
    return Trace(
        **{**row, "input": for_mode(row["input"], mode), "output": for_mode(row["output"], mode)},
        workspace=workspace,
        evaluation_context=evaluation_context(evaluation_id, test_case_id) if tagged else None,
        experiment_context=TelemetryExperimentContext(experiment_id=evaluation_id, test_case_id=test_case_id)
        if tagged else None,
    )


async def list_traces(
    telemetry: TelemetryStore,
    workspace: str,
    params: Iterable[tuple[str, str]],
    *,
    page: int,
    page_size: int,
    sort: str,
    mode: Mode,
) -> TracesPage:
    rows, paging, echo = await read_list(
        _reads(telemetry), workspace, params, allowed=LIST_PARAMS, fields=FILTERS, noun="trace",
        sort_field="started_at", sort=sort, page=page, page_size=page_size,
    )  # fmt: skip
    return TracesPage(data=[to_trace(workspace, row, mode) for row in rows], pagination=paging, sort=sort, filter=echo)


async def get_trace(telemetry: TelemetryStore, workspace: str, trace_id: str, mode: Mode) -> Trace:
    row = await _reads(telemetry).get(workspace, trace_id)
    if row is None:
        raise TraceNotFound(workspace, trace_id)
    return to_trace(workspace, row, mode)
