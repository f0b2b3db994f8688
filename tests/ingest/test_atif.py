"""POST /ingest/atif: ATIF trajectories of several schema versions → sessions, rollups, evaluator results."""

import gzip
import uuid

import orjson
import pytest

from support import create_experiment, get_experiment, session_rows, stored_spans

pytestmark = pytest.mark.asyncio


def trajectory(version: str = "ATIF-v1.5", *, session_id: str | None = None, **extra) -> dict:
    """User question at t=0, two agent turns at t=1.5 s and t=4.25 s (with metrics), model from agent."""
    doc = {
        "schema_version": version,
        "session_id": session_id or f"traj-{uuid.uuid4().hex[:8]}",
        "agent": {"name": "terminus", "version": "2.0", "model_name": "gpt-x"},
        "steps": [
            {"step_id": 1, "source": "system", "message": "You are helpful.", "timestamp": "2026-03-01T10:00:00Z"},
            {
                "step_id": 2,
                "source": "user",
                "message": [{"type": "text", "text": "What is 2+2?"}],
                "timestamp": "2026-03-01T10:00:00Z",
            },
            {
                "step_id": 3,
                "source": "agent",
                "message": "Let me think.",
                "timestamp": "2026-03-01T10:00:01.5Z",
                "metrics": {"prompt_tokens": 100, "completion_tokens": 20, "cached_tokens": 40, "cost_usd": 0.002},
            },
            {
                "step_id": 4,
                "source": "agent",
                "message": "4",
                "model_name": "gpt-y",
                "timestamp": "2026-03-01T10:00:04.25Z",
                "metrics": {"prompt_tokens": 150, "completion_tokens": 5, "cost_usd": 0.003},
            },
        ],
    }
    doc.update(extra)
    return doc


class TestVersions:
    @pytest.mark.parametrize("version", ["ATIF-v1.0", "ATIF-v1.2", "ATIF-v1.4", "ATIF-v1.6", "ATIF-v1.7"])
    async def test_trajectory_becomes_one_session(self, client, base, version):
        await create_experiment(client, base, "exp")
        body = trajectory(version, experiment_context={"experiment_id": "exp", "test_case_id": "tc-7"})
        response = await client.post(f"{base}/ingest/atif", json=body)
        assert response.status_code == 201, response.text
        assert response.json() == {"session_id": body["session_id"]}

        [row] = await session_rows(client, base, "exp")
        assert row["session_id"] == body["session_id"]
        assert row["test_case_id"] == "tc-7"
        assert row["started_at"] == "2026-03-01T10:00:00Z"
        assert row["ended_at"] == "2026-03-01T10:00:04.250000Z"
        assert row["latency_ms"] == 4250.0
        # Summed over the steps that carry them: 100+150, 20+5, 40 (only one step), 0.002+0.003.
        assert (row["input_tokens"], row["output_tokens"], row["cached_tokens"]) == (250, 25, 40)
        assert row["cost_usd"] == pytest.approx(0.005)
        assert (row["model_name"], row["agent_name"], row["agent_version"]) == ("gpt-x", "terminus", "2.0")
        assert row["input"] == "What is 2+2?"

        rollups = await get_experiment(client, base, "exp")
        assert rollups["run_count"] == 1
        assert rollups["cost_usd"]["sum"] == pytest.approx(0.005)
        assert rollups["latency_ms"]["mean"] == 4250.0
        assert rollups["agent_names"] == ["terminus"] and rollups["agent_versions"] == ["2.0"]
        assert rollups["model_names"] == ["gpt-x"]

    async def test_unknown_schema_version_is_422(self, client, base):
        response = await client.post(f"{base}/ingest/atif", json=trajectory("ATIF-v1.8"))
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "schema_version"]


