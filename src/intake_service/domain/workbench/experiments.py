"""Experiments and runs: create (with the seed's naming fallbacks), register, get, partial update,
cascading delete, pin toggle and tags."""

from collections import defaultdict
from dataclasses import replace
from datetime import datetime

from intake_service.domain.workbench import scoring, views
from intake_service.domain.workbench.access import Viewer
from intake_service.domain.workbench.errors import InvalidInput, RunIdTaken, RunNotFound, WorkbenchNameTaken
from intake_service.domain.workbench.targets import (
    RunFields,
    Stores,
    Target,
    latest_or_new_run,
    new_run,
    now,
    resolve,
    resolve_experiment,
)
from intake_service.domain.workbench.values import (
    DEFAULT_STATUS,
    check_name,
    check_run_id,
    check_status,
    check_storable,
    key_values,
    new_experiment_id,
    normalize_principals,
    normalize_tags,
)
from intake_service.errors import TelemetryUnavailable
from intake_service.models.workbench import (
    Created,
    CreateRequest,
    ExperimentDetail,
    PinResult,
    Registered,
    RegisterRequest,
    Run,
    TagsResult,
    UpdateRequest,
)
from intake_service.store.postgres.tables import WorkbenchExperiment, WorkbenchRun
from intake_service.store.postgres.workbench import ExperimentChanges, NewExperiment, RunChanges

# Any of these (not null) in POST / makes a run.
RUN_FIELDS = (
    "run_id",
    "run_name",
    "parameters",
    "final_metrics",
    "model_type",
    "problem_type",
    "framework",
    "parent_run_id",
    "system_info",
    "duration_seconds",
)
RUN_UPDATE_FIELDS = ("final_metrics", "duration_seconds", "error_message")
EXPERIMENT_ONLY_FIELDS = ("description", "tags", "is_public", "shared_with")
PINNED, UNPINNED = "Experiment pinned successfully", "Experiment unpinned successfully"
TAGS_UPDATED = "Tags updated successfully"


def _new_experiment(viewer: Viewer, name: str, body: CreateRequest | RegisterRequest) -> NewExperiment:
    moment = now()
    experiment = NewExperiment(
        id=new_experiment_id(),
        workspace=viewer.workspace,
        owner=viewer.name,
        name=name,
        description=body.description,
        status=DEFAULT_STATUS,
        tags=normalize_tags(body.tags or []),
        created_at=moment,
        updated_at=moment,
    )
    if isinstance(body, RegisterRequest):
        return experiment
    return replace(
        experiment,
        status=body.status or DEFAULT_STATUS,
        is_public=bool(body.is_public),
        shared_with=normalize_principals(body.shared_with or []),
    )


async def _run_fields(stores: Stores, viewer: Viewer, body: CreateRequest) -> RunFields:
    """The run POST / asks for, checked before anything is stored."""
    parent = body.parent_run_id
    if parent is not None:
        visible = await stores.repo.find_runs(viewer.workspace, viewer.visibility, parent, viewer.name)
        # Run ids are unique per owner and parent_run_id names no owner: the parent is the caller's own.
        if not any(run.id == parent and run.owner == viewer.name for run, _ in visible):
            raise RunNotFound(parent)
    return RunFields(
        id=check_run_id(body.run_id) if body.run_id is not None else None,
        name=check_name(body.run_name, "run_name") or check_name(body.name, "name"),
        status=body.status,
        parameters=key_values(body.parameters, "parameters") if body.parameters is not None else None,
        final_metrics=(
            key_values(body.final_metrics, "final_metrics", numeric=True) if body.final_metrics is not None else None
        ),
        model_type=body.model_type,
        problem_type=body.problem_type,
        framework=body.framework,
        parent_run_id=parent,
        system_info=body.system_info,
        duration_seconds=body.duration_seconds,
    )


