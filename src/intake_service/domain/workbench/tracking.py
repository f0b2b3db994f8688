"""Run tracking for the SDK and the AutoML trainer: step metrics (ClickHouse), params (merged into
the run) and artifacts (records in PostgreSQL, bytes in the artifact store). An experiment id means
its latest run: made if there is none when writing, none at all when reading."""

import hashlib
import mimetypes
from dataclasses import dataclass, replace
from datetime import UTC
from typing import Any

from intake_service.domain.workbench import views
from intake_service.domain.workbench.access import Viewer
from intake_service.domain.workbench.errors import ArtifactNotFound, ArtifactNotStored, InvalidInput
from intake_service.domain.workbench.targets import Stores, now, run_for_read, run_for_write
from intake_service.domain.workbench.values import (
    MAX_KEY_VALUES,
    check_artifact_path,
    check_name,
    check_storable,
    check_text,
    decode_content,
    key_values,
    merge_key_values,
)
from intake_service.models.workbench import (
    ArtifactList,
    ArtifactRequest,
    ArtifactResult,
    Logged,
    MetricHistory,
    MetricsRequest,
)
from intake_service.store.artifacts import ArtifactMissing
from intake_service.store.clickhouse.metrics import MetricRecord
from intake_service.store.clickhouse.values import EARLIEST, NANOSECOND_END
from intake_service.store.postgres.workbench import NewArtifact

DEFAULT_CONTENT_TYPE = "application/octet-stream"
# The metrics' DateTime64(6) holds more; 1900 to 2261, what every precision holds, is the range kept.
LATEST = NANOSECOND_END


async def log_metrics(stores: Stores, viewer: Viewer, ref: str, body: MetricsRequest) -> Logged:
    """Append to the run's histories in one block; a point without a step is step 0, without a
    timestamp it is stamped now (a naive timestamp is UTC)."""
    check_storable([point.key for point in body.metrics], "Metric keys")
    moment = now()
    points = []
    for index, point in enumerate(body.metrics):
        stamp = moment
        if point.timestamp is not None:
            given = point.timestamp if point.timestamp.tzinfo else point.timestamp.replace(tzinfo=UTC)
            try:
                stamp = given.astimezone(UTC)
            except OverflowError:
                stamp = EARLIEST.replace(year=1)
            if not EARLIEST <= stamp < LATEST:
                raise InvalidInput(f"metrics[{index}].timestamp must fall in the years 1900 to 2261.")
        step = point.step if point.step is not None else 0
        points.append(MetricRecord(key=point.key, value=point.value, step=step, timestamp=stamp))
    run, experiment = await run_for_write(stores, viewer, ref)
    await stores.metrics.append(viewer.workspace, experiment.id, run.id, points, moment)
    return Logged(logged=len(points))


async def metric_history(
    stores: Stores, viewer: Viewer, ref: str, key: str | None, limit: int, offset: int
) -> MetricHistory:
    """One metric's history (every key's when none is named), by step, then timestamp, then arrival."""
    check_text(key, "key")
    run, experiment = await run_for_read(stores, viewer, ref)
    rows, total = (
        await stores.metrics.history(viewer.workspace, experiment.id, run.id, key, limit, offset)
        if run
        else ([], 0)
    )
    return MetricHistory(
        runId=run.id if run else None,
        experimentId=experiment.id,
        key=key,
        count=total,
        limit=limit,
        offset=offset,
        metrics=[views.metric_point(row) for row in rows],
    )


async def log_params(stores: Stores, viewer: Viewer, ref: str, params: Any) -> Logged:
    """New keys added, existing keys updated; the run row is locked so concurrent calls both land."""
    check_storable(params, "params")
    items = key_values(params, "params")
    run, _ = await run_for_write(stores, viewer, ref, lock=True)
    merged = merge_key_values(list(run.parameters or []), items)
    if len(merged) > MAX_KEY_VALUES:
        raise InvalidInput(f"A run may hold at most {MAX_KEY_VALUES:,} params.")
    await stores.repo.update_run(run, parameters=merged, updated_at=now())
    return Logged(logged=len(items))


@dataclass(frozen=True)
class Content:
    data: bytes
    content_type: str
    sha256: str | None
    name: str


def _checked_artifact(body: ArtifactRequest) -> tuple[str, str, bytes | None]:
    name = check_name(body.name, "name")
    if name is None:
        raise InvalidInput("name is required.")
    if (body.s3_key is None) == (body.content_base64 is None):
        raise InvalidInput("Give exactly one of s3_key or content_base64.")
    path = check_artifact_path(body.path if body.path is not None else name)
    if body.s3_key is not None and (not body.s3_key.strip() or len(body.s3_key) > 2048):
        raise InvalidInput("s3_key must be 1-2048 characters.")
    data = decode_content(body.content_base64) if body.content_base64 is not None else None
    return name, path, data


async def add_artifact(stores: Stores, viewer: Viewer, ref: str, body: ArtifactRequest) -> ArtifactResult:
    """Register an existing object by s3_key, or store base64 content (≤ 25 MiB) with its sha256."""
    check_storable(body.model_dump(exclude={"content_base64"}, exclude_none=True))
    name, path, data = _checked_artifact(body)
    content_type = body.content_type or mimetypes.guess_type(name)[0] or DEFAULT_CONTENT_TYPE
    run, experiment = await run_for_write(stores, viewer, ref)
    record = NewArtifact(
        workspace=viewer.workspace,
        owner=run.owner,
        run_id=run.id,
        path=path,
        experiment_id=experiment.id,
        name=name,
        type=body.type,
        s3_key=body.s3_key or "",
        stored=False,
        size=body.size,
        content_type=content_type,
        sha256=None,
        created_at=now(),
    )
    if data is None:
        assert body.s3_key is not None
        row = await stores.repo.upsert_artifact(record)
    else:
        key = f"{viewer.workspace}/{experiment.id}/{run.id}/{path}"
        sha256 = hashlib.sha256(data).hexdigest()
        stored = replace(record, s3_key=stores.artifacts.location(key), stored=True, size=len(data), sha256=sha256)
        # The record first (not yet committed), then the bytes: a store failure rolls the record back.
        row = await stores.repo.upsert_artifact(stored)
        await stores.artifacts.write(key, data, content_type)
    return ArtifactResult(artifact=views.artifact(row))


async def list_artifacts(stores: Stores, viewer: Viewer, ref: str) -> ArtifactList:
    run, _ = await run_for_read(stores, viewer, ref)
    rows = await stores.repo.artifacts_of(run) if run else []
    return ArtifactList(runId=run.id if run else None, artifacts=[views.artifact(row) for row in rows])


async def artifact_content(stores: Stores, viewer: Viewer, ref: str, path: str) -> Content:
    """Only bytes the service stored are served: a key registered by a caller may point anywhere."""
    check_text(path, "path")
    run, _ = await run_for_read(stores, viewer, ref)
    row = await stores.repo.artifact(run, path) if run else None
    if row is None:
        raise ArtifactNotFound(path)
    if not row.stored:
        raise ArtifactNotStored(path)
    key = f"{viewer.workspace}/{row.experiment_id}/{row.run_id}/{row.path}"
    try:
        data = await stores.artifacts.read(key)
    except ArtifactMissing:
        raise ArtifactNotFound(path) from None
    return Content(data, row.content_type or DEFAULT_CONTENT_TYPE, row.sha256, row.name)
