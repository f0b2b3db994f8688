"""CSV and NDJSON renderings of read routes, streamed as they are read.

A route that exports takes `format=json|csv|ndjson` (which wins) or reads the `Accept` header
(text/csv, application/x-ndjson), and hands `stream` its rows in batches: the same rows, filter and
sort as its JSON answer, read BATCH rows at a time. NDJSON goes out batch by batch. CSV flattens
nested objects to dotted columns (`cost_usd.mean`, `evaluator_scores.accuracy`) and lists to JSON
text; its header names every column any row has.
"""

import csv
import io
import tempfile
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

ExportFormat = Literal["json", "csv", "ndjson"]
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "ndjson": "application/x-ndjson"}
BY_MEDIA_TYPE = {"text/csv": "csv", "application/x-ndjson": "ndjson", "application/json": "json"}
FORMAT_HELP = (
    "json (the default), csv or ndjson; wins over the Accept header (text/csv, application/x-ndjson). "
    "CSV and NDJSON stream every row the filter selects, in the same order, not one page."
)
FormatParam = Annotated[ExportFormat | None, Query(alias="format", description=FORMAT_HELP)]
BATCH = 1000
SPOOL_BYTES = 8 * 2**20


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


async def _csv(batches: AsyncIterator[list[dict[str, Any]]]) -> AsyncIterator[bytes]:
    """The header is the union of every row's columns (a later row may hold an evaluator the first
    ones lack), so every row is read before the first line goes out; rows wait in a temporary file
    (in memory up to SPOOL_BYTES), not in a list."""
    columns: dict[str, None] = {}
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        async for batch in batches:
            for row in batch:
                flat = flatten(row)
                columns |= dict.fromkeys(flat)
                spool.write(orjson.dumps({k: _cell(v) for k, v in flat.items()}) + b"\n")
        spool.seek(0)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        for count, line in enumerate(spool, start=1):
            writer.writerow(orjson.loads(line))
            if count % BATCH == 0:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode()


async def _ndjson(batches: AsyncIterator[list[dict[str, Any]]]) -> AsyncIterator[bytes]:
    async for batch in batches:
        yield b"".join(orjson.dumps(row) + b"\n" for row in batch)


def stream(batches: AsyncIterable[list[dict[str, Any]]], export: ExportFormat) -> StreamingResponse:
    """The rows as CSV or NDJSON."""
    iterator = aiter(batches)
    body = _csv(iterator) if export == "csv" else _ndjson(iterator)
    return StreamingResponse(body, media_type=MEDIA_TYPES[export])


Fetch = Callable[[AsyncSession, int, int], Awaitable[Any]]


async def all_pages(request: Request, session: AsyncSession, fetch: Fetch) -> AsyncIterator[list[dict[str, Any]]]:
    """Every row of a paged list, BATCH rows at a time; `fetch(session, page, page_size)` reads one page.
    The first page is read here, by the handler, so that a bad query is still an error status; the
    later ones as the body streams, after the handler has returned, each in a read session of its own."""
    size = BATCH
    first = await fetch(session, 1, size)
    return _pages(request, first, fetch, size)


async def _pages(request: Request, page: Any, fetch: Fetch, size: int) -> AsyncIterator[list[dict[str, Any]]]:
    number = 1
    while True:
        yield [row.model_dump(mode="json") for row in page.data]
        if not page.data or number * size >= page.pagination.total_results:
            return
        number += 1
        async with request.state.state.sessionmaker() as session:
            page = await fetch(session, number, size)


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
