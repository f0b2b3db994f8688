"""Rollup rows are rewritten once before the next read that needs them, not on every ingest
(store/clickhouse/stale_rollups.py); every read still sees every acknowledged session."""

import asyncio
import random
import threading
import uuid
from typing import Any

import pytest

from intake_service.domain.rollup_metrics import RollupPath
from intake_service.store.clickhouse import rollups as rollup_sql
from intake_service.store.clickhouse import stale_rollups
from intake_service.store.clickhouse.stale_rollups import StaleRollups

from support import (
    app_telemetry,
    client_for,
    create_experiment,
    get_experiment,
    ingest_ok,
    ok,
    post_result_ok,
    workspace_base,
)

ONE_EXPERIMENT = "workspace = {workspace:String} AND experiment_id = {experiment_id:String}"
ROWS = "SELECT run_count, computed_at FROM experiment_rollups WHERE " + ONE_EXPERIMENT + " ORDER BY computed_at"


def sessions(prefix: str, count: int, accuracy: float = 0.5) -> list[dict[str, Any]]:
    return [
        {"session_id": f"{prefix}-{i}", "started_at": "2026-01-01T00:00:00Z", "scores": {"accuracy": accuracy}}
        for i in range(count)
    ]


async def test_a_burst_of_ingests_costs_one_rewrite(client, base, app, workspace) -> None:
    experiment = await create_experiment(client, base)
    name = experiment["name"]
    executor = (await app_telemetry(app)).executor
    params = {"workspace": workspace, "experiment_id": experiment["id"]}

    for burst in range(20):
        await ingest_ok(client, base, name, sessions(f"b{burst}", 5))
    assert executor.query(ROWS, params) == []  # no ingest rewrote the row

    assert (await get_experiment(client, base, name))["run_count"] == 100
    telemetry = await app_telemetry(app)
    await telemetry.stale.refresh(workspace)  # the row the read computed is stored off its path
    assert [row["run_count"] for row in executor.query(ROWS, params)] == [100]  # one rewrite for the burst
    await get_experiment(client, base, name)
    await telemetry.stale.refresh(workspace)
    assert len(executor.query(ROWS, params)) == 1  # a fresh row is not rewritten again


async def test_a_computed_row_is_stored_as_it_was_answered(client, base, app, workspace, caplog) -> None:
    """A read answers from the row it computed; the row stored afterwards (JSONEachRow) reads back the
    same, bit for bit: nulls, labels, evaluator results, floats of every magnitude."""
    telemetry = await app_telemetry(app)
    rng = random.Random(5)
    experiment = await create_experiment(client, base)
    rows = [
        {"session_id": f"r{i}", "started_at": "2026-01-01T00:00:00Z", "model_name": f"m{i % 3}",
         "agent_name": "agent" if i % 2 else None, "latency_ms": rng.uniform(0, 10) * 10 ** rng.randint(-9, 9),
         "cost_usd": None if i % 4 == 0 else rng.random() / 3, "scores": {"acc": rng.random(), "ok": i % 3 == 0}}
        for i in range(40)
    ]  # fmt: skip
    await ingest_ok(client, base, experiment["name"], rows)
    await post_result_ok(client, base, experiment_name=experiment["name"], session_id="r1", span_id="s",
                         name="judge", data_type="NUMERIC", value=0.1 + 0.2)  # fmt: skip
    unscored = await create_experiment(client, base)  # no evaluators: an empty Map
    await ingest_ok(client, base, unscored["name"], [{"session_id": "u", "started_at": "2026-01-01T00:00:00Z"}])
    answered = [await get_experiment(client, base, e["name"]) for e in (experiment, unscored)]
    await telemetry.stale.refresh(workspace)
    telemetry.stale.forget(workspace, [experiment["id"], unscored["id"]])  # the next reads read the stored rows
    assert [await get_experiment(client, base, e["name"]) for e in (experiment, unscored)] == answered
    assert not [r for r in caplog.records if "ClickHouse call failed" in r.getMessage()]  # no INSERT refused
    for e, count in ((experiment, 40), (unscored, 1)):
        stored = telemetry.executor.query(ROWS, {"workspace": workspace, "experiment_id": e["id"]})
        assert [row["run_count"] for row in stored] == [count]


