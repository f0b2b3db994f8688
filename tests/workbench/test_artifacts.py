"""Artifacts in the local artifact store (a directory under the data dir): bytes round-trip with the
right sha256 and content type, s3_key registration, the 25 MiB boundary, and a cascading DELETE
that removes the files, the runs and the metric histories."""

import base64
import hashlib
import os
from pathlib import Path

from support import WORKBENCH_API as API
from support import create_in_workbench, ok, problem


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def folder(settings, org: str) -> Path:
    return settings.data_dir / "artifacts" / org


async def test_upload_list_download_round_trip(wb, org, settings) -> None:
    made = await create_in_workbench(wb, name="art", run_name="r")
    exp, run = made["id"], made["run_id"]
    data = os.urandom(1024 * 1024) + b"\x00\xff end"
    digest = hashlib.sha256(data).hexdigest()
    artifact = ok(
        await wb.post(
            f"{API}/{run}/artifacts",
            json={
                "name": "loss.png",
                "path": "plots/loss.png",
                "type": "image",
                "content_base64": b64(data),
                "content_type": "image/png",
                "size": 1,
            },
        )
    )["artifact"]
    assert artifact["sha256"] == digest and artifact["size"] == len(data) and artifact["type"] == "image"
    assert artifact["s3_key"] == f"{org}/{exp}/{run}/plots/loss.png" and artifact["content_type"] == "image/png"
    on_disk = folder(settings, org) / exp / run / "plots" / "loss.png"
    assert on_disk.read_bytes() == data

    # The content type comes from the name when none is given; base64 with line breaks is fine.
    wrapped = "\n".join(b64(b"id,accuracy\n1,0.95\n")[i : i + 8] for i in range(0, 28, 8))
    csv = ok(await wb.post(f"{API}/{run}/artifacts", json={"name": "results.csv", "content_base64": wrapped}))[
        "artifact"
    ]
    assert csv["content_type"] == "text/csv" and csv["size"] == 19 and csv["path"] == "results.csv"
    registered = ok(
        await wb.post(
            f"{API}/{run}/artifacts",
            json={
                "name": "model_weights.pkl",
                "path": "models/model_weights.pkl",
                "type": "model",
                "s3_key": "experiments/exp_abc123/artifacts/model_weights.pkl",
                "size": 1048576,
                "content_type": "application/octet-stream",
            },
        )
    )["artifact"]
    assert registered == {
        "name": "model_weights.pkl",
        "path": "models/model_weights.pkl",
        "type": "model",
        "s3_key": "experiments/exp_abc123/artifacts/model_weights.pkl",
        "size": 1048576,
        "content_type": "application/octet-stream",
        "sha256": None,
        "created_at": registered["created_at"],
        "run_id": run,
    }

    listed = ok(await wb.get(f"{API}/{run}/artifacts"))
    assert listed["runId"] == run
    assert [a["path"] for a in listed["artifacts"]] == ["plots/loss.png", "results.csv", "models/model_weights.pkl"]
    assert ok(await wb.get(f"{API}/{exp}/artifacts")) == listed  # the experiment's latest run

    download = await wb.get(f"{API}/{run}/artifacts/content", params={"path": "plots/loss.png"})
    assert download.status_code == 200 and download.content == data
    assert download.headers["content-type"] == "image/png"
    assert download.headers["x-artifact-sha256"] == hashlib.sha256(download.content).hexdigest() == digest
    assert download.headers["etag"] == f'"{digest}"'
    assert "filename*=UTF-8''loss.png" in download.headers["content-disposition"]
    text = await wb.get(f"{API}/{exp}/artifacts/content", params={"path": "results.csv"})
    assert text.content == b"id,accuracy\n1,0.95\n" and text.headers["content-type"].startswith("text/csv")
    assert (
        problem(await wb.get(f"{API}/{run}/artifacts/content", params={"path": "nope"}), 404)
        == "Artifact 'nope' not found."
    )
    assert (
        problem(await wb.get(f"{API}/{run}/artifacts/content", params={"path": "models/model_weights.pkl"}), 404)
        == "Artifact 'models/model_weights.pkl' was registered by s3_key; its content is not in the artifact store."
    )

    # The same path again replaces the record and the bytes.
    ok(
        await wb.post(
            f"{API}/{run}/artifacts", json={"name": "loss.png", "path": "plots/loss.png", "content_base64": b64(b"v2")}
        )
    )
    assert (await wb.get(f"{API}/{run}/artifacts/content", params={"path": "plots/loss.png"})).content == b"v2"
    assert len(ok(await wb.get(f"{API}/{run}/artifacts"))["artifacts"]) == 3


