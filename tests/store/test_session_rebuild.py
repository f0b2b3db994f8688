"""Sessions rebuilt from their spans (store/clickhouse/session_rebuild.py) are the rows the single
INSERT … SELECT it replaced wrote, value for value: STATEMENT below is that statement, run here on
the same stored spans as the oracle. The spans cover the corners: sessions with and without roots,
several roots, equal starts with different values (in one part: see below), NULLs and empty strings, times before 1970
with nanoseconds, Int64 sums that wrap, float sums, names that JSON escapes, spans sent again."""

import random
import uuid

from intake_service.store.clickhouse.session_rebuild import SESSION_SPANS, rebuild_rows, session_rows
from intake_service.store.clickhouse.spans import Span

from support import app_telemetry

STATEMENT = """
INSERT INTO sessions
    (workspace, experiment_id, session_id, test_case_id, started_at, ended_at, latency_ms, status,
     model_name, agent_name, agent_version, input_tokens, output_tokens, cached_tokens, cost_usd,
     input, output, metadata, scores, version)
SELECT
    {workspace:String},
    {experiment_ids:Array(String)}[indexOf({session_ids:Array(String)}, session_id)],
    session_id,
    argMinIf(test_case_id, start_time, is_root AND test_case_id IS NOT NULL),
    if(countIf(is_root) > 0, minIf(start_time, is_root), min(start_time)) AS started,
    if(countIf(is_root) > 0, maxIf(end_time, is_root), max(end_time)) AS ended,
    if(ended IS NULL, NULL, (toUnixTimestamp64Nano(ended) - toUnixTimestamp64Nano(started)) / 1e6),
    multiIf(countIf(is_root AND status = 'error') > 0, 'error',
            countIf(is_root AND status = 'success') > 0, 'success',
            countIf(is_root AND status = 'cancelled') > 0, 'cancelled', 'unknown'),
    coalesce(argMinIf(model_name, start_time, is_root AND model_name IS NOT NULL),
             argMinIf(model_name, start_time, model_name IS NOT NULL)),
    coalesce(argMinIf(agent_name, start_time, is_root AND agent_name IS NOT NULL),
             argMinIf(agent_name, start_time, agent_name IS NOT NULL)),
    coalesce(argMinIf(agent_version, start_time, is_root AND agent_version IS NOT NULL),
             argMinIf(agent_version, start_time, agent_version IS NOT NULL)),
    sum(input_tokens),
    sum(output_tokens),
    sum(cached_tokens),
    sum(cost_usd),
    argMinIf(input, start_time, is_root AND input IS NOT NULL),
    argMinIf(output, start_time, is_root AND output IS NOT NULL),
    toJSONString(CAST(tuple(arraySort(groupUniqArray(source)), count(),
                            arraySort(groupUniqArrayIf(model_name, model_name IS NOT NULL))),
                      'Tuple(sources Array(String), span_count UInt64, model_names Array(String))')),
    CAST(map(), 'Map(String, Float64)'),
    toUInt64(toUnixTimestamp64Nano(now64(9)))
FROM (
    SELECT *, parent_span_id = '' AS is_root
    FROM spans FINAL
    WHERE workspace = {workspace:String} AND session_id IN {session_ids:Array(String)}
)
GROUP BY session_id
"""

NAMES = [None, "", "m/a", "é\"q\\", "tab\there", "nl\nx", "\x01\x1f\x7f", "\u2028\u2029", "model-a", "model-b"]
SOURCES = ["otlp", "atif", "chat", "lang/smith", "\u2028"]
MAX_INT64 = 2**63 - 1