class TestFinalMetrics:
    async def test_final_totals_fill_only_metrics_no_step_carries(self, client, base):
        await create_experiment(client, base, "exp")
        body = trajectory(experiment_context={"experiment_id": "exp"})
        for step in body["steps"]:
            step.get("metrics", {}).pop("cost_usd", None)  # no step carries cost any more
        body["final_metrics"] = {
            "total_prompt_tokens": 9999,
            "total_completion_tokens": 9999,
            "total_cached_tokens": 9999,
            "total_cost_usd": 0.25,
            "total_steps": 4,
        }
        assert (await client.post(f"{base}/ingest/atif", json=body)).status_code == 201
        [row] = await session_rows(client, base, "exp")
        # Tokens from the steps (the totals would count them twice); cost from the final total.
        assert (row["input_tokens"], row["output_tokens"], row["cached_tokens"]) == (250, 25, 40)
        assert row["cost_usd"] == 0.25

    async def test_only_final_totals(self, client, base):
        await create_experiment(client, base, "exp")
        body = trajectory("ATIF-v1.1", experiment_context={"experiment_id": "exp"})
        for step in body["steps"]:
            step.pop("metrics", None)
        body["final_metrics"] = {"total_prompt_tokens": 70, "total_completion_tokens": 7, "total_cost_usd": 0.5}
        assert (await client.post(f"{base}/ingest/atif", json=body)).status_code == 201
        [row] = await session_rows(client, base, "exp")
        assert (row["input_tokens"], row["output_tokens"], row["cached_tokens"], row["cost_usd"]) == (70, 7, None, 0.5)

    async def test_no_timestamps_no_metrics(self, client, base):
        await create_experiment(client, base, "exp")
        body = {
            "schema_version": "ATIF-v1.0",
            "agent": {"name": "a", "version": "1"},
            "steps": [{"step_id": 1, "source": "user", "message": "hi"}],
            "experiment_context": {"experiment_id": "exp"},
        }
        response = await client.post(f"{base}/ingest/atif", json=body)
        assert response.status_code == 201, response.text
        session_id = response.json()["session_id"]
        assert uuid.UUID(session_id)  # a new UUID when the trajectory has none
        [row] = await session_rows(client, base, "exp")
        assert row["session_id"] == session_id
        assert (row["ended_at"], row["latency_ms"], row["input_tokens"], row["cost_usd"]) == (None, None, None, None)
        assert (await get_experiment(client, base, "exp"))["cost_usd"] is None


class TestVerifier:
    async def test_number_reward(self, client, base):
        await create_experiment(client, base, "exp")
        body = trajectory(extra={"verifier_result": 0.75}, experiment_context={"experiment_id": "exp"})
        assert (await client.post(f"{base}/ingest/atif", json=body)).status_code == 201
        rollups = await get_experiment(client, base, "exp")
        assert rollups["evaluator_names"] == ["verifier.reward"]
        assert rollups["aggregate_scores"]["verifier.reward"]["mean"] == 0.75
        [row] = await session_rows(client, base, "exp")
        assert row["evaluator_scores"] == {"verifier.reward": 0.75}

    async def test_named_rewards_and_their_evaluator_results(self, client, base):
        await create_experiment(client, base, "exp")
        body = trajectory(
            extra={"verifier_result": {"reward": 1, "tests_passed": 0.5, "solved": True}},
            evaluation_context={"evaluation_id": "exp", "evaluation_run_id": "old", "metadata": {"x": 1}},
        )
        assert (await client.post(f"{base}/ingest/atif", json=body)).status_code == 201
        rollups = await get_experiment(client, base, "exp")
        assert rollups["evaluator_names"] == ["verifier.reward", "verifier.solved", "verifier.tests_passed"]
        assert rollups["aggregate_scores"]["verifier.solved"]["sum"] == 1.0
        page = (await client.get(f"{base}/evaluator-results", params={"sort": "name"})).json()
        assert [(r["name"], r["data_type"], r["value"]) for r in page["data"]] == [
            ("verifier.reward", "NUMERIC", 1.0),
            ("verifier.solved", "BOOLEAN", 1.0),
            ("verifier.tests_passed", "NUMERIC", 0.5),
        ]
        assert {(r["session_id"], r["span_id"], r["experiment_name"]) for r in page["data"]} == {
            (body["session_id"], "trajectory", "exp")
        }

    async def test_non_numeric_reward_is_422_and_stores_nothing(self, client, base):
        await create_experiment(client, base, "exp")
        body = trajectory(extra={"verifier_result": {"reward": "high"}}, experiment_context={"experiment_id": "exp"})
        response = await client.post(f"{base}/ingest/atif", json=body)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "extra", "verifier_result", "reward"]
        assert (await get_experiment(client, base, "exp"))["run_count"] == 0


