"""Evaluation rules (SDK 0.3.0 `/evaluations`): the seeds' run seen the 0.3.0 way, one row for both.

Membership is `experiment_ids` (at least one, each an existing group; the deprecated
`experiment_group_id` is coalesced into it and reads as its first); `parent_evaluation_id` (alias
`parent_experiment_id`) names an existing evaluation; PUT replaces everything but the immutable
name and dataset; PATCH changes only the fields present; delete renames the row so its name is free.
An evaluation that is a container's baseline (SDK 0.4+) can neither leave that container nor be
deleted (409).
"""

import json
from typing import Any

from intake_service.domain.containers import check_baseline_kept
from intake_service.domain.experiment_groups import deleted_name
from intake_service.domain.experiments import find_live, new_experiment_id, now
from intake_service.domain.rollups import hydrate
from intake_service.domain.values import json_problem, text_problem
from intake_service.errors import (
    DomainError,
    EvaluationFieldImmutable,
    EvaluationNameTaken,
    EvaluationNotFound,
    TelemetryUnavailable,
    validation_error,
)
from intake_service.models.generated import (
    EvaluationPatchRequest,
    EvaluationRequest,
    EvaluationResponse,
)
from intake_service.store.clickhouse.telemetry import TelemetryStore
from intake_service.store.postgres.evaluations import (
    UNCHANGED,
    EvaluationChanges,
    EvaluationFields,
    EvaluationRepository,
    Unchanged,
)
from intake_service.store.postgres.tables import Experiment

IMMUTABLE_FIELDS = ("name", "dataset_name", "dataset_version")
MAX_METADATA_BYTES = 64 * 1024


# --- reading ----------------------------------------------------------------------------------------


def text_metadata(metadata: dict[str, Any]) -> dict[str, str]:
    """0.3.0 metadata is string-valued; a run written at /experiments may hold other JSON, which
    reads as its JSON text."""
    return {k: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for k, v in metadata.items()}


async def respond(
    telemetry: TelemetryStore, rows: list[Experiment], rollups: dict[str, dict[str, Any]] | None = None
) -> tuple[list[EvaluationResponse], bool]:
    """The responses of `rows` with their rollups (read here unless given), and whether the
    telemetry store answered."""
    hydrated = await hydrate(telemetry, rows)
    if rollups is None and rows and hydrated.available:
        try:
            rollups = await telemetry.evaluation_rollups(rows[0].workspace, [row.id for row in rows])
        except TelemetryUnavailable:
            hydrated.available = False
    responses = []
    for row, experiment in zip(rows, hydrated.experiments, strict=True):
        rollup = (rollups or {}).get(row.id, {})
        responses.append(
            EvaluationResponse(
                id=row.id,
                name=row.name,
                workspace=row.workspace,
                experiment_ids=list(row.experiment_ids),
                experiment_group_id=row.experiment_ids[0] if row.experiment_ids else None,
                dataset_name=row.dataset_name,
                dataset_version=row.dataset_version,
                source_link=row.source_link,
                metadata=text_metadata(row.metadata_),
                description=row.description,
                parent_evaluation_id=row.parent_evaluation_id,
                parent_experiment_id=row.parent_evaluation_id,
                status=row.status,
                root_cause=row.root_cause,
                created_by=row.created_by,
                created_at=row.created_at,
                updated_at=row.updated_at,
                pinned_at=row.pinned_at,
                evaluator_names=experiment.evaluator_names,
                model_names=experiment.model_names,
                agent_names=experiment.agent_names,
                agent_versions=experiment.agent_versions,
                run_count=experiment.run_count,
                test_case_count=rollup.get("test_case_count", 0),
                cost_usd=rollup.get("cost_usd"),
                latency_ms=rollup.get("latency_ms"),
                tokens=rollup.get("tokens"),
                aggregate_scores=rollup.get("aggregate_scores", {}),
            )
        )
    return responses, hydrated.available


