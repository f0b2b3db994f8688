"""`intake-service ingest` against a running server, with the files in examples/: every record is
counted once, and sending the same file again changes nothing."""

import json
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from cli.serve_process import REPO, run

from support import Server, clean_env

EXAMPLES = REPO / "examples"


@pytest.fixture
def experiment(server: Server) -> tuple[str, str]:
    """(workspace, experiment name) of a fresh experiment."""
    workspace, name = f"ws-{uuid.uuid4().hex[:10]}", "baseline"
    response = httpx.post(
        f"{server.url}/apis/intake/v2/workspaces/{workspace}/experiments", json={"name": name, "dataset_name": "qa"}
    )
    assert response.status_code == 201, response.text
    return workspace, name


def ingest(server: Server, file: Path, workspace: str, name: str) -> subprocess.CompletedProcess[str]:
    return run("ingest", str(file), "--workspace", workspace, "--experiment", name, "--url", server.url)


def experiment_of(server: Server, workspace: str, name: str) -> dict:
    return httpx.get(f"{server.url}/apis/intake/v2/workspaces/{workspace}/experiments/{name}").json()


def session_ids(server: Server, workspace: str, name: str) -> list[str]:
    page = httpx.get(f"{server.url}/apis/intake/v2/workspaces/{workspace}/experiments/{name}/sessions").json()
    return sorted(row["session_id"] for row in page["data"])


def test_sessions_example_twice_counts_once(server, experiment):
    lines = (EXAMPLES / "sessions.ndjson").read_text().splitlines()
    first = ingest(server, EXAMPLES / "sessions.ndjson", *experiment)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == f"Sent {len(lines)}, accepted {len(lines)}, rejected 0."
    before = experiment_of(server, *experiment)
    assert before["run_count"] == len(lines)
    assert sorted(before["evaluator_names"]) == ["accuracy", "faithfulness", "passed"]

    again = ingest(server, EXAMPLES / "sessions.ndjson", *experiment)
    assert again.returncode == 0, again.stderr
    after = experiment_of(server, *experiment)
    assert after["run_count"] == len(lines)
    assert after["aggregate_scores"] == before["aggregate_scores"] and after["cost_usd"] == before["cost_usd"]
    assert session_ids(server, *experiment) == sorted(json.loads(line)["session_id"] for line in lines)


def test_records_without_ids_keep_theirs_and_bad_ones_are_listed(server, experiment, scratch):
    session = {"started_at": "2026-01-05T09:00:00Z", "status": "success", "scores": {"accuracy": 1}}
    file = scratch / "mixed.ndjson"
    file.write_text(
        "\n".join([
            json.dumps(session),
            json.dumps(session),  # the same content twice is two sessions, each with its own stable id
            "{not json",
            json.dumps({**session, "status": "finished"}),
            json.dumps({**session, "test_case_id": "tc-9"}),
        ])
    )
    first = ingest(server, file, *experiment)
    assert first.returncode == 1
    summary, *reasons = first.stdout.strip().splitlines()
    assert summary == "Sent 5, accepted 3, rejected 2."
    assert reasons[0].strip().startswith("line 3: not valid JSON")
    assert reasons[1].strip().startswith("line 4: status: ")
    ids = session_ids(server, *experiment)
    assert len(ids) == 3

    ingest(server, file, *experiment)
    assert session_ids(server, *experiment) == ids
    assert experiment_of(server, *experiment)["run_count"] == 3


def test_atif_example_twice_counts_once(server, experiment):
    for _ in range(2):
        result = ingest(server, EXAMPLES / "trajectory.atif.json", *experiment)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "Sent 1, accepted 1, rejected 0."
        rollups = experiment_of(server, *experiment)
        assert rollups["run_count"] == 1
        assert rollups["aggregate_scores"]["verifier.reward"]["mean"] == 1.0
        assert rollups["agent_names"] == ["terminus"]


def test_an_unknown_experiment_is_one_sentence(server):
    result = ingest(server, EXAMPLES / "sessions.ndjson", "ws-nobody", "missing")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("The server answered 404:") and "missing" in result.stderr


def test_otel_example_exports_traces(server, experiment):
    workspace, name = experiment
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "otel_traces.py"), "--url", server.url,
         "--workspace", workspace, "--experiment", name, "--cases", "3"],
        check=False, capture_output=True, text=True, timeout=120, env=clean_env(),
    )
    assert result.returncode == 0, result.stderr
    rollups = experiment_of(server, workspace, name)
    assert rollups["run_count"] == 3
    assert rollups["agent_names"] == ["toy-agent"] and rollups["model_names"] == ["llama-3.1-8b"]
