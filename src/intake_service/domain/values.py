"""Which user-supplied values PostgreSQL can store and compare.

Python's JSON parser accepts what a database refuses: NUL characters (text and jsonb cannot hold
U+0000), lone surrogates (not encodable as UTF-8), NaN and Infinity (not JSON). Such input is the
caller's mistake and answers 422, never a failed INSERT.
"""

import math
from typing import Any

# Deeper JSON than this is refused: every layer that walks it (validation, jsonb, the response
# encoder) recurses, and no real metadata nests this far.
MAX_JSON_DEPTH = 64


def text_problem(value: str) -> str | None:
    if "\x00" in value:
        return "must not contain NUL (\\u0000) characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode text (no lone surrogates)"
    return None


def json_problem(value: Any, depth: int = 0) -> str | None:
    """Why `value` cannot be stored as jsonb, or None. Keys and strings at any depth are checked."""
    if depth > MAX_JSON_DEPTH:
        return f"must not nest more than {MAX_JSON_DEPTH} levels deep"
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "must not contain NaN or Infinity"
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
