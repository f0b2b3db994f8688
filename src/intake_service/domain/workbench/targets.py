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
from intake_service.store.postgres.workbench import WorkbenchRepository


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
    runs = list(await stores.repo.find_runs(viewer.workspace, viewer.visibility, ref))
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


def run_values(experiment: WorkbenchExperiment, moment: datetime, **fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "workspace": experiment.workspace,
        "id": new_run_id(),
        "experiment_id": experiment.id,
        "name": experiment.name,
        "status": DEFAULT_STATUS,
        "parameters": [],
        "final_metrics": [],
        "created_at": moment,
        "updated_at": moment,
    }
    values.update({k: v for k, v in fields.items() if v is not None})
    return values


async def run_for_write(
    stores: Stores, viewer: Viewer, ref: str, *, lock: bool = False
) -> tuple[WorkbenchRun, WorkbenchExperiment]:
    """The run to write to (an experiment id means its latest run, made if there is none); the
    caller must be allowed to change the experiment."""
    target = await resolve(stores, viewer, ref)
    viewer.check_may_change(target.experiment)
    if target.run is not None:
        run = await stores.repo.get_run(viewer.workspace, target.run.id, for_update=True) if lock else target.run
        assert run is not None
        return run, target.experiment
    return await latest_or_new_run(stores, target.experiment, lock=lock), target.experiment


async def latest_or_new_run(stores: Stores, experiment: WorkbenchExperiment, *, lock: bool = False) -> WorkbenchRun:
    run = await stores.repo.latest_run(experiment.id, for_update=lock)
    if run is not None:
        return run
    moment = now()
    made = await stores.repo.insert_run(run_values(experiment, moment))
    assert made is not None  # a fresh random id
    await stores.repo.update_experiment(experiment.id, {"updated_at": moment})
    return made


async def run_for_read(stores: Stores, viewer: Viewer, ref: str) -> tuple[WorkbenchRun | None, WorkbenchExperiment]:
    target = await resolve(stores, viewer, ref)
    if target.run is not None:
        return target.run, target.experiment
    return await stores.repo.latest_run(target.experiment.id), target.experiment
