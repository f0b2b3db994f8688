"""The session the seed's Python SDK runs, through HTTP against the real stores, checked field by
field: register → create a run with parameters → 1,000 step metrics in batches → params → an
artifact → finish with final metrics → compare two experiments → stats."""

import base64
import hashlib
import re
from datetime import UTC, datetime

from support import WORKBENCH_API as API
from support import ok

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
STEPS = 500  # two keys per step: 1,000 metrics


def loss(step: int) -> float:
    return round(1.0 / (step + 1), 6)


def accuracy(step: int) -> float:
    return round(0.5 + step / (2 * STEPS), 6)


async def test_sdk_session(wb, org) -> None:
    # register: 201 the first time, 200 with the same id after
    registered = ok(await wb.post(f"{API}/register", json={"name": "sentiment", "tags": ["nlp", " nlp ", "v2"]}), 201)
    assert registered == {"experiment_id": registered["experiment_id"], "name": "sentiment", "exists": False}
    exp1 = registered["experiment_id"]
    assert re.fullmatch(r"exp_[0-9a-f]{32}", exp1)
    again = ok(await wb.post(f"{API}/register", json={"name": "sentiment"}))
    assert again == {"experiment_id": exp1, "name": "sentiment", "exists": True}

    # a run in it, the way the AutoML trainer names things
    created = ok(
        await wb.post(
            API,
            json={
                "experiment_name": "sentiment",
                "run_name": "baseline",
                "parameters": {"learning_rate": 0.01, "epochs": 10},
                "modelType": "classification",
                "problem_type": "binary",
                "framework": "sklearn",
                "system_info": {"python_version": "3.11.0", "platform": "linux"},
            },
        ),
        201,
    )
    run1 = created["run_id"]
    assert re.fullmatch(r"run_[0-9a-f]{32}", run1)
    assert created == {
        "id": exp1,
        "experiment_id": exp1,
        "run_id": run1,
        "name": "baseline",
        "status": "pending",
        "createdAt": created["createdAt"],
    }
    assert ISO.match(created["createdAt"])

    # 1,000 step metrics in batches of 200, out of order inside each batch
    points = [
        point
        for step in range(STEPS)
        for point in (
            {"key": "train_loss", "value": loss(step), "step": step},
            {"key": "val_accuracy", "value": accuracy(step), "step": step},
        )
    ]
    for start in range(0, len(points), 200):
        batch = list(reversed(points[start : start + 200]))
        assert ok(await wb.post(f"{API}/{run1}/metrics", json={"metrics": batch})) == {"logged": 200}

    history = ok(await wb.get(f"{API}/{run1}/metrics", params={"key": "train_loss", "limit": 1000}))
    assert history["runId"] == run1 and history["experimentId"] == exp1 and history["key"] == "train_loss"
    assert history["count"] == STEPS and history["limit"] == 1000 and history["offset"] == 0
    assert [m["step"] for m in history["metrics"]] == list(range(STEPS))
    assert [m["value"] for m in history["metrics"]] == [loss(s) for s in range(STEPS)]
    assert all(m["key"] == "train_loss" and ISO.match(m["timestamp"]) for m in history["metrics"])
    page = ok(await wb.get(f"{API}/{run1}/metrics", params={"key": "val_accuracy", "limit": 100, "offset": 100}))
    assert page["count"] == STEPS
    assert [(m["step"], m["value"]) for m in page["metrics"]] == [(s, accuracy(s)) for s in range(100, 200)]
    # the experiment id stands for its latest run
    via_experiment = ok(await wb.get(f"{API}/{exp1}/metrics", params={"key": "val_accuracy", "limit": 1}))
    assert via_experiment["runId"] == run1 and via_experiment["metrics"][0]["step"] == 0

    # params merge: existing key updated in place, new key appended
    assert ok(await wb.post(f"{API}/{run1}/params", json={"params": {"learning_rate": 0.02, "batch_size": 32}})) == {
        "logged": 2
    }

    # an artifact uploaded as base64
    content = b"id,accuracy\n1,0.95\n"
    artifact = ok(
        await wb.post(
            f"{API}/{run1}/artifacts",
            json={
                "name": "results.csv",
                "content_base64": base64.b64encode(content).decode(),
                "content_type": "text/csv",
            },
        )
    )["artifact"]
    assert artifact == {
        "name": "results.csv",
        "path": "results.csv",
        "type": "file",
        "s3_key": f"{org}/{exp1}/{run1}/results.csv",
        "size": len(content),
        "content_type": "text/csv",
        "sha256": hashlib.sha256(content).hexdigest(),
        "created_at": artifact["created_at"],
        "run_id": run1,
    }

    # finish the run with final metrics
    finished = ok(
        await wb.put(
            f"{API}/{run1}",
            json={
                "status": "completed",
                "final_metrics": {"accuracy": 0.93, "f1_score": 0.9},
                "duration_seconds": 12.5,
            },
        )
    )
    assert finished["id"] == run1 and finished["experimentId"] == exp1 and finished["name"] == "baseline"
    assert finished["status"] == "completed" and finished["errorMessage"] is None
    assert finished["parameters"] == [
        {"key": "learning_rate", "value": 0.02},
        {"key": "epochs", "value": 10},
        {"key": "batch_size", "value": 32},
    ]
    assert finished["finalMetrics"] == [{"key": "accuracy", "value": 0.93}, {"key": "f1_score", "value": 0.9}]
    assert finished["modelType"] == "classification" and finished["problemType"] == "binary"
    assert finished["framework"] == "sklearn" and finished["parentRunId"] is None
    assert finished["systemInfo"] == {"python_version": "3.11.0", "platform": "linux"}
    assert finished["durationSeconds"] == 12.5
    assert finished["latestMetrics"] == {"train_loss": loss(STEPS - 1), "val_accuracy": accuracy(STEPS - 1)}
    assert [a["path"] for a in finished["artifacts"]] == ["results.csv"]

    # a second experiment, made by the create call itself, with two runs
    second = ok(
        await wb.post(
            API,
            json={
                "experiment_name": "sentiment-v3",
                "status": "completed",
                "parameters": [{"key": "learning_rate", "value": 0.01}, {"key": "epochs", "value": 10}],
                "final_metrics": [{"key": "accuracy", "value": 0.91}],
            },
        ),
        201,
    )
    exp2 = second["experiment_id"]
    assert exp2 != exp1 and second["name"] == "sentiment-v3" and second["status"] == "completed"
    better = ok(
        await wb.post(
            API,
            json={
                "experiment_name": "sentiment-v3",
                "run_name": "bigger",
                "status": "completed",
                "parameters": {"learning_rate": 0.01, "epochs": 20},
                "final_metrics": {"accuracy": 0.95, "loss": 0.1},
            },
        ),
        201,
    )
    assert better["experiment_id"] == exp2 and better["name"] == "bigger"

    compared = ok(await wb.get(f"{API}/compare", params={"ids": f"{exp1},{exp2}"}))
    first, other = compared["experiments"]
    assert first == {
        "id": exp1,
        "name": "sentiment",
        "status": "pending",
        "runCount": 1,
        "bestRunId": run1,
        "bestMetrics": {"accuracy": 0.93, "f1_score": 0.9},
        "tags": ["nlp", "v2"],
        "createdAt": first["createdAt"],
    }
    assert other == {
        "id": exp2,
        "name": "sentiment-v3",
        "status": "completed",
        "runCount": 2,
        "bestRunId": better["run_id"],
        "bestMetrics": {"accuracy": 0.95, "loss": 0.1},
        "tags": [],
        "createdAt": other["createdAt"],
    }
    assert compared["parameterDiff"] == {"learning_rate": [0.02, 0.01], "epochs": [10, 20], "batch_size": [32, None]}
    reversed_order = ok(await wb.get(f"{API}/compare", params={"ids": f"{exp2},{exp1}"}))
    assert [e["id"] for e in reversed_order["experiments"]] == [exp2, exp1]
    assert reversed_order["parameterDiff"]["epochs"] == [20, 10]

    assert ok(await wb.get(f"{API}/stats")) == {
        "total": 2,
        "draft": 0,
        "pending": 1,
        "running": 0,
        "completed": 1,
        "failed": 0,
        "pinned": 0,
    }

    detail = ok(await wb.get(f"{API}/{exp1}"))
    assert detail["id"] == exp1 and detail["organizationId"] == org and detail["owner"] == "anonymous"
    assert detail["runCount"] == 1 and detail["bestRunId"] == run1 and detail["pinned"] is False
    assert detail["isPublic"] is False and detail["sharedWith"] == [] and detail["description"] is None
    assert [r["id"] for r in detail["runs"]] == [run1] and detail["runs"][0]["status"] == "completed"
    assert datetime.fromisoformat(detail["updatedAt"]) >= datetime.fromisoformat(detail["createdAt"])
    assert datetime.fromisoformat(detail["createdAt"]) <= datetime.now(UTC)