async def respond_one(telemetry: TelemetryStore, row: Experiment) -> tuple[EvaluationResponse, bool]:
    responses, available = await respond(telemetry, [row])
    return responses[0], available


async def require_live(
    repo: EvaluationRepository, workspace: str, name: str, *, for_update: bool = False
) -> Experiment:
    row = await find_live(repo, workspace, name, for_update=for_update)
    if row is None:
        raise EvaluationNotFound(workspace, name)
    return row


# --- rules on written values ------------------------------------------------------------------------


async def known_groups(repo: EvaluationRepository, workspace: str, ids: list[str]) -> set[str]:
    """Those of `ids` that name live experiment groups (/experiment-groups) of the workspace."""
    return await repo.live_group_ids(workspace, ids)


async def check_groups(repo: EvaluationRepository, workspace: str, ids: list[str], current: list[str]) -> None:
    """At least one group (a 422 on the body, as NeMo's request model answers it); every group not
    already a membership must exist."""
    if not ids:
        raise validation_error(
            ["body", "experiment_ids"],
            ids,
            "An evaluation must belong to at least one group: provide experiment_ids or experiment_group_id.",
        )
    new = [i for i in ids if i not in current]
    known = await known_groups(repo, workspace, new) if new else set()
    for group_id in new:
        if group_id not in known:
            raise DomainError(f"Experiment group '{group_id}' must be created before an evaluation can reference it.")


async def check_parent(repo: EvaluationRepository, workspace: str, parent_id: str | None) -> None:
    if parent_id is not None and (text_problem(parent_id) or not await repo.has_id(workspace, parent_id)):
        raise DomainError(f"parent_evaluation_id '{parent_id}' does not reference an existing evaluation.")


def check_storable(fields: dict[str, Any]) -> None:
    """422 for values the schema admits but PostgreSQL cannot store (NUL, lone surrogates), and for
    metadata past 64 KiB."""
    for name, value in fields.items():
        if name == "metadata":
            problem = json_problem(value or {})
            if problem is None and len(json.dumps(value or {}, ensure_ascii=False).encode()) > MAX_METADATA_BYTES:
                problem = "must be at most 64 KiB as JSON"
        elif isinstance(value, list):
            problem = next((text_problem(v) for v in value if text_problem(v)), None)
        else:
            problem = text_problem(value) if isinstance(value, str) else None
        if problem:
            raise validation_error(["body", name], None, f"{name} {problem}.")


def membership(body: EvaluationRequest) -> list[str]:
    """experiment_ids, or the deprecated experiment_group_id when they are omitted; a set, in order."""
    ids = [i.root for i in body.experiment_ids or []]
    if not ids and body.experiment_group_id:
        ids = [body.experiment_group_id]
    return list(dict.fromkeys(ids))


def _fields(body: EvaluationRequest) -> EvaluationFields:
    return EvaluationFields(
        experiment_ids=membership(body),
        source_link=str(body.source_link) if body.source_link is not None else None,
        metadata=body.metadata or {},
        description=body.description,
        parent_evaluation_id=body.parent_evaluation_id or body.parent_experiment_id,
        status=body.status,
        root_cause=body.root_cause,
    )


def _check_request(body: EvaluationRequest) -> None:
    check_storable(body.model_dump(exclude_none=True, mode="json"))


# --- the operations ---------------------------------------------------------------------------------


async def create(
    repo: EvaluationRepository,
    telemetry: TelemetryStore,
    workspace: str,
    body: EvaluationRequest,
    created_by: str | None,
) -> tuple[EvaluationResponse, bool]:
    _check_request(body)
    fields = _fields(body)
    await check_groups(repo, workspace, fields.experiment_ids, [])
    await check_parent(repo, workspace, fields.parent_evaluation_id)
    created_at = now()
    row = await repo.insert(
        id=new_experiment_id(),
        workspace=workspace,
        name=body.name,
        agent_name=None,
        agent_version=None,
        dataset_name=body.dataset_name,
        dataset_version=body.dataset_version,
        created_by=created_by,
        created_at=created_at,
        fields=fields,
    )
    if row is None:
        raise EvaluationNameTaken(workspace, body.name)
    return await respond_one(telemetry, row)


