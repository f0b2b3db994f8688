"""Annotations (feedback, note, metadata, label) on a session or one of its spans: create, get, list,
delete. Stored flat in ClickHouse (store/clickhouse/annotations.py); a delete writes a tombstone.

The body rules per kind are NeMo 0.3.0's: feedback takes value positive|negative; note takes text of
1-10,000 characters; metadata a non-empty object; label value_type text|numeric with a value of that
type, and a name when numeric. A field another kind uses is a 422.
"""

import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

from intake_service.domain.span_filters import FilterField, read_list
from intake_service.domain.values import json_problem
from intake_service.errors import AnnotationNotFound, validation_error
from intake_service.models.generated import Annotation, AnnotationInput, AnnotationsPage
from intake_service.store.clickhouse.annotations import AnnotationStore
from intake_service.store.clickhouse.telemetry import TelemetryStore
from intake_service.store.clickhouse.values import datetime_text

KINDS = ("feedback", "note", "metadata", "label")
LIST_PARAMS = ("page", "page_size", "sort")
FILTERS = {
    "span_id": FilterField("text", "span_id"),
    "session_id": FilterField("text", "session_id"),
    "kind": FilterField("enum", "kind", KINDS),
    "name": FilterField("text", "name"),
    "value_text": FilterField("text", "value_text"),
    "value_numeric": FilterField("number", "value"),
    "created_by": FilterField("text", "created_by"),
    "created_at": FilterField("time", "created"),
}
# The fields each kind takes besides kind, session_id and span_id.
KIND_FIELDS = {
    "feedback": {"value"}, "note": {"text"}, "metadata": {"metadata"}, "label": {"value", "value_type", "name"}
}
MAX_NOTE_CHARS = 10_000


def _store(telemetry: TelemetryStore) -> AnnotationStore:
    return AnnotationStore(telemetry.reader)


def _problem(field: str, value: Any, message: str) -> Exception:
    return validation_error(["body", field], value, message)


def _values(body: AnnotationInput) -> dict[str, Any]:
    """The flat value columns of `body`, after its kind's rules (a 422 naming the field)."""
    for name in ("session_id", "span_id", "value", "text", "metadata", "name"):
        problem = json_problem(getattr(body, name))
        if problem:
            raise _problem(name, None, f"{name} {problem}.")
    given = {f for f in ("value", "text", "metadata", "value_type", "name") if getattr(body, f) is not None}
    for extra in sorted(given - KIND_FIELDS[body.kind]):
        raise _problem(extra, getattr(body, extra), f"A {body.kind} annotation takes no {extra}.")
    values: dict[str, Any] = {"name": None, "value_text": None, "value_numeric": None, "text": None, "metadata": None}
    if body.kind == "feedback":
        if body.value not in ("positive", "negative"):
            raise _problem("value", body.value, "A feedback value is positive or negative.")
        values["value_text"] = body.value
    elif body.kind == "note":
        if not body.text or len(body.text) > MAX_NOTE_CHARS:
            raise _problem("text", body.text, f"A note takes a text of 1 to {MAX_NOTE_CHARS:,} characters.")
        values["text"] = body.text
    elif body.kind == "metadata":
        if not body.metadata:
            raise _problem("metadata", body.metadata, "A metadata annotation takes a non-empty metadata object.")
        try:
            values["metadata"] = orjson.dumps(body.metadata).decode()
        except TypeError:  # orjson holds integers of at most 64 bits
            raise _problem("metadata", None, "metadata must not hold integers beyond 64 bits.") from None
    else:
        values["name"] = body.name
        if body.value_type == "numeric":
            if not isinstance(body.value, float | int) or isinstance(body.value, bool):
                raise _problem("value", body.value, "value_type=numeric requires a numeric value.")
            if body.name is None:
                raise _problem("name", None, "value_type=numeric requires a name.")
            values["value_numeric"] = float(body.value)
        elif body.value_type == "text":
            if not isinstance(body.value, str):
                raise _problem("value", body.value, "value_type=text requires a string value.")
            values["value_text"] = body.value
        else:
            raise _problem("value_type", body.value_type, "A label takes value_type text or numeric.")
    return values


def to_annotation(row: dict[str, Any]) -> Annotation:
    kind = row["kind"]
    value: str | float | None = None
    value_type: Literal["text", "numeric"] | None = None
    if kind == "feedback":
        value = row["value_text"]
    elif kind == "label":
        numeric = row["value_numeric"] is not None
        value, value_type = (row["value_numeric"], "numeric") if numeric else (row["value_text"], "text")
    return Annotation(
        annotation_id=row["annotation_id"],
        workspace=row["workspace"],
        kind=kind,
        session_id=row["session_id"],
        span_id=row["span_id"],
        value=value,
        value_type=value_type,
        text=row["text"],
        metadata=orjson.loads(row["metadata"]) if row["metadata"] else None,
        name=row["name"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        ingested_at=row["ingested_at"],
    )


async def create_annotation(
    telemetry: TelemetryStore, workspace: str, body: AnnotationInput, created_by: str | None
) -> Annotation:
    values = _values(body)
    now = datetime.now(UTC)
    row = {
        "workspace": workspace,
        "annotation_id": f"ann-{uuid.uuid4().hex}",
        "session_id": body.session_id,
        "span_id": body.span_id,
        "kind": body.kind,
        **values,
        "created_by": created_by,
        "created_at": datetime_text(now),
        "ingested_at": datetime_text(now),
        "is_deleted": 0,
        "version": time.time_ns(),
    }
    await _store(telemetry).insert(row)
    return to_annotation({**row, "created_at": now, "ingested_at": now})


async def get_annotation(telemetry: TelemetryStore, workspace: str, annotation_id: str) -> Annotation:
    row = await _store(telemetry).get(workspace, annotation_id)
    if row is None:
        raise AnnotationNotFound(workspace, annotation_id)
    return to_annotation(row)


async def list_annotations(
    telemetry: TelemetryStore,
    workspace: str,
    params: Iterable[tuple[str, str]],
    *,
    page: int,
    page_size: int,
    sort: str,
) -> AnnotationsPage:
    rows, paging, echo = await read_list(
        _store(telemetry), workspace, params, allowed=LIST_PARAMS, fields=FILTERS, noun="annotation",
        sort_field="created_at", sort=sort, page=page, page_size=page_size,
    )  # fmt: skip
    return AnnotationsPage(data=[to_annotation(row) for row in rows], pagination=paging, sort=sort, filter=echo)


async def delete_annotation(telemetry: TelemetryStore, workspace: str, annotation_id: str) -> None:
    """Writes the row again as a tombstone, with a version above the one it replaces."""
    store = _store(telemetry)
    row = await store.get(workspace, annotation_id)
    if row is None:
        raise AnnotationNotFound(workspace, annotation_id)
    tombstone = {
        **row,
        "created_at": datetime_text(row["created_at"]),
        "ingested_at": datetime_text(row["ingested_at"]),
        "is_deleted": 1,
        "version": max(time.time_ns(), row["version"] + 1),
    }
    await store.insert(tombstone)
