"""Rollup sort and filter on GET /experiments (CONTRACT.md section 3 with section 4): the API's order,
pages and totals equal a naive Python computation over the same randomly generated data, combined
with PostgreSQL filters and pinned-first. Real app, embedded PostgreSQL, chDB."""

import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

import numpy as np
import pytest

from support import ts

STATS = ("sum", "mean", "median", "p90", "p95", "p99", "count")
METRICS = ("cost_usd", "latency_ms", "evaluators.acc", "evaluators.x.y.z")
PATHS = ["run_count"] + [f"{metric}.{stat}" for metric in METRICS for stat in STATS]


@dataclass
class Exp:
    id: str
    name: str
    dataset: str
    created_at: datetime
    pinned_at: datetime | None = None
    values: dict[str, list[float]] = field(default_factory=dict)
    run_count: int = 0

    def metric(self, path: str) -> float | None:
        """The naive value of a rollup path: numpy over the per-session values; None when absent."""
        if path == "run_count":
            return float(self.run_count)
        head, _, stat = path.rpartition(".")
        values = self.values.get(head.removeprefix("evaluators."), [])
        if not values:
            return None
        arr = np.asarray(values, dtype=np.float64)
        return {
            "sum": float(arr.sum()),
            "mean": float(arr.mean()),
            "count": float(len(arr)),
            "median": float(np.percentile(arr, 50)),
            "p90": float(np.percentile(arr, 90)),
            "p95": float(np.percentile(arr, 95)),
            "p99": float(np.percentile(arr, 99)),
        }[stat]


async def build_workspace(client, base: str, seed: int, n: int = 14) -> list[Exp]:
    """n experiments with random sessions: some without sessions, some without a metric; 3 pinned."""
    rng = random.Random(seed)
    exps: list[Exp] = []
    for i in range(n):
        # Mixed case and shared prefixes, so name order (the tie-break) is exercised.
        name = f"{rng.choice(['alpha', 'Beta', 'gamma', 'Delta'])} {i:02d} {uuid.uuid4().hex[:4]}"
        dataset = rng.choice(["d1", "d2"])
        response = await client.post(f"{base}/experiments", json={"name": name, "dataset_name": dataset})
        assert response.status_code == 201, response.text
        body = response.json()
        exp = Exp(body["id"], name, dataset, ts(body["created_at"]))
        sessions = []
        for s in range(rng.choice([0, 0, 1, 1, 2, 3, 5, 8])):
            session: dict[str, Any] = {"session_id": f"s{s}", "started_at": "2026-01-01T00:00:00Z", "scores": {}}
            if rng.random() < 0.7:
                session["cost_usd"] = rng.uniform(0, 10)
            if rng.random() < 0.7:
                session["latency_ms"] = rng.uniform(0, 5000)
            if rng.random() < 0.6:
                session["scores"]["acc"] = rng.random()
            if rng.random() < 0.5:
                session["scores"]["x.y.z"] = rng.uniform(-1, 1)
            sessions.append(session)
            for key, source in (("cost_usd", "cost_usd"), ("latency_ms", "latency_ms")):
                if key in session:
                    exp.values.setdefault(source, []).append(session[key])
            for evaluator, value in session["scores"].items():
                exp.values.setdefault(evaluator, []).append(value)
        exp.run_count = len(sessions)
        if sessions:
            url = f"{base}/experiments/{quote(name, safe='')}/sessions"
            assert (await client.post(url, json={"sessions": sessions})).status_code == 201
        exps.append(exp)
    for exp in rng.sample(exps, 3):
        response = await client.post(f"{base}/experiments/{quote(exp.name, safe='')}/pin")
        assert response.status_code == 200
        exp.pinned_at = ts(response.json()["pinned_at"])
    return exps


def naive_order(exps: list[Exp], sort: str, pinned_first: bool) -> list[str]:
    descending = sort.startswith("-")
    path = sort.lstrip("-")

    def key(e: Exp) -> tuple[Any, ...]:
        value: Any = e.created_at.timestamp() if path == "created_at" else e.metric(path)
        if value is None:
            return (1, 0.0, e.name, e.id)
        return (0, -value if descending else value, e.name, e.id)

    ordered = sorted(exps, key=key)
    if pinned_first:
        pinned = sorted((e for e in ordered if e.pinned_at), key=lambda e: e.pinned_at, reverse=True)  # type: ignore[arg-type,return-value]
        ordered = pinned + [e for e in ordered if not e.pinned_at]
    return [e.id for e in ordered]


