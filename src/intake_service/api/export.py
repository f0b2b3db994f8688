"""CSV and NDJSON renderings of read routes, streamed as they are read.

A route that exports takes `format=json|csv|ndjson` (which wins) or reads the `Accept` header
(text/csv, application/x-ndjson), and hands `stream` its rows in batches: the same rows, filter and
sort as its JSON answer. Nested objects flatten to dotted columns (`cost_usd.mean`,
`evaluator_scores.accuracy`); lists become JSON text. A CSV's columns are those of its first batch
(one batch is up to 1,000 rows, the largest JSON page) plus any the route knows in advance; NDJSON
carries every field of every row.
"""

import csv
import io
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import Query, Request
from fastapi.responses import StreamingResponse

ExportFormat = Literal["json", "csv", "ndjson"]
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "ndjson": "application/x-ndjson"}
BY_MEDIA_TYPE = {"text/csv": "csv", "application/x-ndjson": "ndjson", "application/json": "json"}
FORMAT_HELP = (
    "json (the default), csv or ndjson; wins over the Accept header (text/csv, application/x-ndjson). "
    "CSV and NDJSON stream every row the filter selects, in the same order, not one page."
)
FormatParam = Annotated[ExportFormat | None, Query(alias="format", description=FORMAT_HELP)]
BATCH = 1000


def export_format(request: Request, asked: ExportFormat | None) -> ExportFormat:
    """The format asked for by `format=`, else the first media type of Accept that names one."""
    if asked is not None:
        return asked
    for part in request.headers.get("accept", "").split(","):
        media_type = part.split(";")[0].strip().lower()
        if media_type in BY_MEDIA_TYPE:
            return BY_MEDIA_TYPE[media_type]  # type: ignore[return-value]
    return "json"


def flatten(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects as dotted keys; lists as JSON text; every other value as it is."""
    flat: dict[str, Any] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat |= flatten(value, f"{name}.")
        elif isinstance(value, dict | list):
            flat[name] = orjson.dumps(value).decode()
        else:
            flat[name] = value
    return flat


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value


async def _csv(batches: AsyncIterator[list[dict[str, Any]]], known: Iterable[str]) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer: csv.DictWriter[str] | None = None

    def take() -> bytes:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text.encode()

    async for batch in batches:
        rows = [flatten(row) for row in batch]
        if writer is None:
            columns = dict.fromkeys(key for row in rows for key in row) | dict.fromkeys(known)
            writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
            writer.writeheader()
        writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)
        yield take()
    if writer is None and list(known):
        csv.writer(buffer, lineterminator="\n").writerow(list(known))
        yield take()


async def _ndjson(batches: AsyncIterator[list[dict[str, Any]]]) -> AsyncIterator[bytes]:
    async for batch in batches:
        yield b"".join(orjson.dumps(row) + b"\n" for row in batch)


def stream(
    batches: AsyncIterable[list[dict[str, Any]]], export: ExportFormat, *, columns: Iterable[str] = ()
) -> StreamingResponse:
    """The rows as CSV or NDJSON, one batch at a time; `columns` are CSV columns known in advance."""
    iterator = aiter(batches)
    body = _csv(iterator, list(columns)) if export == "csv" else _ndjson(iterator)
    return StreamingResponse(body, media_type=MEDIA_TYPES[export])


async def one_batch(rows: list[dict[str, Any]]) -> AsyncIterator[list[dict[str, Any]]]:
    """Rows already in hand, as the single batch `stream` reads."""
    yield rows


def export_responses(json_model: Any, csv_example: str, ndjson_example: str) -> dict[int | str, dict[str, Any]]:
    """The 200 of an exporting route: its JSON model, and the CSV and NDJSON it streams."""
    return {
        200: {
            "model": json_model,
            "content": {
                "text/csv": {"schema": {"type": "string"}, "example": csv_example},
                "application/x-ndjson": {"schema": {"type": "string"}, "example": ndjson_example},
            },
        }
    }
