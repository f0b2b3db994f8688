"""What an `:id` names: an experiment or a run, by full id or unambiguous prefix, among what the
caller may see; and the run an experiment id stands for in run-tracking calls (its latest run)."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from intake_service.domain.workbench.access import Viewer
from intake_service.domain.workbench.errors import AmbiguousId, NotFound, WorkbenchExperimentNotFound
from intake_service.domain.workbench.values import DEFAULT_STATUS, RESERVED_IDS, check_text, new_run_id
from intake_service.store.artifacts import ArtifactStore
from intake_service.store.clickhouse.metrics import RunMetricStore
from intake_service.store.postgres.tables import WorkbenchExperiment, WorkbenchRun
from intake_service.store.postgres.workbench import NewRun, WorkbenchRepository


@dataclass(frozen=True)
class Stores:
    repo: WorkbenchRepository
    metrics: RunMetricStore
    artifacts: ArtifactStore


@dataclass(frozen=True)
class Target:
    experiment: WorkbenchExperiment
    run: WorkbenchRun | None  # None when the id names the experiment itself


def now() -> datetime:
    return datetime.now(UTC)


def _exact_or_only(ref: str, ids: list[str]) -> int | None:
    if ref in ids:
        return ids.index(ref)
    if len(ids) > 1:
        raise AmbiguousId(ref)
    return 0 if ids else None


async def resolve(stores: Stores, viewer: Viewer, ref: str) -> Target:
    check_text(ref, "The id")
    if ref in RESERVED_IDS:  # /compare, /stats, /register under another method: never an id (prefix)
        raise NotFound(ref)
    experiments = list(await stores.repo.find_experiments(viewer.workspace, viewer.visibility, ref))
    runs = list(await stores.repo.find_runs(viewer.workspace, viewer.visibility, ref, viewer.name))
    exact = [run for run, _ in runs if run.id == ref]
    if len(exact) > 1 and exact[0].owner != viewer.name:
        raise AmbiguousId(ref)  # two other owners' visible runs share the id
    candidates: list[Target] = [Target(e, None) for e in experiments] + [Target(e, r) for r, e in runs]
    chosen = _exact_or_only(ref, [t.run.id if t.run else t.experiment.id for t in candidates])
    if chosen is None:
        raise NotFound(ref)
    return candidates[chosen]


async def resolve_experiment(stores: Stores, viewer: Viewer, ref: str) -> WorkbenchExperiment:
    check_text(ref, "The id")
    if ref in RESERVED_IDS:
        raise WorkbenchExperimentNotFound(ref)
    experiments = list(await stores.repo.find_experiments(viewer.workspace, viewer.visibility, ref))
    chosen = _exact_or_only(ref, [e.id for e in experiments])
    if chosen is None:
        raise WorkbenchExperimentNotFound(ref)
    return experiments[chosen]


@dataclass(frozen=True)
class RunFields:
    """What a caller asked a new run to have, already checked; None takes the default."""

    id: str | None = None
    name: str | None = None
    status: str | None = None
    parameters: list[dict[str, Any]] | None = None
    final_metrics: list[dict[str, Any]] | None = None
    model_type: str | None = None
    problem_type: str | None = None
    framework: str | None = None
    parent_run_id: str | None = None
    system_info: dict[str, Any] | None = None
    duration_seconds: float | None = None


def new_run(experiment: WorkbenchExperiment, moment: datetime, fields: RunFields = RunFields()) -> NewRun:
    """A run of the experiment, named after it and `pending` unless the fields say otherwise."""
    return NewRun(
        workspace=experiment.workspace,
        owner=experiment.owner,
        id=fields.id if fields.id is not None else new_run_id(),
        experiment_id=experiment.id,
        name=fields.name if fields.name is not None else experiment.name,
        status=fields.status if fields.status is not None else DEFAULT_STATUS,
        created_at=moment,
        updated_at=moment,
        parameters=fields.parameters if fields.parameters is not None else [],
        final_metrics=fields.final_metrics if fields.final_metrics is not None else [],
        model_type=fields.model_type,
        problem_type=fields.problem_type,
        framework=fields.framework,
        parent_run_id=fields.parent_run_id,
        system_info=fields.system_info,
        duration_seconds=fields.duration_seconds,
    )


async def run_for_write(
    stores: Stores, viewer: Viewer, ref: str, *, lock: bool = False
) -> tuple[WorkbenchRun, WorkbenchExperiment]:
    """The run to write to (an experiment id means its latest run, made if there is none); the
    caller must be allowed to change the experiment."""
    target = await resolve(stores, viewer, ref)
    viewer.check_may_change(target.experiment)
    if target.run is not None:
        run = await stores.repo.lock_run(target.run) if lock else target.run
        return run, target.experiment
    return await latest_or_new_run(stores, target.experiment, lock=lock), target.experiment


async def latest_or_new_run(stores: Stores, experiment: WorkbenchExperiment, *, lock: bool = False) -> WorkbenchRun:
    run = await stores.repo.latest_run(experiment.id, for_update=lock)
    if run is not None:
        return run
    moment = now()
    made = await stores.repo.insert_run(new_run(experiment, moment))
    assert made is not None  # a fresh random id
    await stores.repo.update_experiment(experiment.id, updated_at=moment)
    return made


async def run_for_read(stores: Stores, viewer: Viewer, ref: str) -> tuple[WorkbenchRun | None, WorkbenchExperiment]:
    target = await resolve(stores, viewer, ref)
    if target.run is not None:
        return target.run, target.experiment
    return await stores.repo.latest_run(target.experiment.id), target.experiment