async def test_experiment_id_without_runs_makes_one(wb) -> None:
    exp = ok(await wb.post(f"{API}/register", json={"name": "empty"}), 201)["experiment_id"]
    assert ok(await wb.get(f"{API}/{exp}/artifacts")) == {"runId": None, "artifacts": []}
    artifact = ok(await wb.post(f"{API}/{exp}/artifacts", json={"name": "a.txt", "content_base64": b64(b"a")}))[
        "artifact"
    ]
    detail = ok(await wb.get(f"{API}/{exp}"))
    assert (
        detail["runCount"] == 1
        and detail["runs"][0]["id"] == artifact["run_id"]
        and detail["runs"][0]["name"] == "empty"
    )


async def test_exactly_25_mib_is_accepted(wb) -> None:
    run = (await create_in_workbench(wb, name="big", run_name="r"))["run_id"]
    data = b"\x07" * (25 * 1024 * 1024)
    artifact = ok(await wb.post(f"{API}/{run}/artifacts", json={"name": "big.bin", "content_base64": b64(data)}))[
        "artifact"
    ]
    assert artifact["size"] == len(data) and artifact["sha256"] == hashlib.sha256(data).hexdigest()
    assert artifact["content_type"] == "application/octet-stream"


async def test_cascading_delete_removes_files_runs_and_metrics(wb, org, settings) -> None:
    doomed = await create_in_workbench(wb, name="doomed", run_id="doomed-run-1")
    exp = doomed["id"]
    second = (await create_in_workbench(wb, experiment_name="doomed", run_id="doomed-run-2"))["run_id"]
    child = await create_in_workbench(wb, name="survivor", run_id="child-run", parent_run_id="doomed-run-1")
    for run in ("doomed-run-1", second):
        ok(await wb.post(f"{API}/{run}/artifacts", json={"name": f"{run}.bin", "content_base64": b64(run.encode())}))
        ok(await wb.post(f"{API}/{run}/metrics", json={"metrics": [{"key": "loss", "value": 0.5, "step": 1}]}))
        ok(await wb.post(f"{API}/{run}/params", json={"params": {"seed": 1}}))
    ok(await wb.post(f"{API}/child-run/artifacts", json={"name": "keep.bin", "content_base64": b64(b"keep")}))
    assert (folder(settings, org) / exp / second / f"{second}.bin").read_bytes() == second.encode()

    # A run id deletes that run alone.
    deleted = await wb.delete(f"{API}/{second}")
    assert deleted.status_code == 204 and deleted.content == b""
    assert not (folder(settings, org) / exp / second).exists()
    assert (folder(settings, org) / exp / "doomed-run-1" / "doomed-run-1.bin").exists()
    assert ok(await wb.get(f"{API}/{exp}"))["runCount"] == 1

    assert (await wb.delete(f"{API}/{exp}")).status_code == 204
    assert not (folder(settings, org) / exp).exists()
    assert problem(await wb.get(f"{API}/{exp}"), 404) == f"Experiment or run '{exp}' not found."
    assert problem(await wb.get(f"{API}/doomed-run-1"), 404).endswith("not found.")
    assert problem(await wb.delete(f"{API}/{exp}"), 404).endswith("not found.")
    survivor = ok(await wb.get(f"{API}/child-run"))
    assert survivor["parentRunId"] is None and [a["name"] for a in survivor["artifacts"]] == ["keep.bin"]
    assert (folder(settings, org) / child["id"] / "child-run" / "keep.bin").exists()
    # The metric histories went too: a new run with a deleted run's id starts empty.
    await create_in_workbench(wb, name="reborn", run_id="doomed-run-1")
    assert ok(await wb.get(f"{API}/doomed-run-1/metrics"))["count"] == 0
    assert ok(await wb.get(f"{API}/doomed-run-1"))["latestMetrics"] == {}
    assert ok(await wb.get(f"{API}/stats"))["total"] == 2