def matches(value: float | None, op: str, threshold: float) -> bool:
    if value is None:
        return op == "$ne"
    return {
        "$eq": value == threshold,
        "$ne": value != threshold,
        "$gt": value > threshold,
        "$gte": value >= threshold,
        "$lt": value < threshold,
        "$lte": value <= threshold,
    }[op]


def threshold_for(exps: list[Exp], path: str, rng: random.Random) -> float:
    """A threshold halfway between two of the values present, so float noise never decides a match."""
    values = sorted({v for e in exps if (v := e.metric(path)) is not None})
    if len(values) < 2:
        return 0.5
    i = rng.randrange(len(values) - 1)
    return (values[i] + values[i + 1]) / 2


async def listing(client, base: str, **params: Any) -> dict[str, Any]:
    response = await client.get(f"{base}/experiments", params=params)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("seed", [1, 2])
async def test_rollup_sort_equals_naive(client, base, seed) -> None:
    exps = await build_workspace(client, base, seed)
    by_id = {e.id: e for e in exps}
    for path in PATHS:
        for sort in (path, f"-{path}"):
            for pinned_first in (True, False):
                for dataset in (None, "d1"):
                    params: dict[str, Any] = {
                        "sort": sort,
                        "pinned_first": str(pinned_first).lower(),
                        "page_size": 1000,
                    }
                    subset = exps
                    if dataset:
                        params["filter[dataset_name]"] = dataset
                        subset = [e for e in exps if e.dataset == dataset]
                    body = await listing(client, base, **params)
                    got = [row["id"] for row in body["data"]]
                    expected = naive_order(subset, sort, pinned_first)
                    assert got == expected, (
                        sort,
                        pinned_first,
                        dataset,
                        [(by_id[i].name, by_id[i].metric(path)) for i in got],
                    )
                    assert body["pagination"]["total_results"] == len(subset)
                    assert body["sort"] == sort


async def test_rollup_sort_pages(client, base) -> None:
    exps = await build_workspace(client, base, seed=11, n=13)
    for sort in ("-evaluators.x.y.z.mean", "cost_usd.p90", "-run_count"):
        expected = naive_order(exps, sort, pinned_first=True)
        seen: list[str] = []
        for page in range(1, 7):
            body = await listing(client, base, sort=sort, page=page, page_size=3)
            assert body["pagination"] == {
                "page": page,
                "page_size": 3,
                "current_page_size": len(expected[(page - 1) * 3 : page * 3]),
                "total_pages": 5,
                "total_results": 13,
            }
            seen += [row["id"] for row in body["data"]]
        assert seen == expected, sort


async def test_rollup_filters_equal_naive(client, base) -> None:
    exps = await build_workspace(client, base, seed=5)
    rng = random.Random(99)
    checked = 0
    for path in PATHS:
        for op in ("$gt", "$gte", "$lt", "$lte", "$ne", "$eq"):
            if op == "$eq" and not (path == "run_count" or path.endswith(".count")):
                continue
            threshold = float(rng.choice([0, 1, 2, 3])) if op == "$eq" else threshold_for(exps, path, rng)
            for dataset in (None, "d2"):
                subset = [e for e in exps if (dataset is None or e.dataset == dataset)]
                kept = [e for e in subset if matches(e.metric(path), op, threshold)]
                params = {f"filter[{path}][{op}]": repr(threshold), "page_size": 1000}
                if dataset:
                    params["filter[dataset_name]"] = dataset
                body = await listing(client, base, **params)
                assert [row["id"] for row in body["data"]] == naive_order(kept, "-created_at", True), (
                    path,
                    op,
                    threshold,
                )
                assert body["pagination"]["total_results"] == len(kept)
                assert body["pagination"]["total_pages"] == (1 if kept else 0)
                checked += 1
    assert checked > 100