async def test_every_read_sees_every_acknowledged_session(client, base) -> None:
    name = (await create_experiment(client, base))["name"]
    acknowledged = 0

    async def ingest_then_read(task: int) -> None:
        nonlocal acknowledged
        for round_ in range(4):
            await ingest_ok(client, base, name, sessions(f"t{task}-r{round_}", 3))
            acknowledged += 3
            seen_before = acknowledged
            assert (await get_experiment(client, base, name))["run_count"] >= seen_before

    await asyncio.gather(*(ingest_then_read(task) for task in range(8)))
    assert (await get_experiment(client, base, name))["run_count"] == 8 * 4 * 3


async def test_a_metric_sort_sees_the_last_ingest(client, base) -> None:
    low, high = (await create_experiment(client, base))["name"], (await create_experiment(client, base))["name"]
    await ingest_ok(client, base, low, sessions("low", 2, accuracy=0.1))
    await ingest_ok(client, base, high, sessions("high", 2, accuracy=0.9))
    listed = ok(await client.get(f"{base}/experiments", params={"sort": "-evaluators.accuracy.mean"}))
    assert [row["name"] for row in listed["data"]] == [high, low]

    await ingest_ok(client, base, low, sessions("low-more", 18, accuracy=1.0))
    listed = ok(await client.get(f"{base}/experiments", params={"sort": "-evaluators.accuracy.mean"}))
    assert [row["name"] for row in listed["data"]] == [low, high]


async def test_a_read_row_is_served_from_memory_until_an_ingest(client, base, app, workspace) -> None:
    experiment = await create_experiment(client, base)
    name = experiment["name"]
    telemetry = await app_telemetry(app)
    executor = telemetry.executor
    await ingest_ok(client, base, name, sessions("first", 4))
    assert (await get_experiment(client, base, name))["run_count"] == 4
    await telemetry.stale.refresh(workspace)  # stored off the read's path

    # The row gone from ClickHouse (only this process writes it): the read does not ask again.
    params = {"workspace": workspace, "experiment_id": experiment["id"]}
    executor.command("DELETE FROM experiment_rollups WHERE " + ONE_EXPERIMENT, params)
    assert (await get_experiment(client, base, name))["run_count"] == 4

    await ingest_ok(client, base, name, sessions("second", 2))
    assert (await get_experiment(client, base, name))["run_count"] == 6
    await telemetry.stale.refresh(workspace)
    assert [
        row["run_count"] for row in executor.query(ROWS, {"workspace": workspace, "experiment_id": experiment["id"]})
    ] == [6]


async def test_a_metric_column_is_kept_in_memory_and_patched_for_the_experiments_that_changed(
    client, base, app, workspace
) -> None:
    names = {"a-low": 0.1, "b-high": 0.9, "c-mid": 0.5}  # by name a, b, c; by value b, c, a
    for name, accuracy in names.items():
        await create_experiment(client, base, name)
        await ingest_ok(client, base, name, sessions(name, 2, accuracy=accuracy))

    async def sorted_names() -> list[str]:
        listed = ok(await client.get(f"{base}/experiments", params={"sort": "-evaluators.accuracy.mean"}))
        return [row["name"] for row in listed["data"]]

    assert await sorted_names() == ["b-high", "c-mid", "a-low"]
    # The rows gone from ClickHouse (only this process writes them): the sort does not read them again.
    executor = (await app_telemetry(app)).executor
    executor.command("DELETE FROM experiment_rollups WHERE workspace = {workspace:String}", {"workspace": workspace})
    assert await sorted_names() == ["b-high", "c-mid", "a-low"]

    # An ingest rewrites a-low's row: the column reads a-low's value again, and only it.
    await ingest_ok(client, base, "a-low", sessions("more", 18, accuracy=1.0))  # mean 0.91
    assert await sorted_names() == ["a-low", "b-high", "c-mid"]
    await ingest_ok(client, base, "a-low", sessions("less", 80, accuracy=0.0))  # mean 0.182
    assert await sorted_names() == ["b-high", "c-mid", "a-low"]


