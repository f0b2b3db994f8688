"""Experiment rules: naming, the immutable-field guard, soft delete, pinning, listing.

A run may be an SDK 0.4+ container's baseline (domain.containers). The seeds' contract has no 409
for that: a run deleted or moved out of the container here takes the baseline with it."""

from datetime import UTC, datetime
from typing import Any

from uuid6 import uuid7

from intake_service.domain.leaderboard import rollup_page
from intake_service.domain.listing import ListQuery
from intake_service.domain.paging import pagination
from intake_service.domain.rollups import Hydrated, hydrate, hydrate_fields
from intake_service.domain.values import json_problem, metadata_too_large, text_problem
from intake_service.errors import (
    ExperimentNotFound,
    ImmutableFieldChanged,
    NameTaken,
    validation_error,
)
from intake_service.models.generated import ExperimentRequest, ExperimentResponsesPage
from intake_service.store.clickhouse.telemetry import TelemetryStore
from intake_service.store.postgres.experiments import ExperimentFields, ExperimentRepository
from intake_service.store.postgres.tables import Experiment

IMMUTABLE_FIELDS = ("name", "dataset_name", "dataset_version", "agent_name", "agent_version")
TEXT_FIELDS = (
    "name", "dataset_name", "agent_name", "agent_version", "experiment_group_id", "dataset_version",
    "description", "summary",
)  # fmt: skip


def new_experiment_id() -> str:
    return f"exp-{uuid7()}"


def now() -> datetime:
    return datetime.now(UTC)


def check_storable(body: ExperimentRequest) -> None:
    """422 for values the schema admits but PostgreSQL cannot store (NUL, lone surrogates, NaN)."""
    for name in TEXT_FIELDS:
        value = getattr(body, name)
        problem = text_problem(value) if value is not None else None
        if problem:
            raise validation_error(["body", name], None, f"{name} {problem}.")
    problem = json_problem(body.metadata or {})
    if problem:
        raise validation_error(["body", "metadata"], None, f"metadata {problem}.")


def _mutable_fields(body: ExperimentRequest) -> ExperimentFields:
    """The fields PUT replaces; an omitted optional field goes back to its default."""
    check_storable(body)
    metadata = body.metadata or {}
    if metadata_too_large(metadata):
        raise validation_error(["body", "metadata"], None, "metadata must be at most 64 KiB as JSON.")
    return ExperimentFields(
        experiment_group_id=body.experiment_group_id,
        source_link=str(body.source_link) if body.source_link is not None else None,
        metadata=metadata,
        description=body.description,
        summary=body.summary,
    )


async def create(
    repo: ExperimentRepository,
    telemetry: TelemetryStore,
    workspace: str,
    body: ExperimentRequest,
    created_by: str | None = None,
) -> Hydrated:
    created_at = now()
    row = await repo.insert(
        id=new_experiment_id(),
        workspace=workspace,
        name=body.name,
        agent_name=body.agent_name,
        agent_version=body.agent_version,
        dataset_name=body.dataset_name,
        dataset_version=body.dataset_version,
        created_by=created_by,
        created_at=created_at,
        fields=_mutable_fields(body),
    )
    if row is None:
        raise NameTaken(workspace, body.name)
    return await hydrate_one(telemetry, row)


async def find_live(
    repo: ExperimentRepository, workspace: str, name: str, *, for_update: bool = False, for_share: bool = False
) -> Experiment | None:
    """The live experiment of that name; None, without asking PostgreSQL, for a name no experiment
    can have (a NUL or a lone surrogate, which the database would refuse with an error)."""
    if text_problem(name):
        return None
    return await repo.get_live(workspace, name, for_update=for_update, for_share=for_share)


async def require_live(
    repo: ExperimentRepository, workspace: str, name: str, *, for_update: bool = False, for_share: bool = False
) -> Experiment:
    row = await find_live(repo, workspace, name, for_update=for_update, for_share=for_share)
    if row is None:
        raise ExperimentNotFound(workspace, name)
    return row