class TestResend:
    async def test_resending_replaces_the_session(self, client, base):
        await create_experiment(client, base, "exp")
        first = trajectory(
            session_id="same", extra={"verifier_result": 0.0}, experiment_context={"experiment_id": "exp"}
        )
        assert (await client.post(f"{base}/ingest/atif", json=first)).status_code == 201
        second = trajectory(
            session_id="same", extra={"verifier_result": 1.0}, experiment_context={"experiment_id": "exp"}
        )
        second["steps"] = second["steps"][:3]  # the last agent turn is gone
        assert (await client.post(f"{base}/ingest/atif", json=second)).status_code == 201
        [row] = await session_rows(client, base, "exp")
        assert (row["input_tokens"], row["output_tokens"], row["cost_usd"]) == (100, 20, 0.002)
        assert row["ended_at"] == "2026-03-01T10:00:01.500000Z"
        rollups = await get_experiment(client, base, "exp")
        assert rollups["run_count"] == 1
        assert rollups["aggregate_scores"]["verifier.reward"]["mean"] == 1.0

    async def test_resending_under_another_experiment_moves_it(self, client, base):
        await create_experiment(client, base, "a")
        await create_experiment(client, base, "b")
        body = trajectory(session_id="moving", experiment_context={"experiment_id": "a"})
        assert (await client.post(f"{base}/ingest/atif", json=body)).status_code == 201
        body["experiment_context"] = {"experiment_id": "b"}
        assert (await client.post(f"{base}/ingest/atif", json=body)).status_code == 201
        assert (await get_experiment(client, base, "a"))["run_count"] == 0
        assert await session_rows(client, base, "a") == []
        assert (await get_experiment(client, base, "b"))["run_count"] == 1

    async def test_untagged_is_stored_in_no_experiment_until_tagged(self, client, base):
        await create_experiment(client, base, "exp")
        body = trajectory(session_id="later")
        assert (await client.post(f"{base}/ingest/atif", json=body)).status_code == 201
        assert (await get_experiment(client, base, "exp"))["run_count"] == 0
        body["experiment_context"] = {"experiment_id": "exp"}
        assert (await client.post(f"{base}/ingest/atif", json=body)).status_code == 201
        assert (await get_experiment(client, base, "exp"))["run_count"] == 1


