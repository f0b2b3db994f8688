"""Session and evaluator-result ingest: parse, validate all-or-nothing, normalise, then store."""

import hashlib
import math
import time
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import ValidationError
from starlette.datastructures import QueryParams

from intake_service.domain.experiments import find_live, require_live
from intake_service.domain.listing import parse_list_query
from intake_service.domain.values import text_problem
from intake_service.errors import DomainError, PayloadTooLarge, TelemetryUnavailable, validation_error
from intake_service.models.generated import EvaluatorResult, EvaluatorResultInput, SessionInput
from intake_service.store.clickhouse.executor import datetime_text
from intake_service.store.clickhouse.telemetry import TelemetryStore
from intake_service.store.postgres.experiments import ExperimentRepository

MAX_SESSIONS_PER_REQUEST = 10_000
MAX_BODY_BYTES = 32 * 1024 * 1024
MAX_METADATA_BYTES = 64 * 1024
MAX_INT64 = 2**63 - 1  # token counts are Int64 in ClickHouse, which would wrap larger values
NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl")


class UnknownExperiment(DomainError):
    status_code = 400

    def __init__(self, name: str, deleted: bool = False) -> None:
        super().__init__(
            f"Experiment '{name}' has been deleted and cannot accept new sessions."
            if deleted
            else f"Experiment '{name}' must be created before it can be logged."
        )


