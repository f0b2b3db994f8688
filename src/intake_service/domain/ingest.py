"""Session ingest: parse, validate all-or-nothing, normalise, then store; and the 400 for a tag
naming no live experiment, which every ingest path shares."""

import math
from datetime import datetime
from typing import Any

import orjson
from pydantic import ValidationError
from starlette.datastructures import QueryParams

from intake_service.domain.experiments import require_live
from intake_service.domain.formats import bulk_sessions, check_json_values, media_type, worker
from intake_service.domain.formats.bulk_sessions import FastSession
from intake_service.domain.listing import parse_list_query
from intake_service.domain.values import text_problem
from intake_service.errors import PayloadTooLarge, UnknownExperiment, validation_error
from intake_service.models.generated import SessionInput
from intake_service.store.clickhouse.executor import json_each_row
from intake_service.store.clickhouse.sessions import SessionBatch, SessionRecord, session_rows
from intake_service.store.clickhouse.telemetry import TelemetryStore
from intake_service.store.clickhouse.values import MAX_INT64, holds_microseconds
from intake_service.store.postgres.experiments import ExperimentRepository

MAX_SESSIONS_PER_REQUEST = 10_000
MAX_BODY_BYTES = 32 * 1024 * 1024
MAX_METADATA_BYTES = 64 * 1024
NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl")


async def experiment_problem(repo: ExperimentRepository, workspace: str, name: str) -> UnknownExperiment:
    """The 400 for a tag naming no live experiment: deleted, or never created."""
    if text_problem(name):
        return UnknownExperiment(name)
    deleted = parse_list_query(
        QueryParams({"filter[name]": name, "filter[is_deleted]": "true"}),
        page=1,
        page_size=1,
        sort="-created_at",
        pinned_first=False,
    )
    _, total = await repo.list_page(workspace, deleted)
    return UnknownExperiment(name, deleted=total > 0)


def _json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise validation_error(["body"], None, "The body is not valid JSON.") from None


def parse_session_items(body: bytes, content_type: str) -> list[Any]:
    """The raw session objects of a JSON or NDJSON body, before validation."""
    check_json_values(body)
    if media_type(content_type) in NDJSON_TYPES:
        items = []
        for number, line in enumerate(body.splitlines()):
            if line.strip():
                try:
                    items.append(orjson.loads(line))
                except orjson.JSONDecodeError:
                    raise validation_error(["body", number], None, f"Line {number + 1} is not valid JSON.") from None
    else:
        document = _json(body)
        if (
            not isinstance(document, dict)
            or set(document) != {"sessions"}
            or not isinstance(document["sessions"], list)
        ):
            raise validation_error(["body"], None, 'The body must be {"sessions": [...]} or NDJSON.')
        items = document["sessions"]
    if len(items) > MAX_SESSIONS_PER_REQUEST:
        raise PayloadTooLarge(f"A request may carry at most {MAX_SESSIONS_PER_REQUEST:,} sessions.")
    if not items:
        raise validation_error(["body", "sessions"], [], "At least one session is required.")
    return items


def _finite(value: float | None, loc: list[str | int]) -> None:
    if value is not None and not math.isfinite(value):
        raise validation_error(loc, None, "Numbers must be finite.")


def _in_range(moment: datetime | None, loc: list[str | int]) -> None:
    if moment is not None and not holds_microseconds(moment):
        raise validation_error(loc, moment.isoformat(), "Times must be from 1900-01-01 to 2299-12-31 (UTC).")


def check_session(session: SessionInput | FastSession, index: int) -> SessionRecord:
    """The session checked for what its schema admits but the store cannot keep, with its latency
    (from its window when not given), its numeric scores and its metadata as JSON."""
    loc: list[str | int] = ["body", "sessions", index]
    for name in ("latency_ms", "cost_usd"):
        _finite(getattr(session, name), [*loc, name])
    for name in ("input_tokens", "output_tokens", "cached_tokens"):
        count = getattr(session, name)
        if count is not None and count > MAX_INT64:
            raise validation_error([*loc, name], count, f"{name} must be at most {MAX_INT64}.")
    scores: dict[str, float] = {}
    for name, value in (session.scores or {}).items():
        if problem := text_problem(name):
            raise validation_error([*loc, "scores", name], name, f"A score name {problem}.")
        if value is None:
            continue
        _finite(float(value), [*loc, "scores", name])
        scores[name] = float(value)
    metadata_json = orjson.dumps(session.metadata) if session.metadata else b"{}"
    if len(metadata_json) > MAX_METADATA_BYTES:  # bytes, as for experiments, not characters
        raise validation_error([*loc, "metadata"], None, "metadata must be at most 64 KiB as JSON.")
    _in_range(session.started_at, [*loc, "started_at"])
    _in_range(session.ended_at, [*loc, "ended_at"])
    if session.ended_at is not None and session.ended_at < session.started_at:
        raise validation_error([*loc, "ended_at"], None, "ended_at is before started_at.")
    latency = session.latency_ms
    if latency is None and session.ended_at is not None:
        latency = (session.ended_at - session.started_at).total_seconds() * 1000.0
    return SessionRecord(session, latency, scores, metadata_json.decode())


def checked_sessions(body: bytes, content_type: str) -> list[SessionRecord]:
    """The sessions of a JSON or NDJSON body, validated all or nothing: read by msgspec in one pass
    when it can, else (and for every error) through the model, whose answer is the contract."""
    check_json_values(body)
    fast = bulk_sessions.decode(body, media_type(content_type) in NDJSON_TYPES)
    if fast and len(fast) <= MAX_SESSIONS_PER_REQUEST and all(bulk_sessions.usable(s) for s in fast):
        try:
            return [check_session(session, index) for index, session in enumerate(fast)]
        except Exception:  # noqa: BLE001 - the model's path below raises the error it answers
            pass
    return validate_sessions(parse_session_items(body, content_type))


def encoded_sessions(
    body: bytes, content_type: str, workspace: str, experiment_id: str
) -> tuple[SessionBatch, list[None]]:
    """The body's sessions checked and encoded as the rows of one INSERT. For a large body this runs
    in the worker process, and what comes back is one bytes object, not thousands of models."""
    records = checked_sessions(body, content_type)
    return SessionBatch(len(records), json_each_row(session_rows(workspace, experiment_id, records))), []


def validate_sessions(items: list[Any]) -> list[SessionRecord]:
    records = []
    for index, item in enumerate(items):
        try:
            session = SessionInput.model_validate(item)
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ["body", "sessions", index, *first["loc"]]
            raise validation_error(loc, first.get("input"), f"Session {index}: {first['msg']}") from None
        records.append(check_session(session, index))
    return records


async def ingest_sessions(
    repo: ExperimentRepository,
    telemetry: TelemetryStore,
    workspace: str,
    name: str,
    body: bytes,
    content_type: str,
) -> int:
    # Held until the request commits, after the ClickHouse write: a racing DELETE waits for this
    # ingest (which then goes with the experiment), or wins and this one answers 404. The lock (with
    # an API key's last use, when auth touched it) is all this transaction writes, and neither needs
    # to survive a crash: its commit need not wait for the disk.
    await repo.lock_without_flush()
    experiment = await require_live(repo, workspace, name, for_share=True)
    # Parsing and validating up to 10,000 sessions is CPU work: off the event loop (a large body in
    # the worker process).
    batch, _ = await worker.parse_body(encoded_sessions, body, content_type, workspace, experiment.id)
    await telemetry.insert_sessions(workspace, experiment.id, batch.rows)
    return batch.count
