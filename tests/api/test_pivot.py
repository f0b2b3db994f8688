"""GET …/evaluations/pivot through the real app and stores: cells computed from the sessions as sent
(per test case of each evaluation, then across the cell), agreement with the evaluations' own
rollups, dimensions of the session and of the evaluation, the list's filter, errors, CSV and NDJSON."""

import csv
import io
import json
from statistics import mean

import pytest

from support import assert_422, create_experiment, ingest_ok, ok

pytestmark = pytest.mark.asyncio
T = "2026-01-05T09:00:00Z"


def sessions(prefix: str, agent: str, rows: list[tuple[str, float | None, float]]) -> list[dict]:
    """One session per (test case, accuracy or None for unscored, cost)."""
    out = []
    for i, (case, accuracy, cost) in enumerate(rows):
        body = {"session_id": f"{prefix}-{i}", "started_at": T, "test_case_id": case, "agent_version": agent,
                "model_name": f"model-{agent}", "cost_usd": cost}  # fmt: skip
        if accuracy is not None:
            body["scores"] = {"accuracy": accuracy}
        out.append(body)
    return out


@pytest.fixture
async def runs(client, base) -> dict[str, dict]:
    """Four runs: two of agent v1 on gsm8k, one of v2 on gsm8k, one of v1 on tickets."""
    plan = {
        "a": ("gsm8k", "v1", {"team": "red"}, [("q1", 1.0, 0.1), ("q1", 0.0, 0.3), ("q2", 1.0, 0.2)]),
        "b": ("gsm8k", "v1", {"team": "blue"}, [("q1", 0.5, 0.4), ("q3", None, 0.5)]),
        "c": ("gsm8k", "v2", {"team": "red"}, [("q1", 1.0, 1.0), ("q2", 1.0, 2.0)]),
        "d": ("tickets", "v1", {}, [("t1", 0.25, 0.05)]),
    }
    made = {}
    for key, (dataset, agent, metadata, rows) in plan.items():
        run = await create_experiment(client, base, dataset_name=dataset, metadata=metadata)
        await ingest_ok(client, base, run["name"], sessions(key, agent, rows))
        made[key] = {"name": run["name"], "rows": rows}
    return made


def unit_values(rows: list[tuple[str, float | None, float]], field: int) -> list[float]:
    """Per test case: accuracy as the sum of session scores over the session count (unscored = 0), or
    the mean cost."""
    cases: dict[str, list] = {}
    for row in rows:
        cases.setdefault(row[0], []).append(row[field])
    if field == 1:
        return [sum(v or 0 for v in values) / len(values) for values in cases.values()]
    return [mean(values) for values in cases.values()]


def cell(body: dict, row: str | None, column: str | None) -> dict:
    return next(c for c in body["cells"] if (c["row"], c["column"]) == (row, column))


async def test_cells_follow_the_0_3_0_rollups(client, base, runs):
    params = {"rows": "agent_version", "columns": "dataset_name", "metric": "evaluators.accuracy.mean"}
    body = ok(await client.get(f"{base}/evaluations/pivot", params=params))
    assert body["row_values"] == ["v1", "v2"] and body["column_values"] == ["gsm8k", "tickets"]
    assert body["evaluations"] == 4 and len(body["cells"]) == 3
    both = cell(body, "v1", "gsm8k")
    expected = mean(unit_values(runs["a"]["rows"], 1) + unit_values(runs["b"]["rows"], 1))
    assert both["value"] == pytest.approx(expected)
    assert (both["evaluations"], both["sessions"], both["test_cases"]) == (2, 5, 3)
    # A cell of one evaluation shows that evaluation's own rollup.
    for key, (row, column) in (("c", ("v2", "gsm8k")), ("d", ("v1", "tickets"))):
        own = ok(await client.get(f"{base}/evaluations/{runs[key]['name']}"))
        assert cell(body, row, column)["value"] == pytest.approx(own["aggregate_scores"]["accuracy"]["mean"])

    params = {"rows": "model", "metric": "cost_usd.sum"}
    body = ok(await client.get(f"{base}/evaluations/pivot", params=params))
    assert body["columns"] is None and body["column_values"] == [None]
    v1 = [*unit_values(runs["a"]["rows"], 2), *unit_values(runs["b"]["rows"], 2), *unit_values(runs["d"]["rows"], 2)]
    assert cell(body, "model-v1", None)["value"] == pytest.approx(sum(v1))


async def test_metadata_dimension_counts_and_filter(client, base, runs):
    params = {"rows": "metadata.team", "columns": "agent_version", "metric": "run_count"}
    body = ok(await client.get(f"{base}/evaluations/pivot", params=params))
    assert body["row_values"] == ["blue", "red", None]
    assert cell(body, "red", "v1")["value"] == 3 and cell(body, "red", "v2")["value"] == 2
    assert cell(body, None, "v1")["value"] == 1
    params |= {"filter[dataset_name]": "gsm8k", "metric": "test_case_count"}
    body = ok(await client.get(f"{base}/evaluations/pivot", params=params))
    assert body["evaluations"] == 3 and body["row_values"] == ["blue", "red"]
    assert body["filter"] == {"dataset_name": "gsm8k"}
    assert cell(body, "red", "v1")["value"] == 2  # q1, q2 of run a
    # A rollup condition of the list applies as well.
    params = {"rows": "dataset_name", "metric": "cost_usd.mean", "filter": json.dumps({"cost_usd.mean": {"$gt": 1}})}
    body = ok(await client.get(f"{base}/evaluations/pivot", params=params))
    assert body["evaluations"] == 1 and cell(body, "gsm8k", None)["value"] == pytest.approx(1.5)


async def test_bad_dimensions_and_metrics(client, base):
    url = f"{base}/evaluations/pivot"
    assert_422(await client.get(url, params={"rows": "colour", "metric": "run_count"}), ("query", "rows"))
    assert_422(await client.get(url, params={"rows": "model", "columns": "metadata.", "metric": "run_count"}),
               ("query", "columns"))  # fmt: skip
    assert_422(await client.get(url, params={"rows": "model", "metric": "cost_usd.avg"}), ("query", "metric"))
    assert_422(await client.get(url, params={"rows": "model"}), ("query", "metric"))
    assert_422(await client.get(url, params={"rows": "model", "metric": "run_count", "page": 2}), ("query", "page"))
    empty = ok(await client.get(url, params={"rows": "model", "metric": "evaluators.x.p90"}))
    assert empty["cells"] == [] and empty["evaluations"] == 0


async def test_csv_is_the_wide_table_and_ndjson_the_cells(client, base, runs):
    params = {"rows": "agent_version", "columns": "dataset_name", "metric": "cost_usd.mean"}
    body = ok(await client.get(f"{base}/evaluations/pivot", params=params))
    response = await client.get(f"{base}/evaluations/pivot", params=params, headers={"Accept": "text/csv"})
    assert response.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(response.text)))
    assert table[0] == ["agent_version", "gsm8k", "tickets"]
    assert table[2][0] == "v2" and table[2][2] == ""  # v2 never ran on tickets
    assert float(table[1][1]) == pytest.approx(cell(body, "v1", "gsm8k")["value"])
    response = await client.get(f"{base}/evaluations/pivot", params={**params, "format": "ndjson"})
    assert [json.loads(line) for line in response.text.splitlines()] == body["cells"]
