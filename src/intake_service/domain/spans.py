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

from dataclasses import dataclass

from intake_service.domain.experiments import find_live
from intake_service.domain.ingest import experiment_problem
from intake_service.errors import UnknownExperiment
from intake_service.store.clickhouse.spans import Span
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
    await telemetry.insert_spans(workspace, kept, replace=replace)

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
