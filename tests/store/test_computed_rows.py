"""Stale rollup rows are computed as aggregates that Python assembles (rollups.computed_row); the
rows must be those the recompute statement (which a ClickHouse server runs, and which assembles them
in SQL) stores, read back: the same rollups in every response, the same values in every column."""

import asyncio
import random
from datetime import UTC, datetime
from typing import Any

import orjson

from intake_service.store.clickhouse import rollups as rollup_sql
from intake_service.store.clickhouse.executor import clean_value

from support import app_telemetry, create_experiment, ingest_ok, post_result_ok

STORED = """
SELECT * EXCEPT computed_at FROM experiment_rollups FINAL
WHERE workspace = {workspace:String} AND experiment_id IN {experiment_ids:Array(String)}
"""


def odd_sessions(rng: random.Random, prefix: str, count: int, shape: int) -> list[dict[str, Any]]:
    """Sessions whose aggregates take ClickHouse's corner cases: no costs at all, scores that sum to
    zero (sumMap may drop the key), a key in a few sessions only, no scores, booleans, magnitudes."""
    sessions = []
    for i in range(count):
        scores: dict[str, Any] = {}
        if shape != 1:
            scores = {"zero": 0.0, "flag": i % 2 == 0, "acc": rng.random() * 10 ** rng.randint(-8, 8)}
            if i % 5 == 0:
                scores["rare"] = -rng.random()
        sessions.append({
            "session_id": f"{prefix}-{i}", "started_at": "2026-01-01T00:00:00Z", "scores": scores,
            "cost_usd": None if shape == 2 or i % 3 == 0 else rng.random() / 7,
            "latency_ms": rng.uniform(0, 1e6) if shape != 3 else 1.0,
            "model_name": f"m{i % 2}" if shape != 3 else None, "agent_name": "a" if i % 4 == 0 else None,
        })  # fmt: skip
    return sessions


def sorted_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda row: row["experiment_id"])


async def test_computed_rows_are_the_rows_the_recompute_statement_stores(client, base, app, workspace) -> None:
    telemetry = await app_telemetry(app)
    rng = random.Random(12)
    experiments = [await create_experiment(client, base) for _ in range(5)]
    for shape, experiment in enumerate(experiments):
        await ingest_ok(client, base, experiment["name"], odd_sessions(rng, f"s{shape}", 1 + shape * 7, shape))
    await post_result_ok(client, base, experiment_name=experiments[4]["name"], session_id="s4-1", span_id="x",
                         name="judge", data_type="NUMERIC", value=0.1 + 0.2)  # fmt: skip
    await telemetry.stale.refresh(workspace)  # nothing left stale or unwritten: the rows below are ours
    ids = [experiment["id"] for experiment in experiments]
    for with_results in (False, True):
        computed = await asyncio.to_thread(
            telemetry.stale._compute_rows, workspace, dict.fromkeys(ids, False), with_results
        )
        params = {"workspace": workspace, "experiment_ids": ids}
        # On one thread, as the computation: ClickHouse adds a sum's floats in the order its threads
        # deliver them, which can change the last digit.
        statement = rollup_sql.RECOMPUTE_ROLLUPS_WITH_RESULTS if with_results else rollup_sql.RECOMPUTE_ROLLUPS
        await asyncio.to_thread(telemetry.executor.command, statement + "SETTINGS max_threads = 1", params)
        by_statement = await asyncio.to_thread(telemetry.executor.query, STORED, params)
        for raw in by_statement:
            row = {name: clean_value(value) for name, value in raw.items()}
            rollups, stored = computed[row["experiment_id"]]
            assert rollups == rollup_sql.to_rollups(row)
        # The computed rows stored (a later version) read back as the statement's, bit for bit: NaN
        # (no costs: quantiles over no values) and every float's last digit.
        later = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        rows = b"\n".join(orjson.dumps({**orjson.loads(row), "computed_at": later}) for _, row in computed.values())
        await asyncio.to_thread(telemetry.executor.insert_json, "experiment_rollups", rows)
        by_computation = await asyncio.to_thread(telemetry.executor.query, STORED, params)
        assert any(row["cost"]["count"] == 0 for row in by_statement)
        assert repr(sorted_rows(by_computation)) == repr(sorted_rows(by_statement))
        assert sorted(computed) == sorted(ids)