class TestTags:
    async def test_evaluation_context_wins_over_experiment_context(self, client, base):
        await create_experiment(client, base, "a")
        await create_experiment(client, base, "b")
        body = trajectory(
            experiment_context={"experiment_id": "a", "test_case_id": "from-a"},
            evaluation_context={"evaluation_id": "b", "test_case_id": "from-b"},
        )
        assert (await client.post(f"{base}/ingest/atif", json=body)).status_code == 201
        assert (await get_experiment(client, base, "a"))["run_count"] == 0
        assert (await get_experiment(client, base, "b"))["run_count"] == 1
        assert (await session_rows(client, base, "b"))[0]["test_case_id"] == "from-b"

    async def test_evaluation_context_wins_whole_even_without_a_name(self, client, base):
        # NeMo 0.3.0: the evaluation_context replaces the deprecated tag entirely.
        await create_experiment(client, base, "a")
        body = trajectory(experiment_context={"experiment_id": "a"}, evaluation_context={"test_case_id": "tc-only"})
        assert (await client.post(f"{base}/ingest/atif", json=body)).status_code == 201
        assert (await get_experiment(client, base, "a"))["run_count"] == 0

    async def test_the_0_4_spelling_evaluation_name_and_test_case_name(self, client, base):
        await create_experiment(client, base, "exp")
        body = trajectory(evaluation_context={"evaluation_name": "exp", "test_case_name": "tc-new"})
        assert (await client.post(f"{base}/ingest/atif", json=body)).status_code == 201
        [row] = await session_rows(client, base, "exp")
        assert (row["session_id"], row["test_case_id"]) == (body["session_id"], "tc-new")
        # Both spellings at once are fine when they agree.
        both = trajectory(
            evaluation_context={
                "evaluation_name": "exp",
                "evaluation_id": "exp",
                "test_case_name": "t",
                "test_case_id": "t",
            }
        )
        assert (await client.post(f"{base}/ingest/atif", json=both)).status_code == 201
        assert (await get_experiment(client, base, "exp"))["run_count"] == 2

    @pytest.mark.parametrize(
        "tag",
        [{"evaluation_context": {"evaluation_id": "exp", "test_case_id": ""}},
         {"experiment_context": {"experiment_id": "exp", "test_case_id": ""}}],
    )
    async def test_an_empty_test_case_is_none(self, client, base, tag):
        # NeMo reads an empty test case id back as none: the session and its trace have no test case.
        await create_experiment(client, base, "exp")
        body = trajectory(**tag)
        assert (await client.post(f"{base}/ingest/atif", json=body)).status_code == 201
        assert [row["test_case_id"] for row in await session_rows(client, base, "exp")] == [None]
        trace = (await client.get(f"{base}/traces/{body['session_id']}")).json()
        assert trace["evaluation_context"] == {"evaluation_id": "exp", "evaluation_name": "exp"}

    @pytest.mark.parametrize(
        "context",
        [
            {"evaluation_name": "exp", "evaluation_id": "other"},
            {"evaluation_id": "exp", "test_case_name": "a", "test_case_id": "b"},
        ],
    )
    async def test_two_spellings_that_disagree_are_422(self, client, base, context):
        await create_experiment(client, base, "exp")
        response = await client.post(f"{base}/ingest/atif", json=trajectory(evaluation_context=context))
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "evaluation_context"]
        assert (await get_experiment(client, base, "exp"))["run_count"] == 0

    async def test_unknown_experiment_is_400(self, client, base):
        response = await client.post(
            f"{base}/ingest/atif", json=trajectory(experiment_context={"experiment_id": "nope"})
        )
        assert response.status_code == 400
        assert response.json() == {"detail": "Experiment 'nope' must be created before it can be logged."}

    async def test_deleted_experiment_is_400_and_nothing_stored(self, client, base):
        await create_experiment(client, base, "gone")
        assert (await client.delete(f"{base}/experiments/gone")).status_code == 204
        body = trajectory(evaluation_context={"evaluation_id": "gone"}, extra={"verifier_result": 1})
        response = await client.post(f"{base}/ingest/atif", json=body)
        assert response.status_code == 400
        assert response.json() == {"detail": "Experiment 'gone' has been deleted and cannot accept new sessions."}
        assert (await client.get(f"{base}/evaluator-results")).json()["data"] == []

    @pytest.mark.parametrize(
        ("tag", "loc"),
        [
            (
                {"experiment_context": {"experiment_id": "exp", "extra_key": 1}},
                ["body", "experiment_context", "extra_key"],
            ),
            ({"experiment_context": {"test_case_id": "t"}}, ["body", "experiment_context", "experiment_id"]),
            # An unknown key in evaluation_context is ignored (tests/ingest/test_chat.py); a wrong type is not.
            ({"evaluation_context": {"evaluation_name": 7}}, ["body", "evaluation_context", "evaluation_name"]),
        ],
    )
    async def test_malformed_tags_are_422(self, client, base, tag, loc):
        response = await client.post(f"{base}/ingest/atif", json=trajectory(**tag))
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == loc