def random_spans(rng: random.Random, sessions: int, version: str = "") -> list[Span]:
    spans = []
    for s in range(sessions):
        base = rng.choice([1_767_225_600_123_456_789, -1_000_000_000_987_654_321, 999])
        roots = rng.choice([0, 1, 1, 2, 3])
        for i in range(rng.randint(1, 6)):
            start = base + rng.choice([0, 0, 1, 999, 1000, 1001, 5_000_000_000])
            root = i < roots
            spans.append(
                Span(
                    session_id=f"s{s}",
                    span_id=f"{i:02d}{version}" if rng.random() < 0.8 else f"{i:02d}",
                    source=rng.choice(SOURCES),
                    start_ns=start,
                    end_ns=rng.choice([None, start, start + rng.randint(1, 10**10)]),
                    parent_span_id="" if root else "00",
                    status=rng.choice(["error", "success", "cancelled", "unknown"]),
                    experiment_name=rng.choice([None, "e"]),
                    test_case_id=rng.choice(NAMES),
                    model_name=rng.choice(NAMES),
                    agent_name=rng.choice(NAMES),
                    agent_version=rng.choice(NAMES),
                    input_tokens=rng.choice([None, 0, 7, MAX_INT64]),
                    output_tokens=rng.choice([None, 3]),
                    cached_tokens=rng.choice([None, MAX_INT64, 1]),
                    cost_usd=rng.choice([None, 0.1, 0.2, 1e-9, rng.uniform(0, 0.01)]),
                    input=rng.choice(NAMES),
                    output=rng.choice(NAMES),
                )
            )
    return spans


async def test_the_fold_writes_the_rows_of_the_statement(app) -> None:
    telemetry = await app_telemetry(app)
    executor = telemetry.executor
    workspace = f"rebuild-{uuid.uuid4().hex[:8]}"
    rng = random.Random(12)
    for batch in range(3):  # later batches send some spans again: the stored copy is the latest
        await telemetry.insert_spans(workspace, random_spans(rng, 80, version=str(batch)))
    session_ids = [f"s{s}" for s in range(80)]
    params = {"workspace": workspace, "session_ids": session_ids}

    # In one part, FINAL reads in span id order, the fold's: the statement's float sums and its pick
    # among equal starts followed the order of the parts it read, which merges change.
    executor.command("OPTIMIZE TABLE spans FINAL")
    executor.command(STATEMENT, {**params, "experiment_ids": ["statement"] * len(session_ids)})
    columns = executor.query_columns(SESSION_SPANS, params)
    executor.insert_rows("sessions", session_rows(workspace, dict.fromkeys(session_ids, "fold"), columns))

    read = """
    SELECT * EXCEPT (experiment_id, version), reinterpretAsUInt64(latency_ms) AS latency_bits,
           reinterpretAsUInt64(cost_usd) AS cost_bits, toUnixTimestamp64Micro(started_at) AS started_us
    FROM sessions FINAL
    WHERE workspace = {workspace:String} AND experiment_id = {experiment_id:String}
    ORDER BY session_id
    """
    statement = executor.query(read, {"workspace": workspace, "experiment_id": "statement"})
    fold = executor.query(read, {"workspace": workspace, "experiment_id": "fold"})
    assert len(fold) == len(session_ids)
    for expected, got in zip(statement, fold, strict=True):
        assert got == expected, expected["session_id"]
    # The corners were there to be met.
    assert any(row["started_us"] < 0 for row in fold) and any(row["input_tokens"] == -(2**63) + 6 for row in fold)
    assert any("\\/" in row["metadata"] for row in fold) and any(row["ended_at"] is None for row in fold)


class Recording:
    """The app's async executor, recording the sessions whose spans were read back."""

    def __init__(self, ch) -> None:
        self.ch, self.read = ch, []

    async def query(self, sql, params):
        return await self.ch.query(sql, params)

    async def query_columns(self, sql, params):
        if sql == SESSION_SPANS:
            self.read += params["session_ids"]
        return await self.ch.query_columns(sql, params)


async def test_a_session_whose_only_spans_the_request_stored_is_folded_without_a_read(app) -> None:
    telemetry = await app_telemetry(app)
    workspace = f"fresh-{uuid.uuid4().hex[:8]}"
    rng = random.Random(13)
    earlier = [span for span in random_spans(rng, 10) if span.session_id in ("s1", "s2")]
    now = random_spans(rng, 10)
    now.append(now[-1])  # a span twice in one request: its session is read back
    await telemetry.insert_spans(workspace, earlier)
    await telemetry.insert_spans(workspace, now)
    bindings = {f"s{s}": "e" for s in range(10)}

    recording = Recording(telemetry.reader)
    folded = await rebuild_rows(recording, workspace, bindings, now)
    assert sorted(recording.read) == ["s1", "s2", now[-1].session_id]
    read_back = await rebuild_rows(telemetry.reader, workspace, bindings, ())
    for row in folded + read_back:
        row.pop("version")
    assert sorted(folded, key=lambda row: row["session_id"]) == read_back
