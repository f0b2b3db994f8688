"""Rows → the API's models (camelCase as the seed shows them), one converter per entity."""

from datetime import UTC, datetime
from typing import Any, cast

from intake_service.models.workbench import (
    Artifact,
    ArtifactType,
    Experiment,
    ExperimentDetail,
    KeyValue,
    MetricValue,
    Run,
    RunSummary,
    Status,
)
from intake_service.store.postgres.tables import WorkbenchArtifact, WorkbenchExperiment, WorkbenchRun


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _key_values(items: list[dict[str, Any]] | None) -> list[KeyValue]:
    return [KeyValue(key=item["key"], value=item["value"]) for item in items or []]


def as_status(value: str) -> Status:
    return cast(Status, value)  # the tables' CHECK constraints hold it to these values


def experiment(row: WorkbenchExperiment, run_count: int, best_run_id: str | None) -> Experiment:
    return Experiment(
        id=row.id,
        name=row.name,
        description=row.description,
        status=as_status(row.status),
        owner=row.owner,
        organizationId=row.workspace,
        tags=list(row.tags or []),
        pinned=row.pinned,
        runCount=run_count,
        bestRunId=best_run_id,
        isPublic=row.is_public,
        sharedWith=list(row.shared_with or []),
        createdAt=iso(row.created_at),
        updatedAt=iso(row.updated_at),
    )


def experiment_detail(row: WorkbenchExperiment, runs: list[WorkbenchRun], best_run_id: str | None) -> ExperimentDetail:
    overview = experiment(row, len(runs), best_run_id)
    return ExperimentDetail(**overview.model_dump(), runs=[run_summary(run) for run in runs])


def run_summary(row: WorkbenchRun) -> RunSummary:
    return RunSummary(
        id=row.id,
        name=row.name,
        status=as_status(row.status),
        parentRunId=row.parent_run_id,
        finalMetrics=_key_values(row.final_metrics),
        durationSeconds=row.duration_seconds,
        createdAt=iso(row.created_at),
    )


def artifact(row: WorkbenchArtifact) -> Artifact:
    return Artifact(
        name=row.name,
        path=row.path,
        type=cast(ArtifactType, row.type),  # written from ArtifactRequest.type only
        s3_key=row.s3_key,
        size=row.size,
        content_type=row.content_type,
        sha256=row.sha256,
        created_at=iso(row.created_at),
        run_id=row.run_id,
    )


def run(row: WorkbenchRun, latest_metrics: dict[str, float] | None, artifacts: list[WorkbenchArtifact]) -> Run:
    return Run(
        id=row.id,
        experimentId=row.experiment_id,
        name=row.name,
        status=as_status(row.status),
        parameters=_key_values(row.parameters),
        finalMetrics=_key_values(row.final_metrics),
        modelType=row.model_type,
        problemType=row.problem_type,
        framework=row.framework,
        parentRunId=row.parent_run_id,
        systemInfo=row.system_info,
        durationSeconds=row.duration_seconds,
        errorMessage=row.error_message,
        latestMetrics=latest_metrics,
        artifacts=[artifact(a) for a in artifacts],
        createdAt=iso(row.created_at),
        updatedAt=iso(row.updated_at),
    )


def metric_point(row: dict[str, Any]) -> MetricValue:
    moment = row["timestamp"]
    if isinstance(moment, datetime) and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return MetricValue(
        key=row["key"],
        value=row["value"],
        step=int(row["step"]),
        timestamp=iso(moment) if isinstance(moment, datetime) else str(moment),
    )
