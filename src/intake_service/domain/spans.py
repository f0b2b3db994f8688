"""The one pipeline behind every ingest format: normalised spans → stored spans → sessions → rollups.

ATIF trajectories, OTLP traces and captured chat completions all become `Span`s (domain/formats/).
`store_spans` checks the experiment tags against PostgreSQL, stores the spans, rebuilds each touched
session from all of its stored spans (so spans may arrive over several requests, in any order) and
refreshes the rollups of the experiments concerned, before the request answers.

Binding: a session belongs to the experiment named by its root span (no parent). When a request
carries a root naming an experiment, the session is bound to that experiment's id; otherwise it
keeps the binding it had (none at first: stored, counted in no experiment). A `replace` ingest (a
re-sent trajectory) binds to its root's tag or to nothing.

The reads at the end serve the stored spans back (GET /spans, /spans/groups, /spans/{span_id}).
"""

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, cast

import orjson

from intake_service.domain.experiments import find_live
from intake_service.domain.ingest import UnknownExperiment, experiment_problem
from intake_service.domain.paging import pagination
from intake_service.domain.span_filters import (
    BadListQuery,
    FilterField,
    Mode,
    check_params,
    for_mode,
    parse_filters,
    parse_sort,
)
from intake_service.errors import DomainError, TelemetryUnavailable
from intake_service.models.generated import (
    EvaluatorResult,
    SpanGroup,
    SpanGroupsPage,
    SpansPage,
    TelemetryEvaluationContext,
)
from intake_service.models.generated import Span as SpanResponse
from intake_service.store.clickhouse.spans import GROUP_COLUMNS, SPAN_KINDS, SpanReads
from intake_service.store.clickhouse.telemetry import TelemetryStore
from intake_service.store.postgres.experiments import ExperimentRepository

MAX_ID_LENGTH = 255
MAX_ATTRIBUTES_BYTES = 256 * 1024


@dataclass
class Span:
    """One unit of work in a session; times are Unix nanoseconds."""

    session_id: str
    span_id: str
    source: str
    start_ns: int
    end_ns: int | None = None
    trace_id: str = ""
    parent_span_id: str = ""
    name: str = ""
    kind: str = ""
    status: str = "unknown"
    experiment_name: str | None = None
    test_case_id: str | None = None
    model_name: str | None = None
    agent_name: str | None = None
    agent_version: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_tokens: int | None = None
    cost_usd: float | None = None
    input: str | None = None
    output: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def is_root(self) -> bool:
        return not self.parent_span_id

    def row(self, workspace: str, version: int) -> dict[str, Any]:
        attributes = orjson.dumps(self.attributes, default=str).decode()
        if len(attributes) > MAX_ATTRIBUTES_BYTES:
            attributes = orjson.dumps({"truncated": True}).decode()
        return {
            "workspace": workspace,
            "session_id": self.session_id,
            "span_id": self.span_id,
            "trace_id": self.trace_id,
            "parent_span_id": self.parent_span_id,
            "source": self.source,
            "name": self.name,
            "kind": self.kind,
            "start_time": ch_time_ns(self.start_ns),
            "end_time": None if self.end_ns is None else ch_time_ns(self.end_ns),
            "status": self.status,
            "experiment_name": self.experiment_name,
            "test_case_id": self.test_case_id,
            "model_name": self.model_name,
            "agent_name": self.agent_name,
            "agent_version": self.agent_version,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cached_tokens": self.cached_tokens,
            "cost_usd": self.cost_usd,
            "input": self.input,
            "output": self.output,
            "attributes": attributes,
            "version": version,
        }


@dataclass
class Rejected:
    """A span that was not stored, and the one sentence saying why."""

    span: Span
    detail: str


