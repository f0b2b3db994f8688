"""Experiments and runs: create (with the seed's naming fallbacks), register, get, partial update,
cascading delete, pin toggle and tags."""

from collections import defaultdict
from typing import Any

from intake_service.domain.workbench import scoring, views
from intake_service.domain.workbench.access import Viewer
from intake_service.domain.workbench.errors import InvalidInput, RunIdTaken, RunNotFound, WorkbenchNameTaken
from intake_service.domain.workbench.targets import (
    Stores,
    latest_or_new_run,
    now,
    resolve,
    resolve_experiment,
    run_values,
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
from intake_service.models.workbench import CreateRequest, RegisterRequest, UpdateRequest
from intake_service.store.postgres.tables import WorkbenchExperiment, WorkbenchRun

# Any of these (not null) in POST / makes a run.
RUN_FIELDS = (
    "run_id", "run_name", "parameters", "final_metrics", "model_type", "problem_type", "framework",
    "parent_run_id", "system_info", "duration_seconds",
)
RUN_UPDATE_FIELDS = ("final_metrics", "duration_seconds", "error_message")
EXPERIMENT_ONLY_FIELDS = ("description", "tags", "is_public", "shared_with")
PINNED, UNPINNED = "Experiment pinned successfully", "Experiment unpinned successfully"
TAGS_UPDATED = "Tags updated successfully"


def _experiment_values(viewer: Viewer, name: str, body: CreateRequest | RegisterRequest) -> dict[str, Any]:
    moment = now()
    values: dict[str, Any] = {
        "id": new_experiment_id(),
        "workspace": viewer.workspace,
        "owner": viewer.name,
        "name": name,
        "description": body.description,
        "status": getattr(body, "status", None) or DEFAULT_STATUS,
        "tags": normalize_tags(body.tags or []),
        "created_at": moment,
        "updated_at": moment,
    }
    if isinstance(body, CreateRequest):
        values["is_public"] = bool(body.is_public)
        values["shared_with"] = normalize_principals(body.shared_with or [])
    return values


async def _run_fields(stores: Stores, viewer: Viewer, body: CreateRequest) -> dict[str, Any]:
    """The run columns POST / asks for, checked before anything is stored."""
    parent = body.parent_run_id
    if parent is not None:
        found = await stores.repo.get_run(viewer.workspace, parent)
        experiment = await stores.repo.get_experiment(found.experiment_id) if found else None
        if experiment is None or not viewer.may_see(experiment):
            raise RunNotFound(parent)
    return {
        "id": check_run_id(body.run_id) if body.run_id is not None else None,
        "name": check_name(body.run_name, "run_name") or check_name(body.name, "name"),
        "status": body.status,
        "parameters": key_values(body.parameters, "parameters") if body.parameters is not None else None,
        "final_metrics": (
            key_values(body.final_metrics, "final_metrics", numeric=True) if body.final_metrics is not None else None
        ),
        "model_type": body.model_type,
        "problem_type": body.problem_type,
        "framework": body.framework,
        "parent_run_id": parent,
        "system_info": body.system_info,
        "duration_seconds": body.duration_seconds,
    }


async def create(stores: Stores, viewer: Viewer, body: CreateRequest) -> dict[str, Any]:
    check_storable(body.model_dump(exclude_none=True))
    name = (
        check_name(body.name, "name")
        or check_name(body.run_name, "run_name")
        or check_name(body.experiment_name, "experiment_name")
    )
    if name is None:
        raise InvalidInput("A name is required: give name, run_name or experiment_name.")
    wants_run = any(getattr(body, field) is not None for field in RUN_FIELDS)
    fields = await _run_fields(stores, viewer, body) if wants_run else {}
    values = _experiment_values(viewer, name, body)
    experiment_name = check_name(body.experiment_name, "experiment_name")
    experiment = None
    if experiment_name is not None:
        experiment = await stores.repo.experiment_by_name(viewer.workspace, viewer.name, experiment_name)
    if experiment is None:
        experiment = await stores.repo.insert_experiment(values)
        if experiment is None and experiment_name == name:
            # Another request made it between the lookup and the insert: the run goes into it.
            experiment = await stores.repo.experiment_by_name(viewer.workspace, viewer.name, name)
        if experiment is None:
            raise WorkbenchNameTaken(name)
    made: WorkbenchRun | None = None
    if wants_run:
        moment = now()
        made = await stores.repo.insert_run(run_values(experiment, moment, **fields))
        if made is None:
            raise RunIdTaken(fields["id"])
        await stores.repo.update_experiment(experiment.id, {"updated_at": moment})
    shown: WorkbenchRun | WorkbenchExperiment = made if made is not None else experiment
    return {
        "id": experiment.id,
        "experiment_id": experiment.id,
        "run_id": made.id if made else None,
        "name": name,
        "status": shown.status,
        "createdAt": views.iso(shown.created_at),
    }


async def register(stores: Stores, viewer: Viewer, body: RegisterRequest) -> tuple[dict[str, Any], bool]:
    """Get-or-create by name for the caller; the unique (workspace, owner, name) constraint makes
    concurrent calls with one name agree on one experiment. True when it was made now."""
    check_storable(body.model_dump(exclude_none=True))
    name = check_name(body.name, "name")
    if name is None:
        raise InvalidInput("name is required.")
    values = _experiment_values(viewer, name, body)
    made = await stores.repo.insert_experiment(values)
    experiment = made or await stores.repo.experiment_by_name(viewer.workspace, viewer.name, name)
    assert experiment is not None  # the conflicting row is committed before ON CONFLICT reports it
    return {"experiment_id": experiment.id, "name": experiment.name, "exists": made is None}, made is not None


async def experiment_view(stores: Stores, experiment: WorkbenchExperiment, *, with_runs: bool) -> dict[str, Any]:
    runs = await stores.repo.runs_of([experiment.id])
    best = scoring.best_run(runs)
    view = views.experiment(experiment, len(runs), best.id if best else None)
    if with_runs:
        view["runs"] = [views.run_summary(run) for run in runs]
    return view


async def run_view(stores: Stores, viewer: Viewer, run: WorkbenchRun) -> dict[str, Any]:
    artifacts = await stores.repo.artifacts_of(viewer.workspace, [run.id])
    latest: dict[str, float] | None
    try:
        latest = (await stores.metrics.latest(viewer.workspace, [run.id])).get(run.id, {})
    except TelemetryUnavailable:
        latest = None  # degraded: the run itself is in PostgreSQL
    return views.run(run, latest, artifacts)


async def get(stores: Stores, viewer: Viewer, ref: str) -> dict[str, Any]:
    target = await resolve(stores, viewer, ref)
    if target.run is not None:
        return await run_view(stores, viewer, target.run)
    return await experiment_view(stores, target.experiment, with_runs=True)


def _run_update(body: UpdateRequest, run: WorkbenchRun | None, moment: Any) -> dict[str, Any]:
    given = body.model_fields_set
    values: dict[str, Any] = {}
    if "final_metrics" in given:
        if body.final_metrics is None:
            values["final_metrics"] = []
        else:
            values["final_metrics"] = key_values(body.final_metrics, "final_metrics", numeric=True)
    if "duration_seconds" in given:
        values["duration_seconds"] = body.duration_seconds
    if body.status is not None:
        values["status"] = body.status
        if body.status != "failed":
            values["error_message"] = None
    if "error_message" in given and body.error_message is not None:
        status = body.status or (run.status if run is not None else None)
        if status != "failed":
            raise InvalidInput("error_message is only accepted with status 'failed'.")
        values["error_message"] = body.error_message
    if values:
        values["updated_at"] = moment
    return values


async def update(stores: Stores, viewer: Viewer, ref: str, body: UpdateRequest) -> dict[str, Any]:
    """Partial update. On an experiment id, final_metrics/duration_seconds/error_message go to its
    latest run (made if there is none), status with them; on a run id, everything goes to the run."""
    check_status(body.status)
    check_storable(body.model_dump(exclude_none=True))
    given = body.model_fields_set
    if "name" in given and check_name(body.name, "name") is None:
        raise InvalidInput("name may not be empty.")
    target = await resolve(stores, viewer, ref)
    viewer.check_may_change(target.experiment)
    moment = now()
    if target.run is not None:
        misplaced = [field for field in EXPERIMENT_ONLY_FIELDS if field in given]
        if misplaced:
            raise InvalidInput(f"{', '.join(misplaced)} belong to experiments; {ref} is a run.")
        values = _run_update(body, target.run, moment)
        if "name" in given:
            values.update(name=check_name(body.name, "name"), updated_at=moment)
        run = await stores.repo.update_run(viewer.workspace, target.run.id, values) if values else target.run
        if values:
            await stores.repo.update_experiment(target.experiment.id, {"updated_at": moment})
        return await run_view(stores, viewer, run)

    experiment = target.experiment
    values: dict[str, Any] = {}
    if "name" in given:
        values["name"] = check_name(body.name, "name")
    if "description" in given:
        values["description"] = body.description
    if "tags" in given:
        values["tags"] = normalize_tags(body.tags or [])
    if body.status is not None:
        values["status"] = body.status
    if "is_public" in given:
        values["is_public"] = bool(body.is_public)
    if "shared_with" in given:
        values["shared_with"] = normalize_principals(body.shared_with or [])
    if any(field in given for field in RUN_UPDATE_FIELDS):
        run = await latest_or_new_run(stores, experiment)
        run_update = _run_update(body, run, moment)
        if run_update:
            await stores.repo.update_run(viewer.workspace, run.id, run_update)
    if values or given:
        updated = await stores.repo.update_experiment(experiment.id, {**values, "updated_at": moment})
        if updated is None:
            raise WorkbenchNameTaken(values["name"])
        experiment = updated
    return await experiment_view(stores, experiment, with_runs=True)


async def delete(stores: Stores, viewer: Viewer, ref: str) -> None:
    """An experiment takes its runs, their metric histories and artifact files with it; a run id
    deletes that run alone. Irreversible."""
    target = await resolve(stores, viewer, ref)
    viewer.check_may_change(target.experiment)
    experiment = target.experiment
    if target.run is not None:
        run_ids, prefix = [target.run.id], f"{viewer.workspace}/{experiment.id}/{target.run.id}/"
    else:
        run_ids, prefix = [run.id for run in await stores.repo.runs_of([experiment.id])], f"{viewer.workspace}/{experiment.id}/"
    await stores.repo.delete_runs(viewer.workspace, run_ids)
    if target.run is None:
        await stores.repo.delete_experiment(experiment.id)
    else:
        await stores.repo.update_experiment(experiment.id, {"updated_at": now()})
    # The rows go at commit; a store failure here raises and rolls them back.
    await stores.metrics.delete_runs(viewer.workspace, run_ids)
    if stores.artifacts is not None:
        await stores.artifacts.delete_prefix(prefix)


async def toggle_pin(stores: Stores, viewer: Viewer, ref: str) -> dict[str, Any]:
    experiment = await resolve_experiment(stores, viewer, ref)
    viewer.check_may_change(experiment)
    toggled = await stores.repo.toggle_pin(experiment.id, now())
    return {"id": toggled.id, "pinned": toggled.pinned, "message": PINNED if toggled.pinned else UNPINNED}


async def set_tags(stores: Stores, viewer: Viewer, ref: str, tags: list[str]) -> dict[str, Any]:
    check_storable(tags, "tags")
    normalized = normalize_tags(tags)
    experiment = await resolve_experiment(stores, viewer, ref)
    viewer.check_may_change(experiment)
    updated = await stores.repo.update_experiment(experiment.id, {"tags": normalized, "updated_at": now()})
    assert updated is not None
    return {"id": updated.id, "tags": list(updated.tags), "message": TAGS_UPDATED}


def best_runs_by_experiment(runs: list[WorkbenchRun]) -> tuple[dict[str, list[WorkbenchRun]], dict[str, WorkbenchRun | None]]:
    grouped: dict[str, list[WorkbenchRun]] = defaultdict(list)
    for run in runs:
        grouped[run.experiment_id].append(run)
    return grouped, {experiment_id: scoring.best_run(group) for experiment_id, group in grouped.items()}