async def get(
    repo: EvaluationRepository, telemetry: TelemetryStore, workspace: str, name: str
) -> tuple[EvaluationResponse, bool]:
    return await respond_one(telemetry, await require_live(repo, workspace, name))


async def replace(
    repo: EvaluationRepository, telemetry: TelemetryStore, workspace: str, name: str, body: EvaluationRequest
) -> tuple[EvaluationResponse, bool]:
    """Full replacement: an omitted field goes back to its default; name and dataset are fixed."""
    current = await require_live(repo, workspace, name, for_update=True)
    _check_request(body)
    fields = _fields(body)
    await check_groups(repo, workspace, fields.experiment_ids, list(current.experiment_ids))
    await check_parent(repo, workspace, fields.parent_evaluation_id)
    changed = [f for f in IMMUTABLE_FIELDS if getattr(body, f) != (name if f == "name" else getattr(current, f))]
    if changed:
        raise EvaluationFieldImmutable(changed)
    await check_baseline_kept(repo, workspace, name, _leaving(current, fields.experiment_ids))
    row = await repo.replace_fields(workspace, name, fields, updated_at=now())
    assert row is not None  # locked above
    return await respond_one(telemetry, row)


async def patch(
    repo: EvaluationRepository, telemetry: TelemetryStore, workspace: str, name: str, body: EvaluationPatchRequest
) -> tuple[EvaluationResponse, bool]:
    """Only the fields present in the body change; experiment_ids replaces the whole membership."""
    current = await require_live(repo, workspace, name, for_update=True)
    present = body.model_dump(include=body.model_fields_set, mode="json")
    check_storable(present)
    ids: list[str] | Unchanged = UNCHANGED
    if present.get("experiment_ids") is not None:  # null keeps the groups: an evaluation has at least one
        ids = list(dict.fromkeys(present["experiment_ids"]))
        await check_groups(repo, workspace, ids, list(current.experiment_ids))
        await check_baseline_kept(repo, workspace, name, _leaving(current, ids))
    if "parent_evaluation_id" in present:
        await check_parent(repo, workspace, present["parent_evaluation_id"])
    changes = EvaluationChanges(
        experiment_ids=ids,
        parent_evaluation_id=present.get("parent_evaluation_id", UNCHANGED),
        # Metadata is never null: clearing it leaves it empty.
        metadata=(present["metadata"] or {}) if "metadata" in present else UNCHANGED,
        source_link=present.get("source_link", UNCHANGED),
        description=present.get("description", UNCHANGED),
        status=present.get("status", UNCHANGED),
        root_cause=present.get("root_cause", UNCHANGED),
    )
    row = await repo.change_fields(workspace, name, changes, updated_at=now())
    assert row is not None  # locked above
    return await respond_one(telemetry, row)


def _leaving(current: Experiment, ids: list[str]) -> list[str]:
    return [group_id for group_id in current.experiment_ids if group_id not in ids]


async def delete(repo: EvaluationRepository, workspace: str, name: str) -> None:
    current = await require_live(repo, workspace, name, for_update=True)
    await check_baseline_kept(repo, workspace, name, list(current.experiment_ids))
    moment = now()
    row = await repo.rename_deleted(workspace, name, deleted_name(name, moment), deleted_at=moment)
    assert row is not None  # locked above


async def set_pin(
    repo: EvaluationRepository, telemetry: TelemetryStore, workspace: str, name: str, *, pinned: bool
) -> tuple[EvaluationResponse, bool]:
    await require_live(repo, workspace, name, for_update=True)
    moment = now()
    row = await repo.set_pinned_at(workspace, name, moment if pinned else None, updated_at=moment)
    assert row is not None  # locked above
    return await respond_one(telemetry, row)
