"""Which user-supplied values PostgreSQL can store and compare.

Python's JSON parser accepts what a database refuses: NUL characters (text and jsonb cannot hold
U+0000), lone surrogates (not encodable as UTF-8), NaN and Infinity (not JSON), integers beyond the
range of a double. Such input is the caller's mistake and answers 422, never a failed INSERT.
"""

import json
import math
import re
import sys
from typing import Any

# Deeper JSON than this is refused: every layer that walks it (validation, jsonb, the response
# encoder) recurses, and no real metadata nests this far.
MAX_JSON_DEPTH = 64
# A schema pattern for ids: no NUL (U+0000), which the experiment names and the OpenAPI ids refuse too.
NO_NUL = r"^[^\x00]*$"
JSON_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def text_problem(value: str) -> str | None:
    if "\x00" in value:
        return "must not contain NUL (\\u0000) characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode text (no lone surrogates)"
    return None


def json_text_too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON text nests deeper than `limit`, told from its brackets outside strings without
    parsing it: the parser, and everything that walks what it builds, recurses."""
    depth = 0
    for match in JSON_STRING_OR_BRACKET.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > limit:
                return True
        elif token in "]}":
            depth -= 1
    return False


def json_problem(value: Any, depth: int = 0) -> str | None:
    """Why `value` cannot be stored as jsonb, or None. Keys and strings at any depth are checked."""
    if depth > MAX_JSON_DEPTH:
        return f"must not nest more than {MAX_JSON_DEPTH} levels deep"
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "must not contain NaN or Infinity"
    if isinstance(value, int) and abs(value) > sys.float_info.max:
        # Python's JSON parser keeps any integer; a database or client reading it as a double fails.
        return "must not contain numbers beyond ±1.8e308"
    if isinstance(value, dict):
        for key, item in value.items():
            problem = text_problem(key) if isinstance(key, str) else None
            problem = problem or json_problem(item, depth + 1)
            if problem:
                return problem
    elif isinstance(value, list):
        for item in value:
            problem = json_problem(item, depth + 1)
            if problem:
                return problem
    return None


MAX_METADATA_BYTES = 64 * 1024


def metadata_too_large(metadata: dict[str, Any]) -> bool:
    """Past 64 KiB as compact UTF-8 JSON; the stdlib encoder takes integers of any size."""
    return len(json.dumps(metadata, ensure_ascii=False, separators=(",", ":")).encode()) > MAX_METADATA_BYTES
