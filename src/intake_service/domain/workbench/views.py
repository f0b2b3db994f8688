"""Rows → API objects (camelCase as the seed shows them), one converter per entity."""

from datetime import UTC, datetime
from typing import Any

from intake_service.store.postgres.tables import WorkbenchArtifact, WorkbenchExperiment, WorkbenchRun


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def experiment(row: WorkbenchExperiment, run_count: int, best_run_id: str | None) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "description": row.description,
        "status": row.status,
        "owner": row.owner,
        "organizationId": row.workspace,
        "tags": list(row.tags or []),
        "pinned": row.pinned,
        "runCount": run_count,
        "bestRunId": best_run_id,
        "isPublic": row.is_public,
        "sharedWith": list(row.shared_with or []),
        "createdAt": iso(row.created_at),
        "updatedAt": iso(row.updated_at),
    }


def run_summary(row: WorkbenchRun) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "status": row.status,
        "parentRunId": row.parent_run_id,
        "finalMetrics": list(row.final_metrics or []),
        "durationSeconds": row.duration_seconds,
        "createdAt": iso(row.created_at),
    }


def artifact(row: WorkbenchArtifact) -> dict[str, Any]:
    return {
        "name": row.name,
        "path": row.path,
        "type": row.type,
        "s3_key": row.s3_key,
        "size": row.size,
        "content_type": row.content_type,
        "sha256": row.sha256,
        "created_at": iso(row.created_at),
        "run_id": row.run_id,
    }


def run(
    row: WorkbenchRun, latest_metrics: dict[str, float] | None, artifacts: list[WorkbenchArtifact]
) -> dict[str, Any]:
    return {
        "id": row.id,
        "experimentId": row.experiment_id,
        "name": row.name,
        "status": row.status,
        "parameters": list(row.parameters or []),
        "finalMetrics": list(row.final_metrics or []),
        "modelType": row.model_type,
        "problemType": row.problem_type,
        "framework": row.framework,
        "parentRunId": row.parent_run_id,
        "systemInfo": row.system_info,
        "durationSeconds": row.duration_seconds,
        "errorMessage": row.error_message,
        "latestMetrics": latest_metrics,
        "artifacts": [artifact(a) for a in artifacts],
        "createdAt": iso(row.created_at),
        "updatedAt": iso(row.updated_at),
    }


def metric_point(row: dict[str, Any]) -> dict[str, Any]:
    moment = row["timestamp"]
    if isinstance(moment, datetime) and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return {
        "key": row["key"],
        "value": row["value"],
        "step": int(row["step"]),
        "timestamp": iso(moment) if isinstance(moment, datetime) else str(moment),
    }