async def test_several_rollup_filters_and_sort_in_json_form(client, base) -> None:
    exps = await build_workspace(client, base, seed=8)
    acc_mid = threshold_for(exps, "evaluators.acc.mean", random.Random(1))
    kept = [
        e
        for e in exps
        if e.dataset == "d1" and e.run_count >= 1 and matches(e.metric("evaluators.acc.mean"), "$gte", acc_mid)
    ]
    filters = [
        {"dataset_name": "d1", "run_count": {"$gte": 1}, "evaluators.acc.mean": {"$gte": acc_mid}},
        {"$and": [{"dataset_name": "d1"}, {"run_count": {"$gte": 1}}, {"evaluators.acc.mean": {"$gte": acc_mid}}]},
        # Nested $and is still only AND.
        {
            "dataset_name": "d1",
            "$and": [{"run_count": {"$gte": 1}}, {"$and": [{"evaluators.acc.mean": {"$gte": acc_mid}}]}],
        },
    ]
    for obj in filters:
        body = await listing(client, base, filter=json.dumps(obj), sort="-evaluators.x.y.z.p95", page_size=1000)
        assert [row["id"] for row in body["data"]] == naive_order(kept, "-evaluators.x.y.z.p95", True), obj
        assert body["pagination"]["total_results"] == len(kept)
        assert body["filter"] == obj
    # The same in bracket form.
    body = await listing(
        client,
        base,
        **{
            "filter[dataset_name]": "d1",
            "filter[run_count][$gte]": "1",
            "filter[evaluators.acc.mean][$gte]": repr(acc_mid),
            "sort": "-evaluators.x.y.z.p95",
            "page_size": 1000,
        },
    )
    assert [row["id"] for row in body["data"]] == naive_order(kept, "-evaluators.x.y.z.p95", True)


async def test_rows_without_the_metric_sort_last_both_ways(client, base) -> None:
    names = {"a-none": None, "b-low": 0.1, "c-none": None, "d-high": 0.9}
    for name, value in names.items():
        assert (await client.post(f"{base}/experiments", json={"name": name, "dataset_name": "d"})).status_code == 201
        scores = {} if value is None else {"m.x": value}
        r = await client.post(
            f"{base}/experiments/{name}/sessions",
            json={"sessions": [{"session_id": "s", "started_at": "2026-01-01T00:00:00Z", "scores": scores}]},
        )
        assert r.status_code == 201
    for sort, expected in (("evaluators.m.x.mean", ["b-low", "d-high"]), ("-evaluators.m.x.mean", ["d-high", "b-low"])):
        body = await listing(client, base, sort=sort)
        assert [row["name"] for row in body["data"]] == [*expected, "a-none", "c-none"]


async def test_rollup_sort_reads_your_writes(client, base) -> None:
    for name in ("one", "two"):
        assert (await client.post(f"{base}/experiments", json={"name": name, "dataset_name": "d"})).status_code == 201
    for name, value in (("one", 0.2), ("two", 0.8), ("one", 0.95)):
        r = await client.post(
            f"{base}/experiments/{name}/sessions",
            json={"sessions": [{"session_id": "s", "started_at": "2026-01-01T00:00:00Z", "scores": {"acc": value}}]},
        )
        assert r.status_code == 201
        body = await listing(client, base, sort="-evaluators.acc.mean")
        top = body["data"][0]
        assert top["name"] == name and top["aggregate_scores"]["acc"]["mean"] == value


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "evaluators.acc.p42"},
        {"sort": "-evaluators.acc.p42"},
        {"sort": "evaluators.acc"},
        {"sort": "evaluators..mean"},
        {"sort": "cost_usd"},
        {"sort": "latency_ms.max"},
        {"sort": "run_count.mean"},
        {"filter[evaluators.acc.p42][$gte]": "1"},
        {"filter[evaluators.acc.mean][$gte]": "high"},
        {"filter[evaluators.acc.mean][$like]": "1"},
        {"filter[cost_usd.mean][$gte]": "NaN"},
    ],
)
async def test_bad_rollup_queries_422(client, base, params) -> None:
    response = await client.get(f"{base}/experiments", params=params)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, list) and detail and detail[0]["loc"][0] == "query"


async def test_dotted_evaluator_name_stat_is_the_last_segment(client, base) -> None:
    """`evaluators.p90.mean` is the mean of an evaluator named "p90"; `evaluators.a.b.count` counts "a.b"."""
    for name, scores in (("e1", {"p90": 0.3, "a.b": 1.0}), ("e2", {"p90": 0.7}), ("e3", {"a.b": 2.0, "a": 5.0})):
        assert (await client.post(f"{base}/experiments", json={"name": name, "dataset_name": "d"})).status_code == 201
        r = await client.post(
            f"{base}/experiments/{name}/sessions",
            json={"sessions": [{"session_id": "s", "started_at": "2026-01-01T00:00:00Z", "scores": scores}]},
        )
        assert r.status_code == 201
    body = await listing(client, base, sort="-evaluators.p90.mean")
    assert [row["name"] for row in body["data"]] == ["e2", "e1", "e3"]
    body = await listing(client, base, **{"filter[evaluators.a.b.sum][$gt]": "1.5"})
    assert [row["name"] for row in body["data"]] == ["e3"]
    body = await listing(client, base, **{"filter[evaluators.a.b.count]": "1", "sort": "name"})
    assert [row["name"] for row in body["data"]] == ["e1", "e3"]


