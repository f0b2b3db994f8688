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

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, cast

from intake_service.domain.experiments import find_live
from intake_service.domain.ingest import experiment_problem
from intake_service.domain.paging import pagination
from intake_service.domain.span_filters import (
    STATUSES,
    FilterField,
    Mode,
    check_params,
    evaluation_context,
    for_mode,
    parse_filters,
    parse_sort,
    read_list,
)
from intake_service.errors import BadListQuery, SpanNotFound, UnknownExperiment
from intake_service.models.generated import (
    EvaluatorResult,
    SpanGroup,
    SpanGroupsPage,
    SpansPage,
)
from intake_service.models.generated import Span as SpanResponse
from intake_service.store.clickhouse.spans import GROUP_COLUMNS, GROUP_SORTS, SPAN_KINDS, Span, SpanReads
from intake_service.store.clickhouse.telemetry import TelemetryStore
from intake_service.store.postgres.experiments import ExperimentRepository

MAX_ID_LENGTH = 255
REBUILD_BATCH = 500


@dataclass
class Rejected:
    """A span that was not stored, and the one sentence saying why."""

    span: Span
    detail: str


async def resolve_experiments(
    repo: ExperimentRepository, workspace: str, names: set[str]
) -> tuple[dict[str, str], dict[str, UnknownExperiment]]:
    """experiment name → live id, and name → the error for every name that has no live experiment."""
    found: dict[str, str] = {}
    problems: dict[str, UnknownExperiment] = {}
    for name in sorted(names):
        # Locked until the request commits, after the spans are stored: see ingest.ingest_sessions.
        experiment = await find_live(repo, workspace, name, for_share=True)
        if experiment is None:
            problems[name] = await experiment_problem(repo, workspace, name)
        else:
            found[name] = experiment.id
    return found, problems


