"""Ingest formats (ATIF, OTLP, chat completions) mapped to the spans of domain/spans.py.

Shared here: the body encodings and media types every format accepts, and the two errors a body
that cannot be read at all gets (415 for a media type or encoding we do not take, 400 for bytes
that do not decode).
"""

import zlib
from typing import Any

import orjson
from pydantic import ValidationError

from intake_service.errors import MalformedBody, PayloadTooLarge, UnsupportedMediaType, validation_error

JSON_TYPES = ("application/json",)
# A JSON body holds at most this many objects, arrays and commas, counted in its raw bytes before it
# is parsed (strings included, so it is a cheap upper bound on its values): a few KB of gzip can
# carry millions of empty objects, and building them stalled the service for seconds.
MAX_JSON_VALUES = 1_000_000


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def is_json(content_type: str | None) -> bool:
    kind = media_type(content_type)
    return kind in JSON_TYPES or kind.endswith("+json")


def decompress(body: bytes, content_encoding: str | None, limit: int) -> bytes:
    """The body without its Content-Encoding (identity, gzip or deflate), refused past `limit` bytes."""
    encoding = (content_encoding or "identity").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise UnsupportedMediaType(f"Content-Encoding '{encoding}' is not supported; use gzip, deflate or none.")
    inflater = zlib.decompressobj(zlib.MAX_WBITS if encoding == "deflate" else 16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error:
        raise MalformedBody(f"The body is not valid {encoding}.") from None
    if len(data) > limit:
        raise PayloadTooLarge(f"The decompressed request body exceeds {limit // (1024 * 1024)} MiB.")
    if not inflater.eof:
        raise MalformedBody(f"The {encoding} body is truncated.")
    return data


def check_json_values(body: bytes) -> None:
    """413 when `body` may hold more than MAX_JSON_VALUES values; call before parsing it."""
    if body.count(b"{") + body.count(b"[") + body.count(b",") > MAX_JSON_VALUES:
        raise PayloadTooLarge(f"A JSON body may hold at most {MAX_JSON_VALUES:,} objects, arrays and commas.")


def json_object(body: bytes, content_type: str | None) -> dict[str, Any]:
    """A JSON object body: 415 for another media type, 422 for invalid JSON or a non-object."""
    if content_type and not is_json(content_type):
        raise UnsupportedMediaType(
            f"Content-Type '{media_type(content_type)}' is not supported; send application/json."
        )
    check_json_values(body)
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise validation_error(["body"], None, "The body is not valid JSON.") from None
    if not isinstance(document, dict):
        raise validation_error(["body"], None, "The body must be a JSON object.")
    return document


def first_error(exc: ValidationError, prefix: tuple[str | int, ...] = ("body",)) -> Exception:
    """A pydantic error as the service's 422, its loc under `prefix`."""
    first = exc.errors()[0]
    return validation_error([*prefix, *first["loc"]], first.get("input"), first["msg"])
