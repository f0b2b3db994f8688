"""The experiments resource over HTTP (CONTRACT.md sections 1-2): one class per operation, against the
real app and a real PostgreSQL. Every test works in its own fresh workspace."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest

from support import assert_422, create_experiment, exp_url, ts, workspace_base

RESPONSE_FIELDS = {
    "id", "name", "workspace", "experiment_group_id", "agent_name", "agent_version", "dataset_name",
    "dataset_version", "source_link", "metadata", "description", "summary", "created_by", "created_at",
    "updated_at", "pinned_at", "evaluator_names", "model_names", "agent_names", "agent_versions",
    "aggregate_scores", "run_count", "cost_usd", "latency_ms",
}  # fmt: skip

# Seed 001 (the original clients): agent fields, no group.
SEED_001_BODY = {
    "name": "customer-support-v1-run-42",
    "agent_name": "customer-support-agent",
    "agent_version": "1.4.2",
    "dataset_name": "support-tickets",
    "dataset_version": "2026-01",
    "source_link": "https://ci.example.com/runs/42",
    "metadata": {"team": "support", "epochs": 10},
    "description": "Nightly run",
    "summary": "Looks good",
}
# Seed 000 and later (the current clients): a group id, no agent fields, a name with spaces.
CURRENT_BODY = {
    "name": "Baseline GPT run 7",
    "experiment_group_id": "grp-1234",
    "dataset_name": "support-tickets",
    "metadata": {"team": "support"},
    "description": "Current-generation client",
}


def not_found(workspace: str, name: str) -> dict[str, str]:
    return {"detail": f"Experiment '{workspace}/{name}' not found."}


def assert_empty_rollups(body: dict[str, Any]) -> None:
    assert body["evaluator_names"] == []
    assert body["model_names"] == []
    assert body["agent_names"] == []
    assert body["agent_versions"] == []
    assert body["aggregate_scores"] == {}
    assert body["run_count"] == 0
    assert body["cost_usd"] is None
    assert body["latency_ms"] is None


class TestCreate:
    async def test_seed_001_body_with_agent_fields(self, client, base, workspace):
        before = datetime.now(UTC)
        response = await client.post(f"{base}/experiments", json=SEED_001_BODY)
        assert response.status_code == 201, response.text
        body = response.json()
        assert set(body) == RESPONSE_FIELDS
        for key, value in SEED_001_BODY.items():
            assert body[key] == value, key
        assert body["workspace"] == workspace
        assert body["experiment_group_id"] is None
        assert body["created_by"] is None
        assert body["pinned_at"] is None
        assert_empty_rollups(body)
        created_at = ts(body["created_at"])
        assert created_at.tzinfo is not None
        assert before - timedelta(seconds=5) <= created_at <= datetime.now(UTC) + timedelta(seconds=5)
        assert body["updated_at"] == body["created_at"]

    async def test_current_body_with_group_and_no_agent_fields(self, client, base):
        response = await client.post(f"{base}/experiments", json=CURRENT_BODY)
        assert response.status_code == 201, response.text
        body = response.json()
        assert set(body) == RESPONSE_FIELDS
        assert body["experiment_group_id"] == "grp-1234"
        assert body["agent_name"] is None and body["agent_version"] is None
        assert body["name"] == "Baseline GPT run 7"
        got = await client.get(exp_url(base, "Baseline GPT run 7"))
        assert got.status_code == 200
        assert got.json() == body

    async def test_minimal_body_gets_defaults(self, client, base):
        body = await create_experiment(client, base, "minimal")
        assert body["metadata"] == {}
        for field in ("experiment_group_id", "agent_name", "agent_version", "dataset_version",
                      "source_link", "description", "summary", "pinned_at"):  # fmt: skip
            assert body[field] is None, field

    async def test_explicit_nulls_are_defaults(self, client, base):
        body = await create_experiment(client, base, "nulls", metadata=None, description=None, experiment_group_id=None)
        assert body["metadata"] == {}
        assert body["description"] is None

    async def test_id_is_exp_uuid7_and_unique(self, client, base):
        first = await create_experiment(client, base, "a")
        second = await create_experiment(client, base, "b")
        for body in (first, second):
            assert body["id"].startswith("exp-")
            parsed = uuid.UUID(body["id"][len("exp-") :])
            assert parsed.version == 7
        assert first["id"] != second["id"]

    async def test_duplicate_name_is_409(self, client, base, workspace):
        await create_experiment(client, base, "dup")
        response = await client.post(f"{base}/experiments", json={"name": "dup", "dataset_name": "other"})
        assert response.status_code == 409
        assert response.json() == {"detail": f"Experiment '{workspace}/dup' already exists."}

    async def test_same_name_in_two_workspaces(self, client, base):
        other = workspace_base(f"ws-other-{uuid.uuid4().hex[:8]}")
        first = await create_experiment(client, base, "shared")
        second = await create_experiment(client, other, "shared")
        assert first["id"] != second["id"]

    @pytest.mark.parametrize(
        "name",
        ["name with spaces", "ünïcödé ✓ 実験", "a?b#c%d&e=f+g", "dots.and-dashes_", " padded ", "x" * 255, "a\\b"],
    )
    async def test_unusual_names_round_trip(self, client, base, name):
        body = await create_experiment(client, base, name)
        assert body["name"] == name
        got = await client.get(exp_url(base, name))
        assert got.status_code == 200, got.text
        assert got.json()["id"] == body["id"]

    async def test_source_link_round_trips(self, client, base):
        body = await create_experiment(client, base, "linked", source_link="https://github.com/org/repo/actions/runs/1")
        assert body["source_link"] == "https://github.com/org/repo/actions/runs/1"

    async def test_metadata_keeps_json_types(self, client, base):
        metadata = {
            "int": 10, "str": "10", "float": 0.5, "bool": True, "null": None, "list": [1, "a"],
            "nested": {"deep": {"deeper": [{"x": 1}]}}, "big": 123456789012345678901234567890, "ünï": "✓",
        }  # fmt: skip
        body = await create_experiment(client, base, "typed", metadata=metadata)
        assert body["metadata"] == metadata
        got = await client.get(exp_url(base, "typed"))
        assert got.json()["metadata"] == metadata

    async def test_metadata_just_under_64_kib(self, client, base):
        # {"k":"xxx..."} is 8 bytes of JSON around the value.
        body = await create_experiment(client, base, "big-meta", metadata={"k": "x" * (64 * 1024 - 8)})
        assert len(body["metadata"]["k"]) == 64 * 1024 - 8

    async def test_metadata_over_64_kib_is_422(self, client, base):
        response = await client.post(
            f"{base}/experiments",
            json={"name": "huge", "dataset_name": "d", "metadata": {"k": "x" * (64 * 1024)}},
        )
        assert_422(response, ("body", "metadata"))
        assert (await client.get(exp_url(base, "huge"))).status_code == 404

    @pytest.mark.parametrize(
        ("body", "loc"),
        [
            ({"dataset_name": "d"}, ("body", "name")),
            ({"name": "n"}, ("body", "dataset_name")),
            ({"name": "n", "dataset_name": "d", "unknown": 1}, ("body", "unknown")),
            ({"name": "n", "dataset_name": "d", "is_deleted": True}, ("body", "is_deleted")),
            ({"name": "n", "dataset_name": "d", "pinned_at": "2026-01-01T00:00:00Z"}, ("body", "pinned_at")),
            ({"name": 5, "dataset_name": "d"}, ("body", "name")),
            ({"name": "n", "dataset_name": None}, ("body", "dataset_name")),
            ({"name": "n", "dataset_name": ["d"]}, ("body", "dataset_name")),
            ({"name": "n", "dataset_name": "d", "metadata": ["a"]}, ("body", "metadata")),
            ({"name": "n", "dataset_name": "d", "metadata": "text"}, ("body", "metadata")),
            ({"name": "n", "dataset_name": "d", "description": 3}, ("body", "description")),
            ({"name": "n", "dataset_name": "d", "agent_name": {"a": 1}}, ("body", "agent_name")),
            ({"name": "", "dataset_name": "d"}, ("body", "name")),
            ({"name": "x" * 256, "dataset_name": "d"}, ("body", "name")),
            ({"name": "a/b", "dataset_name": "d"}, ("body", "name")),
            ({"name": "/", "dataset_name": "d"}, ("body", "name")),
            ({"name": "line\nbreak", "dataset_name": "d"}, ("body", "name")),
            ({"name": "tab\there", "dataset_name": "d"}, ("body", "name")),
            ({"name": "nul\x00", "dataset_name": "d"}, ("body", "name")),
            ({"name": "del\x7f", "dataset_name": "d"}, ("body", "name")),
            ({"name": "n", "dataset_name": "d", "source_link": "not a url"}, ("body", "source_link")),
            ({"name": "n", "dataset_name": "d", "source_link": "/relative/path"}, ("body", "source_link")),
            ({"name": "n", "dataset_name": "d", "source_link": 42}, ("body", "source_link")),
        ],
    )
    async def test_bad_body_is_422(self, client, base, body, loc):
        response = await client.post(f"{base}/experiments", json=body)
        assert_422(response, loc)

    @pytest.mark.parametrize(
        ("body", "loc"),
        [
            # PostgreSQL text and jsonb cannot hold NUL; these must be refused, not crash the insert.
            ({"name": "n", "dataset_name": "d", "description": "a\x00b"}, ("body", "description")),
            ({"name": "n", "dataset_name": "d\x00"}, ("body", "dataset_name")),
            ({"name": "n", "dataset_name": "d", "agent_name": "\x00"}, ("body", "agent_name")),
            ({"name": "n", "dataset_name": "d", "metadata": {"k": "a\x00"}}, ("body", "metadata")),
            ({"name": "n", "dataset_name": "d", "metadata": {"k\x00": 1}}, ("body", "metadata")),
            ({"name": "n", "dataset_name": "d", "metadata": {"k": [{"x": "\x00"}]}}, ("body", "metadata")),
        ],
    )
    async def test_nul_characters_are_422(self, client, base, body, loc):
        assert_422(await client.post(f"{base}/experiments", json=body), loc)

    @pytest.mark.parametrize(
        ("raw", "loc"),
        [
            # A lone surrogate is valid JSON text but not storable UTF-8.
            (b'{"name": "n", "dataset_name": "d", "description": "\\ud800"}', ("body", "description")),
            (b'{"name": "\\udfff", "dataset_name": "d"}', ("body", "name")),
            (b'{"name": "n", "dataset_name": "d", "metadata": {"k": "\\ud800"}}', ("body", "metadata")),
            # Python's JSON parser takes NaN/Infinity, JSON does not.
            (b'{"name": "n", "dataset_name": "d", "metadata": {"x": NaN}}', ("body", "metadata")),
            (b'{"name": "n", "dataset_name": "d", "metadata": {"x": [Infinity]}}', ("body", "metadata")),
            (b'{"name": "n", "dataset_name": "d", "metadata": {"x": 1e999}}', ("body", "metadata")),
            (b"not json", ("body",)),
            (b"[]", ("body",)),
            (b'"just a string"', ("body",)),
        ],
    )
    async def test_unstorable_json_is_422(self, client, base, raw, loc):
        response = await client.post(f"{base}/experiments", content=raw, headers={"content-type": "application/json"})
        assert_422(response, loc)

    async def test_missing_body_is_422(self, client, base):
        assert_422(await client.post(f"{base}/experiments"), ("body",))

    @pytest.mark.parametrize(("depth", "status"), [(20, 201), (64, 201), (65, 422), (400, 422), (3000, None)])
    async def test_deeply_nested_metadata(self, client, base, depth, status):
        metadata: Any = 1
        for _ in range(depth):
            metadata = {"a": metadata}
        raw = '{"name": "deep", "dataset_name": "d", "metadata": ' + '{"a": ' * depth + "1" + "}" * (depth + 1)
        response = await client.post(
            f"{base}/experiments", content=raw.encode(), headers={"content-type": "application/json"}
        )
        if status is None:
            # Deeper than Python's JSON parser goes: FastAPI answers 400 before any of our code runs.
            assert 400 <= response.status_code < 500, response.text
            return
        assert response.status_code == status, response.text
        if status == 201:
            assert response.json()["metadata"] == metadata
            assert (await client.get(exp_url(base, "deep"))).json()["metadata"] == metadata
        else:
            assert_422(response, ("body", "metadata"))

    @pytest.mark.parametrize(
        "workspace_name", ["Upper", "a" * 64, "-starts-with-dash", "_x", "has space", "ünï", "a/b"]
    )
    async def test_invalid_workspace_is_422(self, client, workspace_name):
        url = f"/apis/intake/v2/workspaces/{quote(workspace_name, safe='')}/experiments"
        response = await client.post(url, json={"name": "n", "dataset_name": "d"})
        if "/" in workspace_name:
            # Starlette decodes %2F before routing: no route matches, and nothing is created.
            assert response.status_code in (404, 422)
        else:
            assert_422(response, ("path", "workspace"))

    @pytest.mark.parametrize("workspace_name", ["a", "a" * 63, "0team", "team.a_b-c"])
    async def test_valid_workspace_names(self, client, workspace_name):
        name = f"n-{uuid.uuid4().hex[:8]}"
        url = f"/apis/intake/v2/workspaces/{workspace_name}/experiments"
        response = await client.post(url, json={"name": name, "dataset_name": "d"})
        assert response.status_code == 201, response.text
        assert response.json()["workspace"] == workspace_name


class TestGet:
    async def test_get_returns_created_body(self, client, base):
        created = await create_experiment(client, base, "e1", **{k: v for k, v in SEED_001_BODY.items() if k != "name"})
        got = await client.get(exp_url(base, "e1"))
        assert got.status_code == 200
        assert got.json() == created

    async def test_unknown_is_404_with_message(self, client, base, workspace):
        response = await client.get(exp_url(base, "missing one"))
        assert response.status_code == 404
        assert response.json() == not_found(workspace, "missing one")

    async def test_other_workspace_is_404(self, client, base):
        await create_experiment(client, base, "mine")
        other = f"ws-{uuid.uuid4().hex[:10]}"
        response = await client.get(f"/apis/intake/v2/workspaces/{other}/experiments/mine")
        assert response.status_code == 404
        assert response.json() == not_found(other, "mine")

    @pytest.mark.parametrize("name", ["bad%0Aname", "bad%00", "x" * 256])
    async def test_invalid_path_name_is_422(self, client, base, name):
        assert_422(await client.get(f"{base}/experiments/{name}"), ("path", "name"))

    async def test_invalid_workspace_is_422(self, client):
        assert_422(await client.get("/apis/intake/v2/workspaces/BAD/experiments/x"), ("path", "workspace"))


class TestReplace:
    async def test_put_replaces_mutable_fields(self, client, base):
        created = await create_experiment(client, base, "r", **{k: v for k, v in SEED_001_BODY.items() if k != "name"})
        body = {
            **SEED_001_BODY,
            "name": "r",
            "experiment_group_id": "grp-9",
            "source_link": "https://ci.example.com/runs/43",
            "metadata": {"team": "vision"},
            "description": "changed",
            "summary": "new summary",
        }
        response = await client.put(exp_url(base, "r"), json=body)
        assert response.status_code == 200, response.text
        updated = response.json()
        assert set(updated) == RESPONSE_FIELDS
        for key in ("experiment_group_id", "source_link", "metadata", "description", "summary"):
            assert updated[key] == body[key], key
        for key in ("id", "name", "workspace", "dataset_name", "dataset_version", "agent_name",
                    "agent_version", "created_at", "created_by", "pinned_at"):  # fmt: skip
            assert updated[key] == created[key], key
        assert ts(updated["updated_at"]) > ts(created["updated_at"])
        assert_empty_rollups(updated)
        assert (await client.get(exp_url(base, "r"))).json() == updated

    async def test_omitted_optional_fields_reset_to_defaults(self, client, base):
        await create_experiment(
            client, base, "reset", experiment_group_id="g", source_link="https://x.example.com/a",
            metadata={"a": 1}, description="d", summary="s",
        )  # fmt: skip
        response = await client.put(exp_url(base, "reset"), json={"name": "reset", "dataset_name": "ds"})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["metadata"] == {}
        for key in ("experiment_group_id", "source_link", "description", "summary"):
            assert body[key] is None, key
        assert (await client.get(exp_url(base, "reset"))).json() == body

    async def test_current_client_put_keeps_agent_fields(self, client, base):
        created = await create_experiment(client, base, "agent", agent_name="bot", agent_version="1")
        response = await client.put(
            exp_url(base, "agent"), json={"name": "agent", "dataset_name": "ds", "description": "x"}
        )
        assert response.status_code == 200, response.text
        assert response.json()["agent_name"] == created["agent_name"] == "bot"
        assert response.json()["agent_version"] == "1"

    async def test_same_immutable_values_are_accepted(self, client, base):
        await create_experiment(client, base, "same", **{k: v for k, v in SEED_001_BODY.items() if k != "name"})
        response = await client.put(exp_url(base, "same"), json={**SEED_001_BODY, "name": "same"})
        assert response.status_code == 200, response.text

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"name": "renamed"}, "name"),
            ({"dataset_name": "other"}, "dataset_name"),
            ({"dataset_version": "2027-01"}, "dataset_version"),
            ({"dataset_version": None}, "dataset_version"),
            ({"agent_name": "other-agent"}, "agent_name"),
            ({"agent_version": "9.9"}, "agent_version"),
        ],
    )
    async def test_immutable_field_change_is_409(self, client, base, change, field):
        original = {k: v for k, v in SEED_001_BODY.items() if k != "name"}
        created = await create_experiment(client, base, "imm", **original)
        response = await client.put(exp_url(base, "imm"), json={**original, "name": "imm", **change})
        assert response.status_code == 409
        assert response.json() == {
            "detail": f"Cannot change immutable field(s) ['{field}'] on an existing experiment; "
            "create a new experiment instead."
        }
        # Nothing changed, and the rename did not create anything.
        assert (await client.get(exp_url(base, "imm"))).json() == created
        if field == "name":
            assert (await client.get(exp_url(base, "renamed"))).status_code == 404

    async def test_several_immutable_fields_are_named(self, client, base):
        await create_experiment(client, base, "multi", dataset_version="v1")
        response = await client.put(
            exp_url(base, "multi"), json={"name": "multi", "dataset_name": "x", "dataset_version": "v2"}
        )
        assert response.status_code == 409
        assert "'dataset_name'" in response.json()["detail"] and "'dataset_version'" in response.json()["detail"]

    async def test_agent_field_added_to_current_experiment_is_409(self, client, base):
        await create_experiment(client, base, "cur", experiment_group_id="g")
        response = await client.put(
            exp_url(base, "cur"), json={"name": "cur", "dataset_name": "ds", "agent_name": "bot"}
        )
        assert response.status_code == 409
        assert "'agent_name'" in response.json()["detail"]

    async def test_put_keeps_pinned_at(self, client, base):
        await create_experiment(client, base, "pinned")
        pinned = (await client.post(exp_url(base, "pinned", "/pin"))).json()
        response = await client.put(exp_url(base, "pinned"), json={"name": "pinned", "dataset_name": "ds"})
        assert response.json()["pinned_at"] == pinned["pinned_at"] is not None

    async def test_unknown_is_404(self, client, base, workspace):
        response = await client.put(exp_url(base, "ghost"), json={"name": "ghost", "dataset_name": "ds"})
        assert response.status_code == 404
        assert response.json() == not_found(workspace, "ghost")

    @pytest.mark.parametrize(
        ("body", "loc"),
        [
            ({"name": "v", "dataset_name": "ds", "extra": True}, ("body", "extra")),
            ({"name": "v"}, ("body", "dataset_name")),
            ({"name": "v", "dataset_name": "ds", "metadata": [1]}, ("body", "metadata")),
            ({"name": "v", "dataset_name": "ds", "source_link": "nope"}, ("body", "source_link")),
            ({"name": "v", "dataset_name": "ds", "metadata": {"k": "x" * 70000}}, ("body", "metadata")),
            ({"name": "v", "dataset_name": "ds", "summary": "\x00"}, ("body", "summary")),
        ],
    )
    async def test_bad_body_is_422_and_changes_nothing(self, client, base, body, loc):
        created = await create_experiment(client, base, "v", description="kept")
        assert_422(await client.put(exp_url(base, "v"), json=body), loc)
        assert (await client.get(exp_url(base, "v"))).json() == created


class TestDelete:
    async def test_delete_is_204_with_empty_body(self, client, base):
        await create_experiment(client, base, "gone")
        response = await client.delete(exp_url(base, "gone"))
        assert response.status_code == 204
        assert response.content == b""

    async def test_old_name_is_404_everywhere(self, client, base, workspace):
        await create_experiment(client, base, "gone")
        assert (await client.delete(exp_url(base, "gone"))).status_code == 204
        expected = not_found(workspace, "gone")
        calls = [
            client.get(exp_url(base, "gone")),
            client.put(exp_url(base, "gone"), json={"name": "gone", "dataset_name": "ds"}),
            client.post(exp_url(base, "gone", "/pin")),
            client.delete(exp_url(base, "gone", "/pin")),
            client.delete(exp_url(base, "gone")),
        ]
        for call in calls:
            response = await call
            assert response.status_code == 404
            assert response.json() == expected

    async def test_unknown_is_404(self, client, base, workspace):
        response = await client.delete(exp_url(base, "never"))
        assert response.status_code == 404
        assert response.json() == not_found(workspace, "never")

    async def test_name_is_free_at_once(self, client, base):
        old = await create_experiment(client, base, "reused", description="old")
        assert (await client.delete(exp_url(base, "reused"))).status_code == 204
        new = await create_experiment(client, base, "reused", description="new", dataset_name="other-ds")
        assert new["id"] != old["id"]
        assert new["pinned_at"] is None
        got = await client.get(exp_url(base, "reused"))
        assert got.json() == new

    async def test_deleted_rows_leave_the_list_and_show_with_is_deleted(self, client, base):
        first = await create_experiment(client, base, "reused")
        await create_experiment(client, base, "kept")
        assert (await client.delete(exp_url(base, "reused"))).status_code == 204
        second = await create_experiment(client, base, "reused")
        assert (await client.delete(exp_url(base, "reused"))).status_code == 204

        live = (await client.get(f"{base}/experiments")).json()
        assert [row["name"] for row in live["data"]] == ["kept"]
        assert live["pagination"]["total_results"] == 1

        deleted = await client.get(f"{base}/experiments", params={"filter[is_deleted]": "true"})
        assert deleted.status_code == 200
        assert {row["id"] for row in deleted.json()["data"]} == {first["id"], second["id"]}
        assert {row["name"] for row in deleted.json()["data"]} == {"reused"}

    async def test_delete_of_pinned_experiment(self, client, base):
        await create_experiment(client, base, "pinned-gone")
        await client.post(exp_url(base, "pinned-gone", "/pin"))
        assert (await client.delete(exp_url(base, "pinned-gone"))).status_code == 204
        listed = (await client.get(f"{base}/experiments", params={"filter[is_pinned]": "true"})).json()
        assert listed["data"] == []


class TestPin:
    async def test_pin_sets_pinned_at_now(self, client, base):
        created = await create_experiment(client, base, "p")
        before = datetime.now(UTC)
        response = await client.post(exp_url(base, "p", "/pin"))
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == RESPONSE_FIELDS
        pinned_at = ts(body["pinned_at"])
        assert before - timedelta(seconds=5) <= pinned_at <= datetime.now(UTC) + timedelta(seconds=5)
        assert ts(body["updated_at"]) > ts(created["updated_at"])
        assert {k: v for k, v in body.items() if k not in ("pinned_at", "updated_at")} == {
            k: v for k, v in created.items() if k not in ("pinned_at", "updated_at")
        }
        assert (await client.get(exp_url(base, "p"))).json() == body

    async def test_pin_again_refreshes(self, client, base):
        await create_experiment(client, base, "p")
        first = (await client.post(exp_url(base, "p", "/pin"))).json()
        await asyncio.sleep(0.002)
        second = (await client.post(exp_url(base, "p", "/pin"))).json()
        assert ts(second["pinned_at"]) > ts(first["pinned_at"])
        assert ts(second["updated_at"]) > ts(first["updated_at"])

    async def test_pin_takes_no_body_fields(self, client, base):
        await create_experiment(client, base, "p")
        response = await client.post(exp_url(base, "p", "/pin"), json={"ignored": True})
        assert response.status_code == 200

    async def test_unknown_is_404(self, client, base, workspace):
        response = await client.post(exp_url(base, "nope", "/pin"))
        assert response.status_code == 404
        assert response.json() == not_found(workspace, "nope")


class TestUnpin:
    async def test_unpin_clears_pinned_at(self, client, base):
        await create_experiment(client, base, "u")
        pinned = (await client.post(exp_url(base, "u", "/pin"))).json()
        response = await client.delete(exp_url(base, "u", "/pin"))
        assert response.status_code == 200
        body = response.json()
        assert set(body) == RESPONSE_FIELDS
        assert body["pinned_at"] is None
        assert ts(body["updated_at"]) > ts(pinned["updated_at"])
        assert (await client.get(exp_url(base, "u"))).json() == body

    async def test_unpin_is_idempotent(self, client, base):
        created = await create_experiment(client, base, "u")
        first = await client.delete(exp_url(base, "u", "/pin"))
        second = await client.delete(exp_url(base, "u", "/pin"))
        for response in (first, second):
            assert response.status_code == 200
            assert response.json()["pinned_at"] is None
            assert response.json()["id"] == created["id"]
        # A successful unpin moves updated_at, even when it was already unpinned.
        assert ts(second.json()["updated_at"]) > ts(first.json()["updated_at"]) > ts(created["updated_at"])

    async def test_unknown_is_404(self, client, base, workspace):
        response = await client.delete(exp_url(base, "nope", "/pin"))
        assert response.status_code == 404
        assert response.json() == not_found(workspace, "nope")


class TestConcurrency:
    async def test_simultaneous_creates_of_one_name(self, client, base, workspace):
        bodies = [{"name": "race", "dataset_name": f"ds-{i}"} for i in range(20)]
        responses = await asyncio.gather(*(client.post(f"{base}/experiments", json=b) for b in bodies))
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [201] + [409] * 19, statuses
        for response in responses:
            if response.status_code == 409:
                assert response.json() == {"detail": f"Experiment '{workspace}/race' already exists."}
        winner = next(r.json() for r in responses if r.status_code == 201)
        assert (await client.get(exp_url(base, "race"))).json() == winner
        listed = (await client.get(f"{base}/experiments")).json()
        assert listed["pagination"]["total_results"] == 1

    async def test_simultaneous_create_after_delete(self, client, base):
        await create_experiment(client, base, "again")
        await client.delete(exp_url(base, "again"))
        responses = await asyncio.gather(
            *(client.post(f"{base}/experiments", json={"name": "again", "dataset_name": "d"}) for _ in range(10))
        )
        assert sorted(r.status_code for r in responses) == [201] + [409] * 9

    async def test_racing_puts_and_pin_lose_nothing(self, client, base):
        await create_experiment(client, base, "busy")
        puts = [
            client.put(
                exp_url(base, "busy"),
                json={"name": "busy", "dataset_name": "ds", "description": f"d{i}", "metadata": {"i": i}},
            )
            for i in range(8)
        ]
        responses = await asyncio.gather(*puts[:4], client.post(exp_url(base, "busy", "/pin")), *puts[4:])
        assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
        final = (await client.get(exp_url(base, "busy"))).json()
        assert final["pinned_at"] is not None
        assert final["description"] in {f"d{i}" for i in range(8)}
        # One PUT's fields, not a mix of two.
        assert final["metadata"] == {"i": int(final["description"][1:])}
        # updated_at is the time of the last change: never older than any answer given.
        assert ts(final["updated_at"]) == max(ts(r.json()["updated_at"]) for r in responses)

    async def test_racing_unpin_and_puts_lose_nothing(self, client, base):
        await create_experiment(client, base, "busy")
        await client.post(exp_url(base, "busy", "/pin"))
        puts = [
            client.put(exp_url(base, "busy"), json={"name": "busy", "dataset_name": "ds", "summary": f"s{i}"})
            for i in range(6)
        ]
        responses = await asyncio.gather(*puts[:3], client.delete(exp_url(base, "busy", "/pin")), *puts[3:])
        assert all(r.status_code == 200 for r in responses)
        final = (await client.get(exp_url(base, "busy"))).json()
        assert final["pinned_at"] is None
        assert final["summary"] in {f"s{i}" for i in range(6)}
        assert ts(final["updated_at"]) == max(ts(r.json()["updated_at"]) for r in responses)

    async def test_racing_pins_and_puts_across_experiments(self, client, base):
        names = [f"e{i}" for i in range(5)]
        for name in names:
            await create_experiment(client, base, name)
        calls = []
        for name in names:
            calls.append(client.post(exp_url(base, name, "/pin")))
            calls.append(
                client.put(exp_url(base, name), json={"name": name, "dataset_name": "ds", "description": name})
            )
        responses = await asyncio.gather(*calls)
        assert all(r.status_code == 200 for r in responses)
        listed = (await client.get(f"{base}/experiments", params={"sort": "name", "pinned_first": "false"})).json()
        assert [(r["name"], r["description"], r["pinned_at"] is not None) for r in listed["data"]] == [
            (name, name, True) for name in names
        ]

    async def test_racing_delete_and_put(self, client, base):
        await create_experiment(client, base, "doomed")
        put, delete = await asyncio.gather(
            client.put(exp_url(base, "doomed"), json={"name": "doomed", "dataset_name": "ds", "description": "x"}),
            client.delete(exp_url(base, "doomed")),
        )
        assert delete.status_code == 204
        assert put.status_code in (200, 404)
        assert (await client.get(exp_url(base, "doomed"))).status_code == 404
