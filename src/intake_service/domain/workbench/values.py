"""Normalising and checking request values: ids, statuses, tags, key/value lists, artifact paths."""

import base64
import binascii
import math
import re
from typing import Any

import uuid6

from intake_service.domain.values import json_problem, text_problem
from intake_service.domain.workbench.errors import ArtifactTooLarge, InvalidInput
from intake_service.models import workbench as models

STATUSES = ("draft", "pending", "running", "completed", "failed")
DEFAULT_STATUS = "pending"
ARTIFACT_TYPES = ("file", "model", "dataset", "image")
MAX_TAGS, MAX_TAG_LENGTH = 50, 64
MAX_ARTIFACT_BYTES = 25 * 1024 * 1024
EXPERIMENT_PREFIX, RUN_PREFIX = "exp_", "run_"
# Words that name routes under /api/v1/experiments: an id may never be one of them.
RESERVED_IDS = frozenset({"compare", "stats", "register"})
RUN_ID_PATTERN = re.compile(models.RUN_ID_PATTERN)
KEY_MAX_LENGTH = 255
# Params or final metrics per request and per run: AutoML sweeps log dozens, not thousands.
MAX_KEY_VALUES = 1_000
MAX_SEGMENT_BYTES = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_storable(value: Any, what: str = "The request body") -> None:
    """Refuse what PostgreSQL cannot store (NUL, lone surrogates, NaN) with a 422, before any write."""
    problem = json_problem(value)
    if problem:
        raise InvalidInput(f"{what} {problem}.")


def check_text(value: str | None, what: str) -> str | None:
    problem = text_problem(value) if value is not None else None
    if problem:
        raise InvalidInput(f"{what} {problem}.")
    return value


def new_experiment_id() -> str:
    return EXPERIMENT_PREFIX + uuid6.uuid7().hex


def new_run_id() -> str:
    return RUN_PREFIX + uuid6.uuid7().hex


def check_status(status: str | None) -> str | None:
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"Unknown status '{status}'; use one of {', '.join(STATUSES)}.")
    return status


def check_name(value: str | None, field: str) -> str | None:
    """A name trimmed of surrounding spaces; None when absent or blank."""
    if value is None:
        return None
    name = value.strip()
    if not name:
        return None
    if len(name) > 255 or _CONTROL.search(name):
        raise InvalidInput(f"{field} must be 1-255 characters without control characters.")
    return name


def check_run_id(run_id: str) -> str:
    if not RUN_ID_PATTERN.match(run_id):
        raise InvalidInput(
            "run_id must be 1-255 letters, digits, '.', '_', ':' or '-', starting with a letter or digit."
        )
    if run_id in RESERVED_IDS or run_id.startswith(EXPERIMENT_PREFIX):
        raise InvalidInput(f"run_id '{run_id}' is reserved; choose another.")
    return run_id


def normalize_tags(tags: list[str]) -> list[str]:
    """Trimmed, de-duplicated in first-seen order, 1-64 characters each, at most 50."""
    result: list[str] = []
    for raw in tags:
        tag = raw.strip()
        if not 1 <= len(tag) <= MAX_TAG_LENGTH or _CONTROL.search(tag):
            raise InvalidInput(f"Each tag must be 1-{MAX_TAG_LENGTH} characters without control characters.")
        if tag not in result:
            result.append(tag)
    if len(result) > MAX_TAGS:
        raise InvalidInput(f"An experiment has at most {MAX_TAGS} tags; got {len(result)}.")
    return result


def normalize_principals(names: list[str]) -> list[str]:
    result: list[str] = []
    for raw in names:
        name = raw.strip()
        if not 1 <= len(name) <= 255 or _CONTROL.search(name):
            raise InvalidInput("Each shared_with entry must name a principal in 1-255 characters.")
        if name not in result:
            result.append(name)
    return result


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def key_values(value: Any, field: str, *, numeric: bool = False) -> list[dict[str, Any]]:
    """An object or a [{key, value}] array as a [{key, value}] list, in the given order; keys unique.
    With `numeric`, every value must be a finite number."""
    if isinstance(value, dict | list) and len(value) > MAX_KEY_VALUES:
        raise InvalidInput(f"{field} may hold at most {MAX_KEY_VALUES:,} keys.")
    if isinstance(value, dict):
        items = [{"key": k, "value": v} for k, v in value.items()]
    elif isinstance(value, list):
        items = []
        for item in value:
            if not isinstance(item, dict) or set(item) != {"key", "value"}:
                raise InvalidInput(f"{field} must be an object or an array of {{\"key\", \"value\"}} objects.")
            items.append({"key": item["key"], "value": item["value"]})
    else:
        raise InvalidInput(f"{field} must be an object or an array of {{\"key\", \"value\"}} objects.")
    seen: set[str] = set()
    for item in items:
        key = item["key"]
        if not isinstance(key, str) or not 1 <= len(key) <= KEY_MAX_LENGTH or _CONTROL.search(key):
            raise InvalidInput(f"Every key in {field} must be a string of 1-{KEY_MAX_LENGTH} characters.")
        if key in seen:
            raise InvalidInput(f"The key '{key}' appears twice in {field}.")
        seen.add(key)
        if numeric and not _is_number(item["value"]):
            raise InvalidInput(f"The value of '{key}' in {field} must be a finite number.")
    return items


def merge_key_values(existing: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Existing keys updated in place, new keys appended."""
    merged = [dict(item) for item in existing]
    index = {item["key"]: i for i, item in enumerate(merged)}
    for item in new:
        if item["key"] in index:
            merged[index[item["key"]]]["value"] = item["value"]
        else:
            index[item["key"]] = len(merged)
            merged.append(dict(item))
    return merged


def as_object(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {item["key"]: item["value"] for item in items}


def check_artifact_path(path: str) -> str:
    """Relative, '/'-separated, no '..' (nor '.' or empty) segment, no backslash or control character."""
    segments = path.split("/")
    if (
        not path
        or len(path) > 1024
        or path.startswith("/")
        or "\\" in path
        or _CONTROL.search(path)
        or any(segment in ("", ".", "..") for segment in segments)
    ):
        raise InvalidInput(
            "An artifact path must be relative, without '..', '.' or empty segments, leading '/' or backslashes."
        )
    # A segment is a file or folder name in the local store, which file systems cap at 255 bytes.
    if any(len(segment.encode()) > MAX_SEGMENT_BYTES for segment in segments):
        raise InvalidInput(f"Each segment of an artifact path must be at most {MAX_SEGMENT_BYTES} bytes (UTF-8).")
    return path


def decode_content(content_base64: str) -> bytes:
    """Standard base64 (line breaks allowed); 413 above 25 MiB decoded, checked before decoding."""
    text = re.sub(r"\s+", "", content_base64)
    if len(text) // 4 * 3 - text[-2:].count("=") > MAX_ARTIFACT_BYTES:
        raise ArtifactTooLarge(f"The artifact content exceeds {MAX_ARTIFACT_BYTES} bytes (25 MiB) after decoding.")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("content_base64 is not valid base64.") from None
    if len(data) > MAX_ARTIFACT_BYTES:
        raise ArtifactTooLarge(f"The artifact content exceeds {MAX_ARTIFACT_BYTES} bytes (25 MiB) after decoding.")
    return data