async def hydrate_one(telemetry: TelemetryStore, row: Experiment) -> Hydrated:
    return await hydrate(telemetry, [row])


async def get(repo: ExperimentRepository, telemetry: TelemetryStore, workspace: str, name: str) -> Hydrated:
    fields = None if text_problem(name) else await repo.live_fields(workspace, name)  # see find_live
    if fields is None:
        raise ExperimentNotFound(workspace, name)
    return await hydrate_fields(telemetry, [fields])


async def replace(
    repo: ExperimentRepository,
    telemetry: TelemetryStore,
    workspace: str,
    name: str,
    body: ExperimentRequest,
) -> Hydrated:
    # The row lock makes the immutable-field check and the update one step against racing writers.
    current = await require_live(repo, workspace, name, for_update=True)
    changed = [f for f in IMMUTABLE_FIELDS if getattr(body, f) != (name if f == "name" else getattr(current, f))]
    # Current clients omit the agent fields: omission keeps the stored values, it changes nothing.
    changed = [f for f in changed if not (f in ("agent_name", "agent_version") and getattr(body, f) is None)]
    if changed:
        raise ImmutableFieldChanged(changed)
    before = list(current.experiment_ids)  # the UPDATE below refreshes `current` too
    row = await repo.replace_fields(workspace, name, _mutable_fields(body), updated_at=now())
    assert row is not None  # locked above
    left = [group_id for group_id in before if group_id not in row.experiment_ids]
    await repo.clear_baseline(workspace, name, left)
    return await hydrate_one(telemetry, row)


async def delete(repo: ExperimentRepository, workspace: str, name: str) -> None:
    row = await repo.soft_delete(workspace, name, deleted_at=now())
    if row is None:
        raise ExperimentNotFound(workspace, name)
    await repo.clear_baseline(workspace, name, row.experiment_ids)


async def set_pin(
    repo: ExperimentRepository, telemetry: TelemetryStore, workspace: str, name: str, *, pinned: bool
) -> Hydrated:
    # Lock first, then read the clock: racing PUT/pin/unpin commit in lock order, so updated_at
    # (and pinned_at) only ever move forward and the last writer's time is the one kept.
    await require_live(repo, workspace, name, for_update=True)
    moment = now()
    row = await repo.set_pinned_at(workspace, name, moment if pinned else None, updated_at=moment)
    assert row is not None  # locked above
    return await hydrate_one(telemetry, row)


def page_fields(query: ListQuery, hydrated: Hydrated, total: int) -> dict[str, Any]:
    """An ExperimentResponsesPage's fields."""
    return {
        "data": hydrated.fields,
        "pagination": pagination(query.page, query.page_size, len(hydrated.fields), total).model_dump(),
        "sort": query.sort.text,
        "filter": query.filter_echo,
    }


def page_envelope(query: ListQuery, hydrated: Hydrated, total: int) -> ExperimentResponsesPage:
    return ExperimentResponsesPage(**page_fields(query, hydrated, total))


async def list_hydrated(
    repo: ExperimentRepository, telemetry: TelemetryStore, workspace: str, query: ListQuery
) -> tuple[Hydrated, int]:
    """One page of experiments with their rollups, and how many match in all."""
    if query.uses_rollups:
        total, hydrated = await rollup_page(repo, telemetry, workspace, query)
        return hydrated, total
    page, total = await repo.list_page(workspace, query)
    return await hydrate_fields(telemetry, page), total


async def list_page(
    repo: ExperimentRepository, telemetry: TelemetryStore, workspace: str, query: ListQuery
) -> tuple[ExperimentResponsesPage, bool]:
    hydrated, total = await list_hydrated(repo, telemetry, workspace, query)
    return page_envelope(query, hydrated, total), hydrated.available