class TestBadInput:
    async def test_unknown_top_level_key_is_422(self, client, base):
        response = await client.post(f"{base}/ingest/atif", json=trajectory(surprise=True))
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "surprise"]

    async def test_missing_agent_is_422(self, client, base):
        body = trajectory()
        del body["agent"]
        response = await client.post(f"{base}/ingest/atif", json=body)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "agent"]

    async def test_steps_out_of_sequence_are_422(self, client, base):
        body = trajectory()
        body["steps"][1]["step_id"] = 5
        response = await client.post(f"{base}/ingest/atif", json=body)
        assert response.status_code == 422
        assert "step_id" in response.json()["detail"][0]["msg"]

    async def test_negative_tokens_are_422(self, client, base):
        body = trajectory()
        body["steps"][2]["metrics"]["prompt_tokens"] = -1
        response = await client.post(f"{base}/ingest/atif", json=body)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "steps", 2, "metrics", "prompt_tokens"]

    async def test_timestamp_out_of_range_is_422(self, client, base):
        body = trajectory()
        body["steps"][3]["timestamp"] = "2999-01-01T00:00:00Z"
        response = await client.post(f"{base}/ingest/atif", json=body)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "steps", 3, "timestamp"]

    async def test_not_json_is_422_and_wrong_type_is_415(self, client, base):
        response = await client.post(
            f"{base}/ingest/atif", content=b"{nope", headers={"content-type": "application/json"}
        )
        assert response.status_code == 422
        response = await client.post(f"{base}/ingest/atif", content=b"[]", headers={"content-type": "application/json"})
        assert response.status_code == 422
        response = await client.post(
            f"{base}/ingest/atif", content=orjson.dumps(trajectory()), headers={"content-type": "text/plain"}
        )
        assert response.status_code == 415
        assert response.json() == {"detail": "Content-Type 'text/plain' is not supported; send application/json."}

    async def test_gzip_body(self, client, base):
        await create_experiment(client, base, "exp")
        body = gzip.compress(orjson.dumps(trajectory(experiment_context={"experiment_id": "exp"})))
        response = await client.post(
            f"{base}/ingest/atif",
            content=body,
            headers={"content-type": "application/json", "content-encoding": "gzip"},
        )
        assert response.status_code == 201, response.text
        assert (await get_experiment(client, base, "exp"))["run_count"] == 1

    async def test_bad_gzip_and_unknown_encoding(self, client, base):
        headers = {"content-type": "application/json", "content-encoding": "gzip"}
        response = await client.post(f"{base}/ingest/atif", content=b"not gzip", headers=headers)
        assert response.status_code == 400
        response = await client.post(
            f"{base}/ingest/atif", content=b"{}", headers={**headers, "content-encoding": "br"}
        )
        assert response.status_code == 415

    async def test_body_over_the_limit_is_413(self, client, base):
        await create_experiment(client, base, "exp")
        body = trajectory(experiment_context={"experiment_id": "exp"}, notes="x" * (32 * 1024 * 1024))
        response = await client.post(
            f"{base}/ingest/atif", content=orjson.dumps(body), headers={"content-type": "application/json"}
        )
        assert response.status_code == 413
        assert (await get_experiment(client, base, "exp"))["run_count"] == 0

    async def test_gzip_bomb_is_413(self, client, base):
        bomb = gzip.compress(b"{" + b" " * (33 * 1024 * 1024) + b"}")
        response = await client.post(
            f"{base}/ingest/atif",
            content=bomb,
            headers={"content-type": "application/json", "content-encoding": "gzip"},
        )
        assert response.status_code == 413