async def test_metric_columns_kept_are_bounded(monkeypatch) -> None:
    monkeypatch.setattr(stale_rollups, "COLUMNS_CACHED", 2)
    kept = StaleRollups(executor=None, deferred=True)  # type: ignore[arg-type]  # nothing is stale: no SQL
    reads: list[str] = []

    def reader(workspace: str):
        async def fetch(experiment_ids: list[str] | None) -> list[str]:
            reads.append(workspace)
            return [workspace]

        return kept.read_column(workspace, "metric", fetch)

    for workspace in ("a", "b", "a", "b"):
        assert await reader(workspace) == [workspace]
    assert reads == ["a", "b"]  # two columns: both kept
    await reader("a")  # a used last, so b is the least used
    await reader("c")  # a third: b goes
    await reader("a")
    await reader("b")
    assert reads == ["a", "b", "c", "b"]


async def test_a_column_patched_from_rows_in_memory_is_the_column_read_from_the_table(
    client, base, app, workspace
) -> None:
    telemetry = await app_telemetry(app)
    rng = random.Random(9)

    def batch(prefix: str, count: int) -> list[dict[str, Any]]:
        return [
            {"session_id": f"{prefix}-{i}", "started_at": "2026-01-01T00:00:00Z", "latency_ms": rng.random() * 1e3,
             "cost_usd": None if i % 3 == 0 else rng.random(), "scores": {"acc": rng.random()} if i % 2 else {}}
            for i in range(count)
        ]  # fmt: skip

    names = [(await create_experiment(client, base))["name"] for _ in range(4)]
    for name in names[:3]:
        await ingest_ok(client, base, name, batch(name, 5))
    paths = [  # as many as are kept
        RollupPath("run_count"),
        *(RollupPath("cost_usd", stat) for stat in ("sum", "count")),
        *(RollupPath("evaluators", stat, "acc") for stat in ("mean", "median", "p99", "count")),
        RollupPath("evaluators", "mean", "nope"),
    ]
    assert len(paths) == stale_rollups.COLUMNS_CACHED
    for path in paths:  # kept in memory
        await telemetry.metric_values(workspace, path)
    for name in names[1:]:
        await ingest_ok(client, base, name, batch(f"{name}-more", 4))
    patched = {path: (await telemetry.metric_values(workspace, path)).by_id for path in paths}

    await telemetry.stale.refresh(workspace)
    for path in paths:
        sql, params = rollup_sql.metric_query(path)
        columns = telemetry.executor.query_columns(sql, {"workspace": workspace, **params})
        whole = rollup_sql.MetricColumn.from_columns(columns["experiment_id"], columns["value"])
        assert patched[path] == whole.by_id, path


async def test_a_row_read_while_another_row_changes_is_kept_in_memory() -> None:
    kept = StaleRollups(executor=None, deferred=True)  # type: ignore[arg-type]  # nothing is stale: no SQL
    reads: list[list[str]] = []

    def fetching(changes: list[str]) -> Any:
        async def fetch(ids: list[str]) -> dict[str, Any]:
            reads.append(ids)
            kept.forget("w", changes)  # a write lands while the row is read
            return {experiment_id: {"run_count": 1} for experiment_id in ids}

        return fetch

    await kept.read("w", ["e"], fetching(["other"]))
    await kept.read("w", ["e"], fetching([]))
    assert reads == [["e"]]  # kept: another experiment changed, not this one
    await kept.read("w", ["f"], fetching(["f"]))
    await kept.read("w", ["f"], fetching([]))
    assert reads == [["e"], ["f"], ["f"]]  # read again: it changed while it was read