def to_ns(moment: datetime) -> int:
    """A datetime as Unix nanoseconds (naive means UTC), without float rounding."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


# The window of DateTime64(9): a time outside it would be stored clamped, so it is refused instead.
MIN_NS = to_ns(datetime(1900, 1, 1, tzinfo=UTC))
MAX_NS = to_ns(datetime(2262, 1, 1, tzinfo=UTC))


def in_range(ns: int) -> bool:
    return MIN_NS <= ns < MAX_NS


def ch_time_ns(ns: int) -> str:
    seconds, fraction = divmod(ns, 1_000_000_000)
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S") + f".{fraction:09d}"


async def resolve_experiments(
    repo: ExperimentRepository, workspace: str, names: set[str]
) -> tuple[dict[str, str], dict[str, UnknownExperiment]]:
    """experiment name → live id, and name → the error for every name that has no live experiment."""
    found: dict[str, str] = {}
    problems: dict[str, UnknownExperiment] = {}
    for name in sorted(names):
        experiment = await find_live(repo, workspace, name)
        if experiment is None:
            problems[name] = await experiment_problem(repo, workspace, name)
        else:
            found[name] = experiment.id
    return found, problems


async def store_spans(
    repo: ExperimentRepository,
    telemetry: TelemetryStore | None,
    workspace: str,
    spans: list[Span],
    *,
    strict: bool,
    replace: bool = False,
) -> list[Rejected]:
    """Store `spans`, rebuild their sessions and the rollups concerned; return the spans refused.

    strict: a tag naming an unknown or deleted experiment fails the whole request with its 400
    (ATIF, chat completions); otherwise only the spans carrying that tag are refused (OTLP).
    """
    if telemetry is None:
        raise TelemetryUnavailable()
    ids, problems = await resolve_experiments(repo, workspace, {s.experiment_name for s in spans if s.experiment_name})
    if strict and problems:
        raise next(iter(problems.values()))
    rejected = [Rejected(s, problems[s.experiment_name].detail) for s in spans if s.experiment_name in problems]
    kept = [s for s in spans if s.experiment_name not in problems]
    if not kept:
        return rejected
    version = time.time_ns()
    await telemetry.insert_spans(workspace, [s.row(workspace, version) for s in kept], replace=replace)

    session_ids = sorted({s.session_id for s in kept})
    previous = await telemetry.span_session_bindings(workspace, session_ids)
    bindings = {sid: "" if replace else previous.get(sid, "") for sid in session_ids}
    for span in sorted(kept, key=lambda s: s.start_ns, reverse=True):
        # The earliest root of a session that names an experiment decides.
        if span.is_root and span.experiment_name:
            bindings[span.session_id] = ids[span.experiment_name]
    await telemetry.rebuild_sessions(workspace, bindings, previous)
    return rejected


# --- reads: GET /spans, /spans/groups, /spans/{span_id}, /spans/{span_id}/evaluator-results --------

SPAN_LIST_PARAMS = ("page", "page_size", "sort", "mode")
GROUP_LIST_PARAMS = ("page", "page_size", "sort", "by")
SPAN_STATUSES = ("success", "error", "cancelled", "unknown")
SPAN_FILTERS = {
    "session_id": FilterField("text", "session_id"),
    "trace_id": FilterField("text", "trace_id"),
    "parent_span_id": FilterField("text", "parent_span_id"),
    "evaluation_id": FilterField("text", "evaluation_id"),
    "test_case_id": FilterField("text", "test_case_id"),
    "source": FilterField("text", "source"),
    "kind": FilterField("enum", "kind", SPAN_KINDS),
    "status": FilterField("enum", "status", SPAN_STATUSES),
    "model": FilterField("text", "model"),
    "agent_name": FilterField("text", "agent_name"),
    "started_at": FilterField("time", "started"),
}


class SpanNotFound(DomainError):
    status_code = 404

    def __init__(self, workspace: str, span_id: str) -> None:
        super().__init__(f"Span '{workspace}/{span_id}' not found.")


def span_reads(telemetry: TelemetryStore | None) -> SpanReads:
    if telemetry is None:
        raise TelemetryUnavailable()
    return SpanReads(telemetry.reader)


def to_span(workspace: str, row: dict[str, Any], mode: Mode = "detailed") -> SpanResponse:
    tagged = row["experiment_name"] is not None or row["test_case_id"] is not None
    tokens = [t for t in (row["input_tokens"], row["output_tokens"]) if t is not None]
    return SpanResponse(
        span_id=row["span_id"],
        session_id=row["session_id"],
        workspace=workspace,
        evaluation_context=TelemetryEvaluationContext(
            evaluation_id=row["experiment_name"], test_case_id=row["test_case_id"]
        ) if tagged else None,
        parent_span_id=row["parent_span_id"] or None,
        kind=row["span_kind"],
        name=row["name"] or None,
        source=row["span_source"],
        trace_id=row["tid"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        status=row["status"],
        model=row["model_name"],
        agent_name=row["agent_name"],
        input_tokens=row["input_tokens"],
        output_tokens=row["output_tokens"],
        cached_tokens=row["cached_tokens"],
        total_tokens=sum(tokens) if tokens else None,
        cost_total_usd=row["cost_usd"],
        input=for_mode(row["input"], mode),
        output=for_mode(row["output"], mode),
        raw_attributes=row["attributes"] if mode == "detailed" else None,
        ingested_at=row["ingested_at"],
    )


async def list_spans(
    telemetry: TelemetryStore | None,
    workspace: str,
    params: Iterable[tuple[str, str]],
    *,
    page: int,
    page_size: int,
    sort: str,
    mode: Mode,
) -> SpansPage:
    filters, echo = parse_filters(check_params(params, SPAN_LIST_PARAMS), SPAN_FILTERS, "span")
    descending = parse_sort(sort, "started_at")
    rows, total = await span_reads(telemetry).page(
        workspace, filters, descending=descending, limit=page_size, offset=(page - 1) * page_size
    )
    data = [to_span(workspace, row, mode) for row in rows]
    return SpansPage(data=data, pagination=pagination(page, page_size, len(data), total), sort=sort, filter=echo)


GroupBy = Literal["trace_id", "session_id"]


def parse_group_by(raw: str) -> list[GroupBy]:
    fields = [f.strip() for f in raw.split(",") if f.strip()]
    if not fields:
        raise BadListQuery("At least one group-by field is required.")
    for name in fields:
        if name not in GROUP_COLUMNS:
            raise BadListQuery(f"Unsupported span group-by field: {name!r}. Use {' or '.join(GROUP_COLUMNS)}.")
    if len(set(fields)) != len(fields):
        raise BadListQuery("A span group-by field is named twice.")
    return cast(list[GroupBy], fields)


async def span_groups(
    telemetry: TelemetryStore | None,
    workspace: str,
    params: Iterable[tuple[str, str]],
    *,
    by: str,
    page: int,
    page_size: int,
    sort: str,
) -> SpanGroupsPage:
    filters, echo = parse_filters(check_params(params, GROUP_LIST_PARAMS), SPAN_FILTERS, "span")
    fields = parse_group_by(by)
    descending = parse_sort(sort, "span_count")
    rows, total = await span_reads(telemetry).groups(
        workspace, filters, fields, descending=descending, limit=page_size, offset=(page - 1) * page_size
    )
    data = [
        SpanGroup(group={f: row[GROUP_COLUMNS[f]] for f in fields}, span_count=row["span_count"]) for row in rows
    ]
    return SpanGroupsPage(
        grouped_by=fields, data=data, pagination=pagination(page, page_size, len(data), total), sort=sort, filter=echo
    )


async def get_span(telemetry: TelemetryStore | None, workspace: str, span_id: str) -> SpanResponse:
    row = await span_reads(telemetry).get(workspace, span_id)
    if row is None:
        raise SpanNotFound(workspace, span_id)
    return to_span(workspace, row)


async def span_evaluator_results(
    telemetry: TelemetryStore | None, workspace: str, span_id: str
) -> list[EvaluatorResult]:
    """Every result naming the span (a loose target: the span need not be stored), oldest first."""
    return [EvaluatorResult(**row) for row in await span_reads(telemetry).evaluator_results(workspace, span_id)]
