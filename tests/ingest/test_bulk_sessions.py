"""The msgspec fast path of bulk session ingest answers exactly as the SessionInput model does: the
same rows for what both take, the model's own error for everything else (the fast path falls back)."""

import json
import random
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.exceptions import RequestValidationError

from intake_service.domain import ingest
from intake_service.domain.formats import bulk_sessions
from intake_service.models.generated import SessionInput
from intake_service.store.clickhouse.sessions import session_rows as rows_of

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
from bench_rollups import session_batch  # noqa: E402

from support import create_experiment, session_rows  # noqa: E402

BASE = {"session_id": "s-1", "started_at": "2026-01-05T09:00:00Z"}
ODD_SESSIONS: list[dict[str, Any]] = [
    {"started_at": "2026-01-05T09:00:00.1234567Z"},  # msgspec rounds, the model truncates
    {"started_at": "2026-01-05T09:00:00.9999999Z", "ended_at": "2026-01-05T09:00:01.0000001Z"},
    {"started_at": "2026-01-05T09:00:00"},  # naive
    {"started_at": "2026-01-05T09:00Z"},  # no seconds: the model takes it, msgspec does not
    {"started_at": "2026-01-05 09:00:00+05:30", "ended_at": "2026-01-05t04:00:00.5z"},
    {"started_at": "1899-12-31T23:59:59Z"},
    {"started_at": 0},
    {"ended_at": "2026-01-05T08:00:00Z"},  # before started_at
    {"input_tokens": 2**63},
    {"input_tokens": 2**64},
    {"output_tokens": 1.0},
    {"cached_tokens": True},
    {"input_tokens": -1},
    {"latency_ms": 5},
    {"latency_ms": -0.5},
    {"latency_ms": "5"},
    {"cost_usd": 1e308},
    {"session_id": "a\u0000b"},
    {"session_id": ""},
    {"session_id": "é" * 255},
    {"session_id": "é" * 256},
    {"test_case_id": "t\u0000"},
    {"test_case_id": ""},
    {"model_name": "m" * 256},
    {"status": "bogus"},
    {"scores": {"a": True, "b": 1, "c": None, "d": 0.5}},
    {"scores": {"a\u0000": 1}},
    {"scores": {"a": "1"}},
    {"scores": {"a": 10**30}},
    {"metadata": {"n": 2**64, "x": [1, {"y": None}]}},
    {"metadata": {"n": 2**63 + 1}},
    {"metadata": None, "scores": None, "input": None},
    {"metadata": {"big": "x" * (64 * 1024)}},
    {"unknown": 1},
]


def outcome(body: bytes, content_type: str, fast: bool) -> Any:
    """The rows a body becomes, or the 422 it gets: through checked_sessions, or the model alone."""
    try:
        if fast:
            records = ingest.checked_sessions(body, content_type)
        else:
            records = ingest.validate_sessions(ingest.parse_session_items(body, content_type))
    except RequestValidationError as exc:
        return exc.errors()
    return rows_of("w", "e", records, version=1)


def json_body(session: dict[str, Any]) -> bytes:
    # json, not orjson: orjson refuses integers beyond 64 bits. A later key wins, as in a parser.
    return b'{"sessions": [' + orjson.dumps(BASE)[:-1] + b", " + json.dumps(session).encode()[1:] + b"]}"


@pytest.mark.parametrize("session", ODD_SESSIONS, ids=lambda s: str(s)[:60])
def test_an_odd_session_is_answered_as_the_model_answers_it(session) -> None:
    body = json_body(session)
    assert outcome(body, "application/json", fast=True) == outcome(body, "application/json", fast=False)


@pytest.mark.parametrize(
    "body",
    [
        b'{"sessions": []}',
        b'{"sessions": [{"session_id": "a", "started_at": "2026-01-05T09:00:00Z"}], "more": 1}',
        b'{"sessions": [{"session_id": "a", "session_id": "b", "started_at": "2026-01-05T09:00:00Z"}]}',
        b'{"sessions": [{"session_id": "\\ud800", "started_at": "2026-01-05T09:00:00Z"}]}',
        b'[{"session_id": "a", "started_at": "2026-01-05T09:00:00Z"}]',
    ],
)
def test_an_odd_body_is_answered_as_the_model_answers_it(body) -> None:
    assert outcome(body, "application/json", fast=True) == outcome(body, "application/json", fast=False)


def test_ndjson_lines_are_read_as_the_model_reads_them() -> None:
    lines = b'\n  \n{"session_id": "a", "started_at": "2026-01-05T09:00:00Z"}\r\n{"session_id": "b", ' \
        b'"started_at": "2026-01-05T09:00:00Z", "scores": {"x": false}}\n'  # fmt: skip
    assert bulk_sessions.decode(lines, ndjson=True) is not None
    rows = outcome(lines, "application/x-ndjson", fast=True)
    assert [row["session_id"] for row in rows] == ["a", "b"]
    assert rows == outcome(lines, "application/x-ndjson", fast=False)
    broken = lines + b'{"session_id": 1}\n'
    assert outcome(broken, "application/x-ndjson", fast=True) == outcome(broken, "application/x-ndjson", fast=False)


def test_a_typical_batch_takes_the_fast_path_with_the_same_rows() -> None:
    body = session_batch(0, 500, random.Random(3))
    assert bulk_sessions.decode(body, ndjson=False) is not None
    assert outcome(body, "application/json", fast=True) == outcome(body, "application/json", fast=False)


def test_the_fast_struct_has_the_models_fields_and_defaults() -> None:
    fields = {name: field.default for name, field in SessionInput.model_fields.items()}
    struct = bulk_sessions.FastSession
    optional = struct.__struct_fields__[-len(struct.__struct_defaults__) :]
    defaults = dict(zip(optional, struct.__struct_defaults__, strict=True))
    assert set(struct.__struct_fields__) == set(fields)
    assert {name: defaults.get(name, fields[name]) for name in fields} == fields


async def test_text_that_looks_like_sql_or_a_parameter_is_stored_as_sent(client, base) -> None:
    """The rows follow the INSERT in its text on chDB: whatever a value holds, the format's parser reads it."""
    experiment = await create_experiment(client, base)
    tricky = "{workspace:String}'); DROP TABLE sessions; --\n\tINSERT INTO sessions FORMAT JSONEachRow\n{}\\N"
    sessions = [{"session_id": tricky, "started_at": "2026-01-05T09:00:00Z", "input": tricky, "model_name": "\\"}]
    response = await client.post(f"{base}/experiments/{experiment['name']}/sessions", json={"sessions": sessions})
    assert response.status_code == 201, response.text
    [row] = await session_rows(client, base, experiment["name"])
    assert (row["session_id"], row["input"], row["model_name"]) == (tricky, tricky, "\\")