async def test_rollup_filters_under_or_and_not_match_a_naive_evaluation(client, base) -> None:
    """Rollup conditions combine with $or/$not and column filters like any other field."""
    data = {"a": ("d1", [0.9, 0.7]), "b": ("d2", [0.2]), "c": ("d1", []), "d": ("d2", [0.6, 0.4])}
    for name, (dataset, accs) in data.items():
        assert (
            await client.post(f"{base}/experiments", json={"name": name, "dataset_name": dataset})
        ).status_code == 201
        if accs:
            sessions = [
                {"session_id": f"s{i}", "started_at": "2026-01-01T00:00:00Z", "scores": {"acc": v}}
                for i, v in enumerate(accs)
            ]
            assert (
                await client.post(f"{base}/experiments/{name}/sessions", json={"sessions": sessions})
            ).status_code == 201

    def mean(name: str) -> float | None:
        accs = data[name][1]
        return sum(accs) / len(accs) if accs else None

    cases = [
        (
            {"$or": [{"run_count": {"$gte": 2}}, {"dataset_name": "d2"}]},
            lambda n: len(data[n][1]) >= 2 or data[n][0] == "d2",
        ),
        ({"$not": {"evaluators.acc.mean": {"$gte": 0.5}}}, lambda n: not (mean(n) is not None and mean(n) >= 0.5)),
        (
            {"$or": [{"run_count": 0}, {"evaluators.acc.mean": {"$lt": 0.5}}]},
            lambda n: not data[n][1] or (mean(n) is not None and mean(n) < 0.5),
        ),
        (
            {"dataset_name": "d1", "$not": {"run_count": {"$lt": 1}}},
            lambda n: data[n][0] == "d1" and len(data[n][1]) >= 1,
        ),
    ]
    for flt, predicate in cases:
        for sort in ("name", "-evaluators.acc.mean"):
            body = await listing(client, base, filter=json.dumps(flt), sort=sort, pinned_first="false")
            expected = sorted(n for n in data if predicate(n))
            assert sorted(row["name"] for row in body["data"]) == expected, (flt, sort)
            assert body["pagination"]["total_results"] == len(expected)


async def test_rollup_sort_pages_one_by_one_with_ties_pins_and_filters(client, base) -> None:
    """A rollup sort pages the first experiments of the metric's column, more when the filters leave
    too few, the whole column once the page reaches rows without a value (or run_count's 0s): walked
    a row or four at a time, with deleted runs, pins, ties (counts) and filters, every order is naive."""
    exps = await build_workspace(client, base, seed=5, n=15)
    for exp in exps[:3]:  # their rollup rows stay in ClickHouse; the list leaves them out
        assert (await client.delete(f"{base}/experiments/{quote(exp.name, safe='')}")).status_code == 204
    live = exps[3:]
    acc_mid = threshold_for(live, "evaluators.acc.mean", random.Random(2))
    cases: list[tuple[str, dict[str, str], list[Exp]]] = [
        ("evaluators.acc.count", {}, live),
        ("-cost_usd.mean", {"filter[dataset_name]": "d1"}, [e for e in live if e.dataset == "d1"]),
        ("latency_ms.p90", {}, live),
        ("run_count", {}, live),
        ("-run_count", {}, live),
        (
            "-evaluators.x.y.z.mean",
            {"filter[evaluators.acc.mean][$lt]": repr(acc_mid)},
            [e for e in live if matches(e.metric("evaluators.acc.mean"), "$lt", acc_mid)],
        ),
    ]
    for sort, filters, subset in cases:
        for pinned_first in (True, False):
            expected = naive_order(subset, sort, pinned_first)
            for page_size in (1, 4):
                seen: list[str] = []
                for page in range(1, len(expected) // page_size + 2):
                    body = await listing(
                        client, base, sort=sort, pinned_first=str(pinned_first).lower(), page=page,
                        page_size=page_size, **filters,
                    )  # fmt: skip
                    assert body["pagination"]["total_results"] == len(subset)
                    seen += [row["id"] for row in body["data"]]
                assert seen == expected, (sort, filters, pinned_first, page_size)
