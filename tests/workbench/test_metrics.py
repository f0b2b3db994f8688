"""Step metrics in ClickHouse: appended (never replaced), read back by step then timestamp, paged;
timestamps as ISO text or Unix seconds; an experiment id means its latest run."""

from support import WORKBENCH_API as API
from support import create_in_workbench, ok, problem


async def test_history_order_timestamps_and_paging(wb) -> None:
    run = (await create_in_workbench(wb, name="m", run_name="r"))["run_id"]
    points = [
        {"key": "loss", "value": 3.0, "step": 2, "timestamp": "2025-01-15T10:00:03Z"},
        {"key": "loss", "value": 2.0, "step": 2, "timestamp": "2025-01-15T10:00:01Z"},
        {"key": "loss", "value": 1.0, "step": 1, "timestamp": 1736935205.25},
        {"key": "acc", "value": 0.5},
    ]
    assert ok(await wb.post(f"{API}/{run}/metrics", json={"metrics": points})) == {"logged": 4}
    # Appended, not replaced: the same step and timestamp again is a second value.
    ok(await wb.post(f"{API}/{run}/metrics", json={"metrics": [points[0]]}))
    history = ok(await wb.get(f"{API}/{run}/metrics", params={"key": "loss"}))
    assert history["count"] == 4
    assert [(m["step"], m["value"], m["timestamp"]) for m in history["metrics"]] == [
        (1, 1.0, "2025-01-15T10:00:05.250000Z"),
        (2, 2.0, "2025-01-15T10:00:01Z"),
        (2, 3.0, "2025-01-15T10:00:03Z"),
        (2, 3.0, "2025-01-15T10:00:03Z"),
    ]
    page = ok(await wb.get(f"{API}/{run}/metrics", params={"key": "loss", "limit": 2, "offset": 1}))
    assert [m["value"] for m in page["metrics"]] == [2.0, 3.0] and page["count"] == 4
    every = ok(await wb.get(f"{API}/{run}/metrics"))
    assert every["key"] is None and [m["key"] for m in every["metrics"]] == ["acc", "loss", "loss", "loss", "loss"]
    assert every["metrics"][0]["step"] == 0  # no step given: step 0
    assert ok(await wb.get(f"{API}/{run}/metrics", params={"key": "missing"}))["count"] == 0
    latest = ok(await wb.get(f"{API}/{run}"))["latestMetrics"]
    assert latest == {"acc": 0.5, "loss": 3.0}
    assert "limit" in problem(await wb.get(f"{API}/{run}/metrics", params={"limit": 0}), 422)


async def test_experiment_id_means_latest_run(wb) -> None:
    exp = ok(await wb.post(f"{API}/register", json={"name": "auto-run"}), 201)["experiment_id"]
    assert ok(await wb.get(f"{API}/{exp}/metrics")) == {
        "runId": None, "experimentId": exp, "key": None, "count": 0, "limit": 1000, "offset": 0, "metrics": [],
    }
    ok(await wb.post(f"{API}/{exp}/metrics", json={"metrics": [{"key": "a", "value": 1, "step": 0}]}))
    first = ok(await wb.get(f"{API}/{exp}"))["runs"]
    assert len(first) == 1
    newer = (await create_in_workbench(wb, experiment_name="auto-run", run_name="second"))["run_id"]
    ok(await wb.post(f"{API}/{exp}/metrics", json={"metrics": [{"key": "a", "value": 2, "step": 0}]}))
    assert [m["value"] for m in ok(await wb.get(f"{API}/{newer}/metrics"))["metrics"]] == [2.0]
    assert [m["value"] for m in ok(await wb.get(f"{API}/{first[0]['id']}/metrics"))["metrics"]] == [1.0]
    assert problem(await wb.post(f"{API}/exp_unknown/metrics", json={"metrics": [{"key": "a", "value": 1}]}), 404) == (
        "Experiment or run 'exp_unknown' not found."
    )
