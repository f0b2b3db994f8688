"""The registry of rollup metrics (domain/rollup_metrics.py) drives the grammar, the SQL and the
responses: every path of every registry metric sorts and filters GET /experiments in the order of
the values the experiments' responses carry, every metric has its experiment_rollups column, and an
experiment without sessions carries each metric's empty value."""

import json
import re
from typing import Any

import pytest

from intake_service.domain.rollup_metrics import METRIC_BY_NAME, METRICS, parse_rollup_path
from intake_service.domain.rollups import empty_rollups
from intake_service.store.clickhouse import rollups as rollup_sql
from intake_service.store.clickhouse.executor import create_executor

from support import app_telemetry, create_experiment, get_experiment, ingest_ok


def registry_paths(key: str) -> list[str]:
    paths = []
    for metric in METRICS:
        head = f"{metric.name}.{key}" if metric.per_key else metric.name
        paths += [f"{head}.{stat}" for stat in metric.stats] or [metric.name]
    return paths


def value_of(body: dict[str, Any], path: str) -> float | None:
    """The number a path names, read from an experiment response."""
    rollup = parse_rollup_path(path)
    assert rollup is not None, path
    metric = METRIC_BY_NAME[rollup.metric]
    value = body[metric.response_field]
    if not metric.stats:
        return float(value)
    if metric.per_key:
        value = value.get(rollup.key)
    return None if value is None else float(value[rollup.stat])


def naive_order(bodies: list[dict[str, Any]], path: str, descending: bool) -> list[str]:
    def key(body: dict[str, Any]) -> tuple[Any, ...]:
        value = value_of(body, path)
        if value is None:
            return (1, 0.0, body["name"], body["id"])
        return (0, -value if descending else value, body["name"], body["id"])

    return [body["id"] for body in sorted(bodies, key=key)]


async def listed_ids(client, base: str, params: dict[str, str]) -> list[str]:
    response = await client.get(f"{base}/experiments", params={"pinned_first": "false", **params})
    assert response.status_code == 200, response.text
    return [row["id"] for row in response.json()["data"]]


@pytest.fixture
async def bodies(client, base) -> list[dict[str, Any]]:
    """Four experiments: each metric present on some and absent on others; the last has no sessions."""
    shapes = [
        {"cost_usd": 1.5, "latency_ms": 30.0, "scores": {"acc": 0.25}},
        {"cost_usd": 0.7, "scores": {}},
        {"latency_ms": 10.0, "scores": {"acc": 0.75}},
    ]
    experiments = [await create_experiment(client, base) for _ in range(len(shapes) + 1)]
    for i, (experiment, shape) in enumerate(zip(experiments, shapes, strict=False)):
        sessions = [
            {"session_id": f"s{j}", "started_at": "2026-01-01T00:00:00Z",
             **{k: (v * (j + 1) if isinstance(v, float) else v) for k, v in shape.items()}}
            for j in range(i + 1)
        ]  # fmt: skip
        await ingest_ok(client, base, experiment["name"], sessions)
    return [await get_experiment(client, base, experiment["name"]) for experiment in experiments]


async def test_every_registry_path_sorts_and_filters(client, base, bodies) -> None:
    for path in registry_paths("acc"):
        for descending in (False, True):
            sort = ("-" if descending else "") + path
            assert await listed_ids(client, base, {"sort": sort}) == naive_order(bodies, path, descending), sort
        present = sorted({v for body in bodies if (v := value_of(body, path)) is not None})
        assert len(present) >= 2, path  # the data must tell the experiments apart
        threshold = (present[0] + present[1]) / 2
        above = {body["id"] for body in bodies if (v := value_of(body, path)) is not None and v > threshold}
        json_filter = json.dumps({path: {"$gt": threshold}})
        assert set(await listed_ids(client, base, {"filter": json_filter})) == above, path
        not_first = {body["id"] for body in bodies if value_of(body, path) != present[0]}
        assert set(await listed_ids(client, base, {f"filter[{path}][$ne]": str(present[0])})) == not_first, path


async def test_every_registry_metric_has_an_empty_value(bodies) -> None:
    empty = bodies[-1]
    assert {field: empty[field] for field in empty_rollups()} == empty_rollups()
    for metric in METRICS:
        assert empty[metric.response_field] == ({} if metric.per_key else None if metric.stats else 0), metric.name
        if metric.keys_field:
            assert empty[metric.keys_field] == []


async def test_the_read_gives_every_rollup_field(app, settings, workspace, bodies) -> None:
    await (await app_telemetry(app)).stale.refresh(workspace)  # the rows the reads computed, stored
    executor = create_executor(None, settings.data_dir)
    try:
        rows = executor.query(rollup_sql.READ_ROLLUPS, {"workspace": workspace, "experiment_ids": [bodies[0]["id"]]})
        columns = {row["name"]: row["type"] for row in executor.query("DESCRIBE TABLE experiment_rollups")}
    finally:
        executor.close()
    assert set(rollup_sql.to_rollups(rows[0])) == set(empty_rollups())
    for metric in METRICS:
        # The DDL's tuple elements are the registry's statistics, in its order.
        elements = re.findall(r"(\w+) (?:Nullable\()?(?:Float64|UInt64)", columns[metric.column])
        assert elements == list(metric.stats), (metric.name, columns[metric.column])


async def test_paths_outside_the_registry_are_422(client, base) -> None:
    for metric in METRICS:
        stat = metric.stats[0] if metric.stats else "count"
        wrong = [f"{metric.name}.k.{stat}" if not metric.per_key else f"{metric.name}.{stat}", f"{metric.name}.nope"]
        if metric.stats:
            wrong.append(metric.name)
        for path in wrong:
            response = await client.get(f"{base}/experiments", params={"sort": path})
            assert response.status_code == 422, path
            response = await client.get(f"{base}/experiments", params={f"filter[{path}]": "1"})
            assert response.status_code == 422, path