async def create(stores: Stores, viewer: Viewer, body: CreateRequest) -> Created:
    check_storable(body.model_dump(exclude_none=True))
    # Checked even when the run goes into an experiment that exists (and keeps its own values).
    normalize_tags(body.tags or [])
    normalize_principals(body.shared_with or [])
    name = (
        check_name(body.name, "name")
        or check_name(body.run_name, "run_name")
        or check_name(body.experiment_name, "experiment_name")
    )
    if name is None:
        raise InvalidInput("A name is required: give name, run_name or experiment_name.")
    wants_run = any(getattr(body, field) is not None for field in RUN_FIELDS)
    fields = await _run_fields(stores, viewer, body) if wants_run else None
    experiment_name = check_name(body.experiment_name, "experiment_name")
    experiment = None
    if experiment_name is not None:
        experiment = await stores.repo.experiment_by_name(viewer.workspace, viewer.name, experiment_name)
    if experiment is None:
        experiment = await stores.repo.insert_experiment(_new_experiment(viewer, name, body))
        if experiment is None and experiment_name == name:
            # Another request made it between the lookup and the insert: the run goes into it.
            experiment = await stores.repo.experiment_by_name(viewer.workspace, viewer.name, name)
        if experiment is None:
            raise WorkbenchNameTaken(name)
    made: WorkbenchRun | None = None
    if fields is not None:
        moment = now()
        run = new_run(experiment, moment, fields)
        made = await stores.repo.insert_run(run)
        if made is None:
            raise RunIdTaken(run.id)
        await stores.repo.update_experiment(experiment.id, updated_at=moment)
    shown: WorkbenchRun | WorkbenchExperiment = made if made is not None else experiment
    return Created(
        id=experiment.id,
        experiment_id=experiment.id,
        run_id=made.id if made else None,
        name=name,
        status=views.as_status(shown.status),
        createdAt=views.iso(shown.created_at),
    )


async def register(stores: Stores, viewer: Viewer, body: RegisterRequest) -> tuple[Registered, bool]:
    """Get-or-create by name for the caller; the unique (workspace, owner, name) constraint makes
    concurrent calls with one name agree on one experiment. True when it was made now."""
    check_storable(body.model_dump(exclude_none=True))
    name = check_name(body.name, "name")
    if name is None:
        raise InvalidInput("name is required.")
    made = await stores.repo.insert_experiment(_new_experiment(viewer, name, body))
    experiment = made or await stores.repo.experiment_by_name(viewer.workspace, viewer.name, name)
    assert experiment is not None  # the conflicting row is committed before ON CONFLICT reports it
    return Registered(experiment_id=experiment.id, name=experiment.name, exists=made is None), made is not None


async def experiment_detail(stores: Stores, experiment: WorkbenchExperiment) -> ExperimentDetail:
    runs = await stores.repo.runs_of([experiment.id])
    best = scoring.best_run(runs)
    return views.experiment_detail(experiment, runs, best.id if best else None)


async def run_detail(stores: Stores, viewer: Viewer, run: WorkbenchRun) -> Run:
    artifacts = await stores.repo.artifacts_of(run)
    latest: dict[str, float] | None
    try:
        latest = await stores.metrics.latest(viewer.workspace, run.experiment_id, run.id)
    except TelemetryUnavailable:
        latest = None  # degraded: the run itself is in PostgreSQL
    return views.run(run, latest, artifacts)


async def get(stores: Stores, viewer: Viewer, ref: str) -> ExperimentDetail | Run:
    target = await resolve(stores, viewer, ref)
    if target.run is not None:
        return await run_detail(stores, viewer, target.run)
    return await experiment_detail(stores, target.experiment)


async def update(stores: Stores, viewer: Viewer, ref: str, body: UpdateRequest) -> ExperimentDetail | Run:
    """Partial update. On an experiment id, final_metrics/duration_seconds/error_message go to its
    latest run (made if there is none), status with them; on a run id, everything goes to the run."""
    check_status(body.status)
    check_storable(body.model_dump(exclude_none=True))
    name = check_name(body.name, "name")
    if "name" in body.model_fields_set and name is None:
        raise InvalidInput("name may not be empty.")
    target = await resolve(stores, viewer, ref)
    viewer.check_may_change(target.experiment)
    if target.run is not None:
        return await _update_run(stores, viewer, ref, target, body, name)
    return await _update_experiment(stores, viewer, target.experiment, body, name)


async def _update_run(
    stores: Stores, viewer: Viewer, ref: str, target: Target, body: UpdateRequest, name: str | None
) -> Run:
    assert target.run is not None
    misplaced = [field for field in EXPERIMENT_ONLY_FIELDS if field in body.model_fields_set]
    if misplaced:
        raise InvalidInput(f"{', '.join(misplaced)} belong to experiments; {ref} is a run.")
    moment = now()
    changes = _run_changes(body, target.run, moment)
    if name is not None:
        changes["name"] = name
        changes["updated_at"] = moment
    run = target.run
    if changes:
        run = await stores.repo.update_run(run, **changes)
        await stores.repo.update_experiment(target.experiment.id, updated_at=moment)
    return await run_detail(stores, viewer, run)


