"""GET /traces/metrics (SDK 0.4+) as NeMo's 0.4.0 server answers it: buckets in a time zone, the
7-day default window, NeMo's 400 sentences. Traces are written with POST /ingest/spans; expected
statistics are computed here from the same numbers (quantiles interpolated between the sorted
values, as ClickHouse's `quantiles` does for small sets)."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from support import create_experiment, ok, problem

pytestmark = pytest.mark.asyncio

# trace id → (root start, latency ms or None, root status, tokens in/out/cached, cost) of one root + one LLM child.
TRACES = {
    "t1": ("2026-01-05T07:30:00Z", 2000, "success", (100, 10, None), 0.1),  # Sunday 4 Jan 23:30 in Los Angeles
    "t2": ("2026-01-05T09:00:00Z", 4000, "error", (300, 30, 5), 0.3),
    "t3": ("2026-01-05T10:00:00Z", None, "success", (None, None, None), None),
}
SINCE = {"filter[started_at][$gte]": "2026-01-01T00:00:00Z"}


def quantile(values: list[float], level: float) -> float:
    ordered = sorted(values)
    position = level * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def stats(values: list[Any], levels: dict[str, float], summed: bool = True) -> dict[str, Any]:
    present = [v for v in values if v is not None]
    if not present:
        return {}
    head = {"sum": sum(present)} if summed else {}
    return {**head, "mean": sum(present) / len(present), **{k: quantile(present, q) for k, q in levels.items()}}


def expected_point(ids: list[str]) -> dict[str, Any]:
    rows = [TRACES[i] for i in ids]
    summed = {"p90": 0.9, "p99": 0.99}
    tokens = [r[3] for r in rows]
    total = [None if t[0] is None else t[0] + t[1] for t in tokens]
    return {
        "run_count": len(rows),
        "failed_run_count": sum(r[2] == "error" for r in rows),
        "input_tokens": stats([t[0] for t in tokens], summed),
        "output_tokens": stats([t[1] for t in tokens], summed),
        "cached_tokens": stats([t[2] for t in tokens], summed),
        "total_tokens": stats(total, summed),
        "cost_usd": stats([r[4] for r in rows], summed),
        "latency_ms": stats([r[1] for r in rows], {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99}, summed=False),
    }


def spans_of(trace_id: str, start: str, latency: int | None, status: str, tokens: tuple, cost: float | None) -> list:
    began = datetime.fromisoformat(start)
    root = {"span_id": f"{trace_id}-root", "trace_id": trace_id, "started_at": start, "status": status,
            "attributes": {"nemo.evaluation.name": "exp", "nemo.test_case.name": trace_id,
                           "gen_ai.agent.name": f"agent-{trace_id}"}}  # fmt: skip
    if latency is not None:
        root["ended_at"] = (began + timedelta(milliseconds=latency)).isoformat()
    usage = dict(zip(("gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens", "gen_ai.usage.cached_tokens"),
                     tokens, strict=True), **{"gen_ai.usage.cost": cost})  # fmt: skip
    child = {"span_id": f"{trace_id}-llm", "trace_id": trace_id, "parent_span_id": root["span_id"], "kind": "LLM",
             "started_at": start, "attributes": {k: v for k, v in usage.items() if v is not None}}  # fmt: skip
    return [root, child]


@pytest.fixture
async def traces(client, base) -> None:
    await create_experiment(client, base, "exp")
    spans = [span for trace_id, row in TRACES.items() for span in spans_of(trace_id, *row)]
    ok(await client.post(f"{base}/ingest/spans", json={"source": "importer", "spans": spans}), 201)


async def metrics(client, base, **params: Any) -> dict[str, Any]:
    return ok(await client.get(f"{base}/traces/metrics", params=params))


async def test_days_in_a_time_zone(client, base, traces):
    answer = await metrics(client, base, timezone="America/Los_Angeles", **SINCE)
    assert (answer["bucket"], answer["timezone"]) == ("day", "America/Los_Angeles")
    assert answer["data"] == [
        {"bucket_start": "2026-01-04T00:00:00-08:00", **expected_point(["t1"])},
        {"bucket_start": "2026-01-05T00:00:00-08:00", **expected_point(["t2", "t3"])},
    ]


async def test_total_is_one_row_without_a_start(client, base, traces):
    answer = await metrics(client, base, bucket="total", **SINCE)
    assert answer["data"] == [expected_point(["t1", "t2", "t3"])]


async def test_costs_add_in_sorted_order(client, base):
    # Stored in the order 0.3, 0.2, 0.1 (one part, sorted by span id), which ClickHouse's sum() adds
    # as it reads them (0.6); added in sorted order they make 0.6000000000000001, the same whatever
    # order parts and threads deliver them in. A CI run once read 0.013000000000000001 against 0.013.
    costs = {"a": 0.3, "b": 0.2, "c": 0.1}
    root = {"span_id": "root", "trace_id": "t-sum", "started_at": "2026-01-05T09:00:00Z"}
    spans = [root] + [
        {"span_id": span_id, "trace_id": "t-sum", "parent_span_id": "root", "started_at": "2026-01-05T09:00:00Z",
         "attributes": {"gen_ai.usage.cost": cost}}
        for span_id, cost in costs.items()
    ]  # fmt: skip
    ok(await client.post(f"{base}/ingest/spans", json={"source": "importer", "spans": spans}), 201)
    in_order = sum(sorted(costs.values()))
    assert in_order != 0.3 + 0.2 + 0.1
    assert ok(await client.get(f"{base}/traces/t-sum"))["cost_usd"] == in_order
    [point] = (await metrics(client, base, bucket="total", **SINCE))["data"]
    assert (point["cost_usd"]["sum"], point["cost_usd"]["mean"]) == (in_order, in_order)


@pytest.mark.parametrize(
    ("bucket", "timezone", "starts"),
    [
        ("hour", "UTC", ["2026-01-05T07:00:00Z", "2026-01-05T09:00:00Z", "2026-01-05T10:00:00Z"]),
        ("week", "America/Los_Angeles", ["2025-12-29T00:00:00-08:00", "2026-01-05T00:00:00-08:00"]),  # Mondays
        ("month", "Asia/Kolkata", ["2026-01-01T00:00:00+05:30"]),
    ],
)
async def test_bucket_widths(client, base, traces, bucket, timezone, starts):
    answer = await metrics(client, base, bucket=bucket, timezone=timezone, **SINCE)
    assert [point["bucket_start"] for point in answer["data"]] == starts


async def test_filters_are_those_of_the_trace_list(client, base, traces):
    answer = await metrics(client, base, bucket="total", **SINCE, **{"filter[status]": "error"})
    assert answer["data"] == [expected_point(["t2"])]
    answer = await metrics(client, base, bucket="total", **SINCE, **{"filter[test_case_name]": "t3"})
    assert answer["data"] == [expected_point(["t3"])]
    answer = await metrics(client, base, bucket="total", **SINCE, **{"filter[agent_name]": "agent-t1"})
    assert answer["data"] == [expected_point(["t1"])]
    answer = await metrics(client, base, bucket="total", **SINCE, **{"filter[evaluation_name]": "other"})
    assert answer["data"] == []


async def test_the_default_window_is_the_last_7_days(client, base, traces):
    assert (await metrics(client, base, bucket="total"))["data"] == []  # January is long past
    until = {"filter[started_at][$lte]": "2026-01-06T00:00:00Z"}
    assert (await metrics(client, base, bucket="total", **until))["data"][0]["run_count"] == 3
    now = datetime.now(UTC).replace(microsecond=0)
    recent = {"span_id": "r", "trace_id": "recent", "started_at": (now - timedelta(hours=1)).isoformat()}
    ok(await client.post(f"{base}/ingest/spans", json={"source": "importer", "spans": [recent]}), 201)
    assert (await metrics(client, base, bucket="total"))["data"][0]["run_count"] == 1


@pytest.mark.parametrize(
    ("params", "status", "sentence"),
    [
        ({"timezone": "Mars/Olympus"}, 400, "Unknown timezone: Mars/Olympus."),
        ({"page": "1", "sort": "x"}, 400, "Unsupported query parameter(s): page, sort."),
        ({"filter[model]": "m"}, 400, None),
        ({"bucket": "year"}, 422, None),
    ],
)
async def test_bad_requests(client, base, params, status, sentence):
    response = await client.get(f"{base}/traces/metrics", params=params)
    if status == 400:
        detail = problem(response, 400)
        assert sentence is None or detail == sentence
    else:
        assert response.status_code == 422