async def store_spans(
    repo: ExperimentRepository,
    telemetry: TelemetryStore,
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
    ids, problems = await resolve_experiments(repo, workspace, {s.experiment_name for s in spans if s.experiment_name})
    if strict and problems:
        raise next(iter(problems.values()))
    rejected = [Rejected(s, problems[s.experiment_name].detail) for s in spans if s.experiment_name in problems]
    kept = [s for s in spans if s.experiment_name not in problems]
    if not kept:
        return rejected
    session_ids = sorted({s.session_id for s in kept})
    # The bindings are read while the spans go in (chDB runs the two on their own connections).
    _, previous = await asyncio.gather(
        telemetry.insert_spans(workspace, kept, replace=replace),
        telemetry.span_session_bindings(workspace, session_ids),
    )
    bindings = {sid: "" if replace else previous.get(sid, "") for sid in session_ids}
    for span in sorted(kept, key=lambda s: s.start_ns, reverse=True):
        # The earliest root of a session that names an experiment decides.
        if span.is_root and span.experiment_name:
            bindings[span.session_id] = ids[span.experiment_name]
    await telemetry.rebuild_sessions(workspace, bindings, previous, kept)
    return rejected


async def rebuild_stale_sessions(repo: ExperimentRepository, telemetry: TelemetryStore) -> int:
    """After an unclean shutdown, rebuild every session whose spans were stored but not (all) built
    into it, bound as store_spans would have: its binding if it has one, else the experiment its
    earliest tagged root names (when live), else none. Returns how many sessions were rebuilt."""
    rebuilt = 0
    for workspace, tags in (await telemetry.stale_span_sessions()).items():
        session_ids = sorted(tags)
        for start in range(0, len(session_ids), REBUILD_BATCH):
            batch = session_ids[start : start + REBUILD_BATCH]
            previous = await telemetry.span_session_bindings(workspace, batch)
            ids = {}
            for name in sorted({tag for s in batch if s not in previous and (tag := tags[s])}):
                if (experiment := await find_live(repo, workspace, name)) is not None:
                    ids[name] = experiment.id
            bindings = {s: previous[s] if s in previous else ids.get(tags[s] or "", "") for s in batch}
            await telemetry.rebuild_sessions(workspace, bindings, previous)
        rebuilt += len(session_ids)
    return rebuilt


# --- reads: GET /spans, /spans/groups, /spans/{span_id}, /spans/{span_id}/evaluator-results --------

SPAN_LIST_PARAMS = ("page", "page_size", "sort", "mode")
GROUP_LIST_PARAMS = ("page", "page_size", "sort", "by")
SPAN_FILTERS = {
    "session_id": FilterField("text", "session_id"),
    "trace_id": FilterField("text", "trace_id"),
    "parent_span_id": FilterField("text", "parent_span_id"),
    "evaluation_id": FilterField("text", "evaluation_id"),
    "test_case_id": FilterField("text", "test_case_id"),
    "source": FilterField("text", "source"),
    "kind": FilterField("enum", "kind", SPAN_KINDS),
    "status": FilterField("enum", "status", STATUSES),
    "model": FilterField("text", "model"),
    "agent_name": FilterField("text", "agent_name"),
    "provider": FilterField("text", "provider"),
    "started_at": FilterField("time", "started"),
    # SDK 0.4+: the names of the evaluation and test case tags.
    "evaluation_name": FilterField("text", "evaluation_id"),
    "test_case_name": FilterField("text", "test_case_id"),
}


def span_reads(telemetry: TelemetryStore) -> SpanReads:
    return SpanReads(telemetry.reader)


def to_span(workspace: str, row: dict[str, Any], mode: Mode = "detailed") -> SpanResponse:
    tagged = row["experiment_name"] is not None or row["test_case_id"] is not None
    tokens = [t for t in (row["input_tokens"], row["output_tokens"]) if t is not None]
    return SpanResponse(
        span_id=row["span_id"],
        session_id=row["session_id"],
        workspace=workspace,
        evaluation_context=evaluation_context(row["experiment_name"], row["test_case_id"]) if tagged else None,
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
        provider=row["provider"],
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
    telemetry: TelemetryStore,
    workspace: str,
    params: Iterable[tuple[str, str]],
    *,
    page: int,
    page_size: int,
    sort: str,
    mode: Mode,
) -> SpansPage:
    rows, paging, echo = await read_list(
        span_reads(telemetry), workspace, params, allowed=SPAN_LIST_PARAMS, fields=SPAN_FILTERS, noun="span",
        sort_field="started_at", sort=sort, page=page, page_size=page_size,
    )  # fmt: skip
    return SpansPage(data=[to_span(workspace, row, mode) for row in rows], pagination=paging, sort=sort, filter=echo)


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
    telemetry: TelemetryStore,
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
    descending = parse_sort(sort, *GROUP_SORTS)
    rows, total = await span_reads(telemetry).groups(
        workspace,
        filters,
        fields,
        sort=sort.removeprefix("-"),
        descending=descending,
        limit=page_size,
        offset=(page - 1) * page_size,
    )
    data = [
        SpanGroup(
            group={f: row[GROUP_COLUMNS[f]] for f in fields}, span_count=row["span_count"], started_at=row["started_at"]
        )
        for row in rows
    ]
    return SpanGroupsPage(
        grouped_by=fields, data=data, pagination=pagination(page, page_size, len(data), total), sort=sort, filter=echo
    )


async def get_span(telemetry: TelemetryStore, workspace: str, span_id: str) -> SpanResponse:
    row = await span_reads(telemetry).get(workspace, span_id)
    if row is None:
        raise SpanNotFound(workspace, span_id)
    return to_span(workspace, row)


async def span_evaluator_results(
    telemetry: TelemetryStore, workspace: str, span_id: str
) -> list[EvaluatorResult]:
    """Every result naming the span (a loose target: the span need not be stored), oldest first."""
    return [EvaluatorResult(**row) for row in await span_reads(telemetry).evaluator_results(workspace, span_id)]