async def experiment_problem(repo: ExperimentRepository, workspace: str, name: str) -> UnknownExperiment:
    """The 400 for a tag naming no live experiment: deleted, or never created."""
    if text_problem(name):
        return UnknownExperiment(name)
    deleted = parse_list_query(
        QueryParams({"filter[name]": name, "filter[is_deleted]": "true"}),
        page=1, page_size=1, sort="-created_at", pinned_first=False,
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
    if content_type.split(";")[0].strip().lower() in NDJSON_TYPES:
        items = []
        for number, line in enumerate(body.splitlines()):
            if line.strip():
                try:
                    items.append(orjson.loads(line))
                except orjson.JSONDecodeError:
                    raise validation_error(["body", number], None, f"Line {number + 1} is not valid JSON.") from None
    else:
        document = _json(body)
        if not isinstance(document, dict) or set(document) != {"sessions"} or not isinstance(document["sessions"], list):
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


# ClickHouse's DateTime64 holds 1900-01-01 to 2299-12-31; a server silently clamps anything outside.
MIN_TIME = datetime(1900, 1, 1, tzinfo=UTC)
MAX_TIME = datetime(2300, 1, 1, tzinfo=UTC)


def _in_range(moment: datetime | None, loc: list[str | int]) -> None:
    """Compared as aware datetimes, so a year-1 or year-9999 value with an offset cannot overflow."""
    if moment is not None and not MIN_TIME <= moment < MAX_TIME:
        raise validation_error(loc, moment.isoformat(), "Times must be from 1900-01-01 to 2299-12-31 (UTC).")


def session_row(workspace: str, experiment_id: str, session: SessionInput, index: int, version: int) -> dict[str, Any]:
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
    metadata_json = orjson.dumps(session.metadata or {})
    metadata = metadata_json.decode()
    if len(metadata_json) > MAX_METADATA_BYTES:  # bytes, as for experiments, not characters
        raise validation_error([*loc, "metadata"], None, "metadata must be at most 64 KiB as JSON.")
    _in_range(session.started_at, [*loc, "started_at"])
    _in_range(session.ended_at, [*loc, "ended_at"])
    if session.ended_at is not None and session.ended_at < session.started_at:
        raise validation_error([*loc, "ended_at"], None, "ended_at is before started_at.")
    latency = session.latency_ms
    if latency is None and session.ended_at is not None:
        latency = (session.ended_at - session.started_at).total_seconds() * 1000.0
    return {
        "workspace": workspace,
        "experiment_id": experiment_id,
        "session_id": session.session_id,
        "test_case_id": session.test_case_id,
        "started_at": datetime_text(session.started_at),
        "ended_at": None if session.ended_at is None else datetime_text(session.ended_at),
        "latency_ms": latency,
        "status": session.status or "unknown",
        "model_name": session.model_name,
        "agent_name": session.agent_name,
        "agent_version": session.agent_version,
        "input_tokens": session.input_tokens,
        "output_tokens": session.output_tokens,
        "cached_tokens": session.cached_tokens,
        "cost_usd": session.cost_usd,
        "input": session.input,
        "output": session.output,
        "metadata": metadata,
        "scores": scores,
        # A later copy of a session in the same request wins over an earlier one.
        "version": version + index,
    }


def validate_sessions(workspace: str, experiment_id: str, items: list[Any]) -> list[dict[str, Any]]:
    version = time.time_ns()
    rows = []
    for index, item in enumerate(items):
        try:
            session = SessionInput.model_validate(item)
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ["body", "sessions", index, *first["loc"]]
            raise validation_error(loc, first.get("input"), f"Session {index}: {first['msg']}") from None
        rows.append(session_row(workspace, experiment_id, session, index, version))
    return rows


async def ingest_sessions(
    repo: ExperimentRepository,
    telemetry: TelemetryStore | None,
    workspace: str,
    name: str,
    body: bytes,
    content_type: str,
) -> int:
    # Held until the request commits, after the ClickHouse write: a racing DELETE waits for this
    # ingest (which then goes with the experiment), or wins and this one answers 404.
    experiment = await require_live(repo, workspace, name, for_share=True)
    rows = validate_sessions(workspace, experiment.id, parse_session_items(body, content_type))
    if telemetry is None:
        raise TelemetryUnavailable()
    await telemetry.insert_sessions(workspace, experiment.id, rows)
    return len(rows)


def evaluator_result_id(workspace: str, session_id: str, span_id: str, name: str, experiment_id: str = "") -> str:
    """Stable per replacement key; a result scoped to an experiment is keyed by that experiment too."""
    parts = (workspace, session_id, span_id, name, *((experiment_id,) if experiment_id else ()))
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return f"eval-{digest[:32]}"


def _check_result(body: EvaluatorResultInput) -> None:
    if body.data_type in ("NUMERIC", "BOOLEAN"):
        if body.value is None:
            raise DomainError(f"A {body.data_type} evaluator result needs a value.")
        if not math.isfinite(body.value):
            raise DomainError("An evaluator result value must be a finite number.")
        if body.data_type == "BOOLEAN" and body.value not in (0, 1):
            raise DomainError("A BOOLEAN evaluator result value must be 0 or 1.")
    elif body.string_value is None:
        raise DomainError(f"A {body.data_type} evaluator result needs a string_value.")


async def record_evaluator_result(
    repo: ExperimentRepository,
    telemetry: TelemetryStore | None,
    workspace: str,
    body: EvaluatorResultInput,
    created_by: str | None = None,
) -> EvaluatorResult:
    _check_result(body)
    if telemetry is None:
        raise TelemetryUnavailable()
    if body.experiment_name is not None:
        experiment = await find_live(repo, workspace, body.experiment_name, for_share=True)  # see ingest_sessions
        if experiment is None:
            raise await experiment_problem(repo, workspace, body.experiment_name)
        experiment_id, affected = experiment.id, [experiment.id]
    else:
        experiment_id = ""
        having_session = await repo.get_many(await telemetry.experiments_with_session(workspace, body.session_id))
        affected = [row.id for row in having_session.values() if not row.is_deleted]
    created_at = datetime.now(UTC)
    result = EvaluatorResult(
        evaluator_result_id=evaluator_result_id(
            workspace, body.session_id, body.span_id or "", body.name, experiment_id
        ),
        workspace=workspace,
        session_id=body.session_id,
        span_id=body.span_id or "",
        name=body.name,
        data_type=body.data_type,
        value=body.value,
        string_value=body.string_value,
        comment=body.comment,
        experiment_name=body.experiment_name,
        created_by=created_by,
        created_at=created_at,
    )
    row = {
        **result.model_dump(mode="json"),
        "experiment_id": experiment_id,
        "created_at": datetime_text(created_at),
        "version": time.time_ns(),
        # The replacement key: (session, span, name) within the experiment it is scoped to, if any.
        "scope": experiment_id,
    }
    await telemetry.insert_evaluator_result(row, affected)
    return result