@pytest.mark.parametrize("reader", ["metric column", "rows"])
async def test_every_read_sees_every_session_acknowledged_before_it_under_concurrent_ingests(
    client, base, app, workspace, reader
) -> None:
    """Ingests and reads (of a kept metric column, of rows), interleaved: a read answers every session
    acknowledged before it began (and may answer later ones); once all are done, it is exact."""
    telemetry = await app_telemetry(app)
    experiments = [await create_experiment(client, base) for _ in range(4)]
    acknowledged = {experiment["id"]: 0 for experiment in experiments}
    path = RollupPath("run_count")

    async def run_counts() -> dict[str, float]:
        if reader == "rows":
            rows = await telemetry.rollups(workspace, list(acknowledged))
            return {e: rollups["run_count"] for e, rollups in rows.items() if rollups["run_count"]}
        return (await telemetry.metric_values(workspace, path)).by_id

    await run_counts()  # kept from here on
    rng = random.Random(4)

    async def ingest_then_read(task: int) -> None:
        for round_ in range(5):
            experiment = rng.choice(experiments)
            await ingest_ok(client, base, experiment["name"], sessions(f"t{task}-{round_}", 1 + task % 3))
            acknowledged[experiment["id"]] += 1 + task % 3
            before = dict(acknowledged)
            counts = await run_counts()
            assert all(counts.get(e, 0) >= count for e, count in before.items()), (before, counts)

    await asyncio.gather(*(ingest_then_read(task) for task in range(8)))
    counts = await run_counts()
    assert {e: v for e, v in counts.items() if e in acknowledged} == {e: c for e, c in acknowledged.items() if c}


async def test_a_read_computes_the_workspaces_other_stale_rows_beside_its_own(
    client, base, app, workspace, monkeypatch
) -> None:
    telemetry = await app_telemetry(app)
    names = [(await create_experiment(client, base))["name"] for _ in range(3)]
    ids = [(await get_experiment(client, base, name))["id"] for name in names]
    for name in names:
        await ingest_ok(client, base, name, sessions(name, 2))
    statements: list[list[str]] = []
    compute_rows = telemetry.stale._compute_rows

    def counted(workspace: str, taken: dict[str, bool], with_results: bool) -> Any:
        statements.append(sorted(taken))
        return compute_rows(workspace, taken, with_results)

    monkeypatch.setattr(telemetry.stale, "_compute_rows", counted)
    assert [(await get_experiment(client, base, name))["run_count"] for name in names] == [2, 2, 2]
    # The first read's own row, then the two others in one statement of their own.
    assert sorted(statements) == sorted([[ids[0]], sorted(ids[1:])])
    await ingest_ok(client, base, names[1], sessions("more", 3))
    assert (await get_experiment(client, base, names[1]))["run_count"] == 5
    assert len(statements) == 3


async def test_a_read_neither_waits_for_nor_fails_with_the_others_computed_beside_it(
    client, base, app, workspace, monkeypatch, caplog
) -> None:
    telemetry = await app_telemetry(app)
    names = [(await create_experiment(client, base))["name"] for _ in range(2)]
    ids = [(await get_experiment(client, base, name))["id"] for name in names]
    for name in names:
        await ingest_ok(client, base, name, sessions(name, 2))
    released = threading.Event()
    compute_rows = telemetry.stale._compute_rows

    def others_hang_then_fail(workspace: str, taken: dict[str, bool], with_results: bool) -> Any:
        if ids[1] in taken:
            assert released.wait(10)
            raise RuntimeError("the others' statement failed")
        return compute_rows(workspace, taken, with_results)

    monkeypatch.setattr(telemetry.stale, "_compute_rows", others_hang_then_fail)
    # Answered while the other experiment's statement still hangs.
    assert (await asyncio.wait_for(get_experiment(client, base, names[0]), 5))["run_count"] == 2
    released.set()
    await telemetry.stale.settle()
    assert "beside a read failed" in caplog.text
    monkeypatch.setattr(telemetry.stale, "_compute_rows", compute_rows)
    # Its failure marked it stale again: its next reader computes it.
    assert (await get_experiment(client, base, names[1]))["run_count"] == 2


