"""`intake-service rollups recompute [--workspace W]` rebuilds experiment_rollups from the sessions:
rows deleted or overwritten through the store read exactly as before again, through the HTTP API.
The command runs in-process (typer's CliRunner) on the test session's data directory; chDB serves
every session opened on one path from the same engine."""

import uuid
from typing import Any

from test_rollups import assert_rollups, expected_rollups
from typer.testing import CliRunner

from intake_service.cli import app as cli
from intake_service.store.clickhouse import rollups as rollup_sql
from intake_service.store.clickhouse.executor import create_executor
from intake_service.store.clickhouse.repair import recompute_all_rollups

from support import app_telemetry, client_for, create_experiment, get_experiment, ingest_ok, post_result_ok

OVERWRITE = """
INSERT INTO experiment_rollups (workspace, experiment_id, run_count, model_names, computed_at)
VALUES ({workspace:String}, {experiment_id:String}, 999, ['bogus'], now64(9))
"""
DELETE = """
DELETE FROM experiment_rollups WHERE workspace = {workspace:String} AND experiment_id = {experiment_id:String}
"""


def sessions(prefix: str, n: int) -> list[dict[str, Any]]:
    return [
        {"session_id": f"{prefix}{i}", "started_at": "2026-01-01T00:00:00Z", "cost_usd": 0.5 * i + 0.25,
         "latency_ms": 10.0 * i * i, "model_name": f"m{i % 2}", "scores": {"acc": (i % 3) / 2}}
        for i in range(n)
    ]  # fmt: skip


def run_recompute(settings, *args: str) -> str:
    outcome = CliRunner().invoke(cli, ["rollups", "recompute", "--data-dir", str(settings.data_dir), *args])
    assert outcome.exit_code == 0, outcome.output
    return outcome.output


async def test_recompute_rebuilds_deleted_and_overwritten_rows(
    app, client, base, workspace, settings, monkeypatch
) -> None:
    other_workspace = f"ws-{uuid.uuid4().hex[:12]}"
    other_base = base.replace(workspace, other_workspace)
    scored, plain, emptied = [await create_experiment(client, base) for _ in range(3)]
    other = await create_experiment(client, other_base)
    scored_sessions, plain_sessions = sessions("s", 9), sessions("p", 4)
    await ingest_ok(client, base, scored["name"], scored_sessions)
    # Evaluator results too, so the recompute takes the statement that joins them.
    results = [
        {"session_id": "s1", "span_id": "x", "name": "acc", "data_type": "NUMERIC", "value": 0.9},
        {"session_id": "s2", "span_id": "x", "name": "judge", "data_type": "BOOLEAN", "value": 1},
    ]
    for body in results:
        await post_result_ok(client, base, experiment_name=scored["name"], **body)
    await ingest_ok(client, base, plain["name"], plain_sessions)
    await ingest_ok(client, other_base, other["name"], sessions("o", 3))
    names = [scored["name"], plain["name"], emptied["name"]]
    before = {name: await get_experiment(client, base, name) for name in names}
    assert_rollups(before[scored["name"]], expected_rollups(scored_sessions, results))
    assert_rollups(before[plain["name"]], expected_rollups(plain_sessions, []))
    other_before = await get_experiment(client, other_base, other["name"])
    for ws in (workspace, other_workspace):  # the rows the reads computed are stored off their path
        await (await app_telemetry(app)).stale.refresh(ws)

    executor = create_executor(None, settings.data_dir)
    try:
        for ws, experiment in ((workspace, scored), (workspace, emptied), (other_workspace, other)):
            executor.command(OVERWRITE, {"workspace": ws, "experiment_id": experiment["id"]})
        executor.command(DELETE, {"workspace": workspace, "experiment_id": plain["id"]})
    finally:
        executor.close()
    # The command runs while the server is stopped, and the server keeps the rows it has read in
    # memory: each read below is a new app on the same stores, as a server started afterwards.
    async with client_for(settings) as fresh:
        assert (await get_experiment(fresh, base, scored["name"]))["run_count"] == 999
        assert (await get_experiment(fresh, base, emptied["name"]))["model_names"] == ["bogus"]
        assert (await get_experiment(fresh, base, plain["name"]))["cost_usd"] is None
        assert (await get_experiment(fresh, other_base, other["name"]))["run_count"] == 999

    # scored and plain have sessions; emptied has none but a non-empty row, which is reset. One row
    # per statement and per INSERT: every batch boundary is crossed.
    monkeypatch.setattr(rollup_sql, "BATCH", 1)
    assert run_recompute(settings, "--workspace", workspace).strip() == "Recomputed the rollups of 3 experiment(s)."
    async with client_for(settings) as fresh:
        assert {name: await get_experiment(fresh, base, name) for name in names} == before
        # another workspace: untouched
        assert (await get_experiment(fresh, other_base, other["name"]))["run_count"] == 999

    monkeypatch.undo()
    assert run_recompute(settings).startswith("Recomputed the rollups of ")
    async with client_for(settings) as fresh:
        assert await get_experiment(fresh, other_base, other["name"]) == other_before
        assert {name: await get_experiment(fresh, base, name) for name in names} == before


async def test_recompute_skips_span_sessions_bound_to_no_experiment(workspace, settings) -> None:
    """Span sessions without an experiment are stored under experiment id '': not an experiment."""
    executor = create_executor(None, settings.data_dir)
    try:
        executor.command(
            "INSERT INTO sessions (workspace, experiment_id, session_id, started_at, metadata, version) "
            "VALUES ({workspace:String}, '', 'unbound', now64(6), '{}', 1)",
            {"workspace": workspace},
        )
        assert recompute_all_rollups(executor, workspace) == 0
        rows = executor.query("SELECT experiment_id FROM experiment_rollups WHERE workspace = {workspace:String}",
                              {"workspace": workspace})  # fmt: skip
    finally:
        executor.close()
    assert rows == []
