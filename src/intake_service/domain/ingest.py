"""Session ingest: parse, validate all-or-nothing, normalise, then store; and the 400 for a tag
naming no live experiment, which every ingest path shares."""

import functools
import math
from datetime import datetime
from typing import Any

import orjson
from pydantic import ValidationError
from starlette.datastructures import QueryParams

from intake_service.domain.formats import bulk_sessions, check_json_values, media_type, worker
from intake_service.domain.formats.bulk_sessions import FastSession
from intake_service.domain.listing import parse_list_query
from intake_service.domain.values import text_problem
from intake_service.errors import ExperimentNotFound, PayloadTooLarge, UnknownExperiment, validation_error
from intake_service.models.generated import SessionInput
from intake_service.store.clickhouse.executor import json_each_row
from intake_service.store.clickhouse.sessions import SessionBatch, SessionRecord, session_rows
from intake_service.store.clickhouse.telemetry import TelemetryStore
from intake_service.store.clickhouse.values import MAX_INT64, holds_microseconds
from intake_service.store.postgres.experiments import ExperimentRepository

MAX_SESSIONS_PER_REQUEST = 10_000
MAX_BODY_BYTES = 32 * 1024 * 1024
MAX_METADATA_BYTES = 64 * 1024
# A body up to this size (about 200 sessions) is parsed on the event loop: 1-2 ms.
INLINE_BODY_BYTES = 64 * 1024
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


def _loc(index: int, *rest: str) -> list[str | int]:
    return ["body", "sessions", index, *rest]


def _finite(value: float | None, index: int, *field: str) -> None:
    if value is not None and not math.isfinite(value):
        raise validation_error(_loc(index, *field), None, "Numbers must be finite.")


def _in_range(moment: datetime | None, index: int, field: str) -> None:
    if moment is not None and not holds_microseconds(moment):
        raise validation_error(
            _loc(index, field), moment.isoformat(), "Times must be from 1900-01-01 to 2299-12-31 (UTC)."
        )


# A batch's sessions mostly repeat the same few score names: each is checked once. Only short names
# are kept, so that the cache cannot hold 1,024 names of a megabyte each.
_short_name_problem = functools.lru_cache(maxsize=1024)(text_problem)
CACHED_NAME_LENGTH = 256


def _name_problem(name: str) -> str | None:
    return _short_name_problem(name) if len(name) <= CACHED_NAME_LENGTH else text_problem(name)


def check_session(session: SessionInput | FastSession, index: int) -> SessionRecord:
    """The session checked for what its schema admits but the store cannot keep, with its latency
    (from its window when not given), its numeric scores and its metadata as JSON."""
    _finite(session.latency_ms, index, "latency_ms")
    _finite(session.cost_usd, index, "cost_usd")
    for name in ("input_tokens", "output_tokens", "cached_tokens"):
        count = getattr(session, name)
        if count is not None and count > MAX_INT64:
            raise validation_error(_loc(index, name), count, f"{name} must be at most {MAX_INT64}.")
    scores: dict[str, float] = {}
    for name, value in (session.scores or {}).items():
        if problem := _name_problem(name):
            raise validation_error(_loc(index, "scores", name), name, f"A score name {problem}.")
        if value is not None:
            scores[name] = number = float(value)
            _finite(number, index, "scores", name)
    metadata_json = orjson.dumps(session.metadata) if session.metadata else b"{}"
    if len(metadata_json) > MAX_METADATA_BYTES:  # bytes, as for experiments, not characters
        raise validation_error(_loc(index, "metadata"), None, "metadata must be at most 64 KiB as JSON.")
    started, ended = session.started_at, session.ended_at
    _in_range(started, index, "started_at")
    _in_range(ended, index, "ended_at")
    latency = session.latency_ms
    if ended is not None:
        if ended < started:
            raise validation_error(_loc(index, "ended_at"), None, "ended_at is before started_at.")
        if latency is None:
            latency = (ended - started).total_seconds() * 1000.0
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
    experiment = None if text_problem(name) else await repo.share_live_unflushed(workspace, name)
    if experiment is None:
        raise ExperimentNotFound(workspace, name)
    # Parsing and validating up to 10,000 sessions is CPU work: off the event loop (a large body in
    # the worker process), but for a small body, whose parse is as short as the hand-off.
    batch, _ = await worker.parse_body(
        encoded_sessions, body, content_type, workspace, experiment.id, inline_bytes=INLINE_BODY_BYTES
    )
    await telemetry.insert_sessions(workspace, experiment.id, batch.rows)
    return batch.count