async def test_a_row_marked_while_a_read_waits_for_another_is_answered_from_memory(
    client, base, app, workspace, monkeypatch
) -> None:
    """A read takes the rows it finds in memory before it waits for the computation of the others: an
    ingest that lands meanwhile was answered after the read began, so the read neither waits for the
    writer's INSERT nor reads the table for it; the next read sees it."""
    telemetry = await app_telemetry(app)
    names = [(await create_experiment(client, base))["name"] for _ in range(2)]
    for name in names:
        await ingest_ok(client, base, name, sessions(name, 2))
    assert [(await get_experiment(client, base, name))["run_count"] for name in names] == [2, 2]
    ids = [(await get_experiment(client, base, name))["id"] for name in names]
    reads: list[list[str]] = []

    async def fetch(experiment_ids: list[str]) -> dict[str, Any]:
        reads.append(experiment_ids)
        return await telemetry.rollups(workspace, experiment_ids)

    computing = telemetry.stale._compute
    landed: list[str] = []

    async def an_ingest_lands_meanwhile(*args: Any) -> Any:
        found = await computing(*args)
        if not landed:
            landed.append(names[1])
            await ingest_ok(client, base, names[1], sessions("late", 3))
        return found

    monkeypatch.setattr(telemetry.stale, "_compute", an_ingest_lands_meanwhile)
    await ingest_ok(client, base, names[0], sessions("more", 1))
    rollups = await telemetry.stale.read(workspace, ids, fetch)
    assert landed and [rollups[i]["run_count"] for i in ids] == [3, 2]
    assert reads == []
    assert [(await get_experiment(client, base, name))["run_count"] for name in names] == [3, 5]


async def test_a_clean_stop_stores_every_stale_row_as_a_recompute_writes_it(settings, app, monkeypatch) -> None:
    """At shutdown the rows ingests left stale, in every workspace, are computed and stored (settle),
    in parts of BATCH rows (here 2), one part at a time: the recompute statements of `flush` find
    nothing left, and each stored row is the recompute's."""
    executor = (await app_telemetry(app)).executor
    recompute = rollup_sql.recompute
    rewritten: list[str] = []

    def recording(executor: Any, workspace: str, experiment_ids: list[str]) -> None:
        rewritten.append(workspace)
        recompute(executor, workspace, experiment_ids)

    monkeypatch.setattr(rollup_sql, "recompute", recording)
    monkeypatch.setattr(rollup_sql, "BATCH", 2)
    monkeypatch.setattr(stale_rollups, "SETTLING", 1)
    counts: dict[tuple[str, str], int] = {}  # (workspace, experiment id) → its sessions
    async with client_for(settings) as http:
        for experiments in (3, 1):
            workspace = f"ws-stop-{uuid.uuid4().hex[:10]}"
            for count in range(1, experiments + 1):
                experiment = await create_experiment(http, workspace_base(workspace))
                await ingest_ok(http, workspace_base(workspace), experiment["name"], sessions(workspace, count))
                counts[(workspace, experiment["id"])] = count
    assert rewritten == []

    def stored(workspace: str, experiment_id: str) -> list[dict[str, Any]]:
        sql = f"SELECT * EXCEPT computed_at FROM experiment_rollups FINAL WHERE {ONE_EXPERIMENT}"
        return executor.query(sql, {"workspace": workspace, "experiment_id": experiment_id})

    at_stop = {key: stored(*key) for key in counts}
    assert {key: [row["run_count"] for row in rows] for key, rows in at_stop.items()} == {
        key: [count] for key, count in counts.items()
    }
    for (workspace, experiment_id), rows in at_stop.items():
        recompute(executor, workspace, [experiment_id])
        assert stored(workspace, experiment_id) == rows
