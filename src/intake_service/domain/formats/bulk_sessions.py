"""The bulk session body read and validated in one pass from its bytes by msgspec, for speed.

This is a fast path only: SessionInput (the generated pydantic model) remains the contract. A body
is taken here only where msgspec reads it exactly as that model would; for anything else (an error
of any kind, a time with more than six fractional digits, which msgspec rounds and pydantic
truncates, an integer beyond 64 bits) `decode` answers None and the caller validates the body with
the model, which accepts it the same way or answers its own 422.
"""

import re
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

Text = Annotated[str, msgspec.Meta(max_length=255)]
Count = Annotated[int, msgspec.Meta(ge=0)]
Amount = Annotated[float, msgspec.Meta(ge=0)]
Moment = Annotated[datetime, msgspec.Meta(tz=True)]
# Seconds with more than microseconds (":SS.fffffff"): msgspec rounds them, pydantic truncates.
_SUBMICROSECOND = re.compile(rb":\d\d\.\d{7}")


class FastSession(msgspec.Struct, forbid_unknown_fields=True):
    """SessionInput's fields, constraints and defaults (tests/ingest/test_bulk_sessions.py compares them)."""

    session_id: Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
    started_at: Moment
    test_case_id: Text | None = None
    ended_at: Moment | None = None
    latency_ms: Amount | None = None
    status: Literal["success", "error", "cancelled", "unknown"] = "unknown"
    model_name: Text | None = None
    agent_name: Text | None = None
    agent_version: Text | None = None
    input_tokens: Count | None = None
    output_tokens: Count | None = None
    cached_tokens: Count | None = None
    cost_usd: Amount | None = None
    input: str | None = None
    output: str | None = None
    metadata: dict[str, Any] | None = None
    scores: dict[str, bool | float | None] | None = None


class _Body(msgspec.Struct, forbid_unknown_fields=True):
    sessions: list[FastSession]


_BODY = msgspec.json.Decoder(_Body)
_LINE = msgspec.json.Decoder(FastSession)


def decode(body: bytes, ndjson: bool) -> list[FastSession] | None:
    """The sessions of a JSON ({"sessions": [...]}) or NDJSON body, or None: validate it with the model."""
    if _SUBMICROSECOND.search(body):
        return None
    try:
        if ndjson:
            return [_LINE.decode(line) for line in body.splitlines() if line.strip()]
        return _BODY.decode(body).sessions
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None


def usable(session: FastSession) -> bool:
    """What the model's patterns refuse and msgspec's constraints do not say: NUL in the ids."""
    return "\x00" not in session.session_id and (session.test_case_id is None or "\x00" not in session.test_case_id)