class TestAtif17:
    """ATIF-v1.7 as SDK 0.3.0 sends it (nemo_platform AtifCreateParams): trajectory_id,
    continued_trajectory_ref, embedded subagent_trajectories, evaluation_context."""

    async def test_trajectory_id_and_continued_trajectory_ref_stay_on_the_root(self, client, base, app, workspace):
        await create_experiment(client, base, "exp")
        body = trajectory(
            "ATIF-v1.7",
            trajectory_id="traj-2",
            continued_trajectory_ref="traj-1",
            evaluation_context={"evaluation_id": "exp", "test_case_id": "tc-1"},
        )
        response = await client.post(f"{base}/ingest/atif", json=body)
        assert response.status_code == 201, response.text
        assert response.json() == {"session_id": body["session_id"]}
        root = (await stored_spans(app, workspace, body["session_id"]))["trajectory"]
        assert (root["attributes"]["trajectory_id"], root["attributes"]["continued_trajectory_ref"]) == (
            "traj-2",
            "traj-1",
        )
        assert (root["experiment_name"], root["test_case_id"]) == ("exp", "tc-1")

    async def test_without_a_session_id_the_session_is_new_not_the_trajectory_id(self, client, base):
        # NeMo 0.3.0 keeps session_id as the trace identity (a new UUID when absent).
        body = trajectory("ATIF-v1.7", trajectory_id="traj-no-session")
        del body["session_id"]
        response = await client.post(f"{base}/ingest/atif", json=body)
        assert response.status_code == 201, response.text
        assert str(uuid.UUID(response.json()["session_id"])) == response.json()["session_id"]

    async def test_subagents_are_spans_of_the_same_session(self, client, base, app, workspace):
        await create_experiment(client, base, "exp")
        summarizer = {
            "schema_version": "ATIF-v1.7",
            "trajectory_id": "summarizer",
            "agent": {"name": "summarizer", "version": "0.1"},
            "steps": [{"step_id": 1, "source": "agent", "message": "short"}],
            "final_metrics": {"total_prompt_tokens": 7, "total_completion_tokens": 1, "total_cost_usd": 0.0007},
        }
        researcher = {
            "trajectory_id": "researcher",
            "session_id": "researcher-own-session",
            "agent": {"name": "researcher", "version": "1.1", "model_name": "gpt-r"},
            "steps": [
                {"step_id": 1, "source": "user", "message": "Find it.", "timestamp": "2026-03-01T10:00:02Z"},
                {
                    "step_id": 2,
                    "source": "agent",
                    "message": "Found.",
                    "timestamp": "2026-03-01T10:00:09Z",
                    "metrics": {"prompt_tokens": 40, "completion_tokens": 4, "cost_usd": 0.004},
                },
            ],
            "extra": {"verifier_result": 0},
            "subagent_trajectories": [summarizer],
        }
        critic = {
            "trajectory_id": "critic",
            "agent": {"name": "critic", "version": "2"},
            "final_metrics": {"total_prompt_tokens": 3, "total_cost_usd": 0.0003},
        }
        body = trajectory(
            "ATIF-v1.7",
            trajectory_id="main",
            evaluation_context={"evaluation_id": "exp", "test_case_id": "tc"},
            extra={"verifier_result": {"reward": 1}},
            subagent_trajectories=[researcher, critic],
        )
        body["steps"][2]["observation"] = {
            "results": [
                {
                    "source_call_id": None,
                    "content": "delegated",
                    "subagent_trajectory_ref": [{"trajectory_id": "researcher", "trajectory_path": "r.json"}],
                },
                {"content": "sent away", "subagent_trajectory_ref": [{"trajectory_path": "elsewhere.json"}]},
            ]
        }
        response = await client.post(f"{base}/ingest/atif", json=body)
        assert response.status_code == 201, response.text

        spans = await stored_spans(app, workspace, body["session_id"])
        parents = {span_id: span["parent_span_id"] for span_id, span in spans.items()}
        assert parents == {
            "trajectory": "",
            "step-1": "trajectory",
            "step-2": "trajectory",
            "step-3": "trajectory",
            "step-4": "trajectory",
            # Delegated by step 3's observation; the critic, referenced by no step, under the root.
            "subagent:researcher": "step-3",
            "subagent:researcher/step-1": "subagent:researcher",
            "subagent:researcher/step-2": "subagent:researcher",
            "subagent:researcher/subagent:summarizer": "subagent:researcher",
            "subagent:researcher/subagent:summarizer/step-1": "subagent:researcher/subagent:summarizer",
            "subagent:critic": "trajectory",
            # A reference to a trajectory not embedded: a delegation span under its step.
            "step-3/subagent-ref-1-0": "step-3",
        }
        delegation = spans["step-3/subagent-ref-1-0"]
        assert (delegation["name"], delegation["kind"]) == ("subagent-elsewhere.json", "agent")
        assert orjson.loads(delegation["input"]) == {"trajectory_path": "elsewhere.json"}
        researcher_root = spans["subagent:researcher"]
        assert (researcher_root["name"], researcher_root["agent_name"], researcher_root["model_name"]) == (
            "researcher",
            "researcher",
            "gpt-r",
        )
        assert researcher_root["attributes"]["trajectory_id"] == "researcher"
        assert researcher_root["attributes"]["session_id"] == "researcher-own-session"
        assert researcher_root["experiment_name"] is None
        # Final totals sit on a subagent's root when none of its steps carries the metric.
        summarizer_root = spans["subagent:researcher/subagent:summarizer"]
        assert (summarizer_root["input_tokens"], summarizer_root["output_tokens"]) == (7, 1)
        assert spans["subagent:critic"]["input_tokens"] == 3
        # Without timestamps a subagent starts with the span it hangs under: the critic with the root,
        # the summarizer with the researcher's root (its first step, 10:00:02).
        assert spans["subagent:critic"]["start_time"] == spans["trajectory"]["start_time"]
        assert str(summarizer_root["start_time"]).startswith("2026-03-01 10:00:02")

        [row] = await session_rows(client, base, "exp")
        # Main steps 100+150 / 20+5 / cost 0.002+0.003; researcher 40 / 4 / 0.004; summarizer 7 / 1 /
        # 0.0007; critic 3 / - / 0.0003.
        assert (row["input_tokens"], row["output_tokens"]) == (250 + 40 + 7 + 3, 25 + 4 + 1)
        assert row["cost_usd"] == pytest.approx(0.005 + 0.004 + 0.0007 + 0.0003)
        # The window takes in the researcher's steps (10:00:09 is the latest timestamp).
        assert (row["started_at"], row["ended_at"], row["latency_ms"]) == (
            "2026-03-01T10:00:00Z",
            "2026-03-01T10:00:09Z",
            9000.0,
        )
        assert (row["agent_name"], row["model_name"], row["test_case_id"]) == ("terminus", "gpt-x", "tc")

        results = (await client.get(f"{base}/evaluator-results")).json()["data"]
        assert sorted((r["span_id"], r["name"], r["value"]) for r in results) == [
            ("subagent:researcher", "verifier.reward", 0.0),
            ("trajectory", "verifier.reward", 1.0),
        ]
        rollups = await get_experiment(client, base, "exp")
        assert rollups["run_count"] == 1
        assert rollups["cost_usd"]["sum"] == pytest.approx(0.01)
        # A session's score for an evaluator is the mean of its results: (1 + 0) / 2.
        assert rollups["aggregate_scores"]["verifier.reward"]["mean"] == 0.5

    async def test_resending_replaces_the_subagents_too(self, client, base, app, workspace):
        sub = {
            "trajectory_id": "s",
            "agent": {"name": "s", "version": "1"},
            "steps": [{"step_id": 1, "source": "agent", "metrics": {"cost_usd": 1.0}}],
        }
        body = trajectory("ATIF-v1.7", session_id="with-sub", subagent_trajectories=[sub])
        assert (await client.post(f"{base}/ingest/atif", json=body)).status_code == 201
        del body["subagent_trajectories"]
        assert (await client.post(f"{base}/ingest/atif", json=body)).status_code == 201
        assert set(await stored_spans(app, workspace, "with-sub")) == {
            "trajectory",
            "step-1",
            "step-2",
            "step-3",
            "step-4",
        }

    @pytest.mark.parametrize(
        ("subagents", "loc"),
        [
            ([{"agent": {"name": "s", "version": "1"}}], ["body", "subagent_trajectories", 0, "trajectory_id"]),
            (
                [{"trajectory_id": "s", "agent": {"name": "s", "version": "1"}, "surprise": 1}],
                ["body", "subagent_trajectories", 0, "surprise"],
            ),
            ([{"trajectory_id": "s", "agent": {"name": "s", "version": "1"}}] * 2, ["body"]),
        ],
    )
    async def test_bad_subagents_are_422(self, client, base, subagents, loc):
        response = await client.post(
            f"{base}/ingest/atif", json=trajectory("ATIF-v1.7", subagent_trajectories=subagents)
        )
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == loc

    async def test_continued_trajectory_ref_is_a_string(self, client, base):
        response = await client.post(
            f"{base}/ingest/atif", json=trajectory("ATIF-v1.7", continued_trajectory_ref={"id": 1})
        )
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "continued_trajectory_ref"]

    @pytest.mark.parametrize(("levels", "status"), [(63, 201), (64, 422)])
    async def test_subagents_nest_at_most_63_levels(self, client, base, levels, status):
        nested: dict = {"trajectory_id": "leaf", "agent": {"name": "s", "version": "1"}}
        for level in range(levels - 1):
            nested = {
                "trajectory_id": f"t{level}",
                "agent": {"name": "s", "version": "1"},
                "subagent_trajectories": [nested],
            }
        response = await client.post(
            f"{base}/ingest/atif", json=trajectory("ATIF-v1.7", subagent_trajectories=[nested])
        )
        assert response.status_code == status, response.text
        if status == 422:
            assert response.json()["detail"][0]["loc"] == ["body", "subagent_trajectories"]

    async def test_the_steps_limit_counts_the_subagents_steps(self, client, base):
        steps = [{"step_id": n, "source": "user", "message": "x"} for n in range(1, 5001)]
        subagents = [{"trajectory_id": name, "agent": {"name": name, "version": "1"}, "steps": steps} for name in "ab"]
        body = trajectory("ATIF-v1.7", subagent_trajectories=subagents)  # 4 + 2 × 5,000 steps
        response = await client.post(f"{base}/ingest/atif", json=body)
        assert response.status_code == 413
        assert response.json() == {"detail": "A trajectory may have at most 10,000 steps."}