async def _update_experiment(
    stores: Stores, viewer: Viewer, experiment: WorkbenchExperiment, body: UpdateRequest, name: str | None
) -> ExperimentDetail:
    given = body.model_fields_set
    moment = now()
    if any(field in given for field in RUN_UPDATE_FIELDS):
        run = await latest_or_new_run(stores, experiment)
        run_changes = _run_changes(body, run, moment)
        if run_changes:
            await stores.repo.update_run(run, **run_changes)
    if given:
        updated = await stores.repo.update_experiment(experiment.id, **_experiment_changes(body, name, moment))
        if updated is None:
            assert name is not None  # only a rename can take another experiment's name
            raise WorkbenchNameTaken(name)
        experiment = updated
    return await experiment_detail(stores, experiment)


def _experiment_changes(body: UpdateRequest, name: str | None, moment: datetime) -> ExperimentChanges:
    given = body.model_fields_set
    changes = ExperimentChanges(updated_at=moment)
    if name is not None:
        changes["name"] = name
    if "description" in given:
        changes["description"] = body.description
    if "tags" in given:
        changes["tags"] = normalize_tags(body.tags or [])
    if body.status is not None:
        changes["status"] = body.status
    if "is_public" in given:
        changes["is_public"] = bool(body.is_public)
    if "shared_with" in given:
        changes["shared_with"] = normalize_principals(body.shared_with or [])
    return changes


def _run_changes(body: UpdateRequest, run: WorkbenchRun, moment: datetime) -> RunChanges:
    """What the body changes on a run; the status a new error_message needs may be the run's own."""
    given = body.model_fields_set
    changes = RunChanges()
    if "final_metrics" in given:
        changes["final_metrics"] = (
            [] if body.final_metrics is None else key_values(body.final_metrics, "final_metrics", numeric=True)
        )
    if "duration_seconds" in given:
        changes["duration_seconds"] = body.duration_seconds
    if body.status is not None:
        changes["status"] = body.status
        if body.status != "failed":
            changes["error_message"] = None
    if "error_message" in given and body.error_message is not None:
        if (body.status or run.status) != "failed":
            raise InvalidInput("error_message is only accepted with status 'failed'.")
        changes["error_message"] = body.error_message
    if changes:
        changes["updated_at"] = moment
    return changes


async def delete(stores: Stores, viewer: Viewer, ref: str) -> None:
    """An experiment takes its runs, their metric histories and artifact files with it; a run id
    deletes that run alone. Irreversible."""
    target = await resolve(stores, viewer, ref)
    viewer.check_may_change(target.experiment)
    experiment = target.experiment
    if target.run is not None:
        run_ids, prefix = [target.run.id], f"{viewer.workspace}/{experiment.id}/{target.run.id}/"
    else:
        run_ids, prefix = (
            [run.id for run in await stores.repo.runs_of([experiment.id])],
            f"{viewer.workspace}/{experiment.id}/",
        )
    await stores.repo.delete_runs(viewer.workspace, experiment.owner, run_ids)
    if target.run is None:
        await stores.repo.delete_experiment(experiment.id)
    else:
        await stores.repo.update_experiment(experiment.id, updated_at=now())
    # The rows go at commit; a store failure here raises and rolls them back.
    await stores.metrics.delete_runs(viewer.workspace, experiment.id, run_ids)
    if stores.artifacts is not None:
        await stores.artifacts.delete_prefix(prefix)


async def toggle_pin(stores: Stores, viewer: Viewer, ref: str) -> PinResult:
    experiment = await resolve_experiment(stores, viewer, ref)
    viewer.check_may_change(experiment)
    toggled = await stores.repo.toggle_pin(experiment.id, now())
    return PinResult(id=toggled.id, pinned=toggled.pinned, message=PINNED if toggled.pinned else UNPINNED)


async def set_tags(stores: Stores, viewer: Viewer, ref: str, tags: list[str]) -> TagsResult:
    check_storable(tags, "tags")
    normalized = normalize_tags(tags)
    experiment = await resolve_experiment(stores, viewer, ref)
    viewer.check_may_change(experiment)
    updated = await stores.repo.update_experiment(experiment.id, tags=normalized, updated_at=now())
    assert updated is not None
    return TagsResult(id=updated.id, tags=list(updated.tags), message=TAGS_UPDATED)


def best_runs_by_experiment(
    runs: list[WorkbenchRun],
) -> tuple[dict[str, list[WorkbenchRun]], dict[str, WorkbenchRun | None]]:
    grouped: dict[str, list[WorkbenchRun]] = defaultdict(list)
    for run in runs:
        grouped[run.experiment_id].append(run)
    return grouped, {experiment_id: scoring.best_run(group) for experiment_id, group in grouped.items()}
