"""The one pipeline behind every ingest format: normalised spans → stored spans → sessions → rollups.

ATIF trajectories, OTLP traces and captured chat completions all become `Span`s (domain/formats/).
`store_spans` checks the experiment tags against PostgreSQL, stores the spans, rebuilds each touched
session from all of its stored spans (so spans may arrive over several requests, in any order) and
refreshes the rollups of the experiments concerned, before the request answers.

Binding: a session belongs to the experiment named by its root span (no parent). When a request
carries a root naming an experiment, the session is bound to that experiment's id; otherwise it
keeps the binding it had (none at first: stored, counted in no experiment). A `replace` ingest (a
re-sent trajectory) binds to its root's tag or to nothing.
"""

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from intake_service.domain.experiments import find_live
from intake_service.domain.ingest import UnknownExperiment, experiment_problem
from intake_service.errors import TelemetryUnavailable
from intake_service.store.clickhouse.telemetry import TelemetryStore
from intake_service.store.postgres.experiments import ExperimentRepository

MAX_ID_LENGTH = 255
REBUILD_BATCH = 500
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
        # Locked until the request commits, after the spans are stored: see ingest.ingest_sessions.
        experiment = await find_live(repo, workspace, name, for_share=True)
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
