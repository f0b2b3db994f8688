"""/evaluations (SDK 0.3.0): the seeds' run seen the 0.3.0 way, one row for both. Requests are shaped
as the 0.3.0 SDK sends them (only the fields given; lists as filter[...] brackets). Every test works
in its own fresh workspace."""

import uuid
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from support import assert_422, client_for, create_experiment, exp_url, free_port, ingest_ok, ok, problem

pytestmark = pytest.mark.asyncio

# The fields the 0.3.0 SDK's EvaluationResponse requires.
SDK_REQUIRED = {
    "id",
    "dataset_name",
    "experiment_group_id",
    "experiment_ids",
    "name",
    "parent_experiment_id",
    "workspace",
}


GROUP_MAKER = "group-maker-"


def eval_url(base: str, name: str, suffix: str = "") -> str:
    return f"{base}/evaluations/{quote(name, safe='')}{suffix}"


async def make_group(client: httpx.AsyncClient, base: str) -> str:
    """A live experiment group (POST /experiment-groups); evaluations may reference its id."""
    body = {"name": f"grp-{uuid.uuid4().hex[:8]}"}
    return ok(await client.post(f"{base}/experiment-groups", json=body), 201)["id"]


async def create_evaluation(client: httpx.AsyncClient, base: str, **body: Any) -> dict[str, Any]:
    body = {"name": f"ev-{uuid.uuid4().hex[:8]}", "dataset_name": "ds", **body}
    return ok(await client.post(f"{base}/evaluations", json=body), 201)


@pytest.fixture
async def group(client: httpx.AsyncClient, base: str) -> str:
    return await make_group(client, base)


class TestCreate:
    async def test_every_field_round_trips(self, client, base, workspace, group):
        other = await make_group(client, base)
        parent = await create_evaluation(client, base, experiment_ids=[group])
        body = {
            "dataset_name": "support", "name": "run 1", "dataset_version": "v2", "description": "nightly",
            "experiment_ids": [group, other, group], "metadata": {"team": "a"},
            "parent_evaluation_id": parent["id"], "root_cause": "timeouts", "source_link": "https://ci.example/1",
            "status": "killed",
        }  # fmt: skip
        created = ok(await client.post(f"{base}/evaluations", json=body), 201)
        assert SDK_REQUIRED <= set(created)
        assert created["experiment_ids"] == [group, other]  # a set, in order
        assert created["experiment_group_id"] == group
        assert created["parent_evaluation_id"] == created["parent_experiment_id"] == parent["id"]
        assert (created["status"], created["root_cause"], created["metadata"]) == ("killed", "timeouts", {"team": "a"})
        assert (created["dataset_version"], created["source_link"]) == ("v2", "https://ci.example/1")
        assert created["workspace"] == workspace and created["id"].startswith("exp-")
        assert created["run_count"] == 0 and created["pinned_at"] is None
        assert ok(await client.get(eval_url(base, "run 1"))) == created

    async def test_experiment_group_id_is_coalesced(self, client, base, group):
        created = await create_evaluation(client, base, experiment_group_id=group)
        assert created["experiment_ids"] == [group]

    async def test_a_group_is_required(self, client, base):
        # NeMo 0.3.0's request model refuses it: a 422 on the body, for a create as for a PUT.
        response = await client.post(f"{base}/evaluations", json={"name": "x", "dataset_name": "d"})
        [error] = assert_422(response, ("body", "experiment_ids"))
        assert "at least one group" in error["msg"]
        response = await client.post(
            f"{base}/evaluations", json={"name": "x", "dataset_name": "d", "experiment_ids": []}
        )
        assert_422(response, ("body", "experiment_ids"))

    async def test_unknown_group_is_400(self, client, base, group):
        response = await client.post(
            f"{base}/evaluations", json={"name": "x", "dataset_name": "d", "experiment_ids": [group, "grp-nope"]}
        )
        assert (
            problem(response, 400)
            == "Experiment group 'grp-nope' must be created before an evaluation can reference it."
        )
        assert (await client.get(eval_url(base, "x"))).status_code == 404

    async def test_groups_of_another_workspace_are_unknown(self, client, base, group):
        other = f"/apis/intake/v2/workspaces/ws-{uuid.uuid4().hex[:10]}"
        response = await client.post(
            f"{other}/evaluations", json={"name": "x", "dataset_name": "d", "experiment_ids": [group]}
        )
        problem(response, 400)

    async def test_parent_is_validated_and_aliased(self, client, base, group):
        response = await client.post(
            f"{base}/evaluations",
            json={"name": "x", "dataset_name": "d", "experiment_ids": [group], "parent_evaluation_id": "exp-nope"},
        )
        assert problem(response, 400) == "parent_evaluation_id 'exp-nope' does not reference an existing evaluation."
        parent = await create_evaluation(client, base, experiment_ids=[group])
        child = await create_evaluation(client, base, experiment_ids=[group], parent_experiment_id=parent["id"])
        assert child["parent_evaluation_id"] == parent["id"]

    async def test_metadata_is_string_only(self, client, base, group):
        response = await client.post(
            f"{base}/evaluations",
            json={"name": "x", "dataset_name": "d", "experiment_ids": [group], "metadata": {"n": 1}},
        )
        assert response.status_code == 422 and response.json()["detail"][0]["loc"][:3] == ["body", "metadata", "n"]

    async def test_unstorable_text_is_422(self, client, base, group):
        body = {"name": "x", "dataset_name": "d", "experiment_ids": [group], "description": "a\u0000b"}
        response = await client.post(f"{base}/evaluations", json=body)
        assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "description"]
        await create_evaluation(client, base, name="ev", experiment_ids=[group])
        # A lone surrogate, escaped in the JSON text as a client may send it.
        raw = '{"experiment_ids": ["g\\ud800"]}'
        response = await client.patch(eval_url(base, "ev"), content=raw, headers={"content-type": "application/json"})
        assert response.status_code == 422 and response.json()["detail"][0]["loc"][:2] == ["body", "experiment_ids"]

    async def test_unknown_fields_are_422(self, client, base, group):
        response = await client.post(
            f"{base}/evaluations", json={"name": "x", "dataset_name": "d", "experiment_ids": [group], "agent_name": "a"}
        )
        assert response.status_code == 422

    async def test_taken_name_is_409_and_exist_ok_reads_the_existing_one(self, client, base, group):
        first = await create_evaluation(client, base, name="dup", experiment_ids=[group])
        again = await client.post(
            f"{base}/evaluations", json={"name": "dup", "dataset_name": "other", "experiment_ids": [group]}
        )
        assert problem(again, 409).endswith("/dup' already exists.")
        # The SDK's exist_ok=True answers a 409 with retrieve(name): the first evaluation, unchanged.
        assert ok(await client.get(eval_url(base, "dup"))) == first


class TestOneRowForBoth:
    async def test_a_seeds_run_is_an_evaluation(self, client, base, group):
        run = await create_experiment(client, base, "seed run", experiment_group_id=group, metadata={"n": 1, "s": "x"})
        evaluation = ok(await client.get(eval_url(base, "seed run")))
        assert evaluation["id"] == run["id"]
        assert evaluation["experiment_ids"] == [group] and evaluation["experiment_group_id"] == group
        # 0.3.0 metadata is string-valued: other JSON reads as its JSON text.
        assert evaluation["metadata"] == {"n": "1", "s": "x"}
        listed = ok(await client.get(f"{base}/evaluations"))["data"]
        assert run["id"] in {row["id"] for row in listed}

    async def test_an_evaluation_is_a_seeds_run(self, client, base, group):
        other = await make_group(client, base)
        created = await create_evaluation(client, base, name="ev", experiment_ids=[other, group], status="done")
        run = ok(await client.get(exp_url(base, "ev")))
        assert run["id"] == created["id"] and run["experiment_group_id"] == other
        assert "status" not in run and "experiment_ids" not in run  # the seeds' shape is unchanged

    async def test_a_seeds_put_sets_the_whole_membership(self, client, base, group):
        other = await make_group(client, base)
        await create_evaluation(client, base, name="ev", experiment_ids=[group, other])
        ok(
            await client.put(
                exp_url(base, "ev"), json={"name": "ev", "dataset_name": "ds", "experiment_group_id": other}
            )
        )
        assert ok(await client.get(eval_url(base, "ev")))["experiment_ids"] == [other]

    async def test_sessions_of_a_seeds_run_count(self, client, base, group):
        await create_evaluation(client, base, name="ev", experiment_ids=[group])
        await ingest_ok(client, base, "ev", [{"session_id": "s1", "started_at": "2026-01-01T00:00:00Z"}])
        assert ok(await client.get(eval_url(base, "ev")))["run_count"] == 1


class TestReplace:
    async def test_put_replaces_every_field(self, client, base, group):
        other = await make_group(client, base)
        await create_evaluation(
            client, base, name="ev", dataset_version="v1", experiment_ids=[group], status="running",
            root_cause="r", description="d", metadata={"a": "1"}, source_link="https://x.example/",
        )  # fmt: skip
        body = {"name": "ev", "dataset_name": "ds", "dataset_version": "v1", "experiment_ids": [other]}
        replaced = ok(await client.put(eval_url(base, "ev"), json=body))
        assert replaced["experiment_ids"] == [other]
        assert (replaced["status"], replaced["root_cause"], replaced["description"]) == (None, None, None)
        assert (replaced["metadata"], replaced["source_link"]) == ({}, None)
        assert replaced["updated_at"] > replaced["created_at"]

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"name": "other"}, "name"),
            ({"dataset_name": "other"}, "dataset_name"),
            ({"dataset_version": "v9"}, "dataset_version"),
        ],
    )
    async def test_immutable_fields_are_409(self, client, base, group, change, field):
        await create_evaluation(client, base, name="ev", dataset_version="v1", experiment_ids=[group])
        body = {"name": "ev", "dataset_name": "ds", "dataset_version": "v1", "experiment_ids": [group], **change}
        assert problem(await client.put(eval_url(base, "ev"), json=body), 409) == (
            f"Cannot change immutable field(s) ['{field}'] on an existing evaluation; create a new evaluation instead."
        )

    async def test_new_groups_are_validated(self, client, base, group):
        await create_evaluation(client, base, name="ev", experiment_ids=[group])
        body = {"name": "ev", "dataset_name": "ds", "experiment_ids": [group, "grp-nope"]}
        problem(await client.put(eval_url(base, "ev"), json=body), 400)

    async def test_missing_is_404(self, client, base, workspace):
        body = {"name": "nope", "dataset_name": "ds", "experiment_ids": ["g"]}
        assert (
            problem(await client.put(eval_url(base, "nope"), json=body), 404)
            == f"Evaluation '{workspace}/nope' not found."
        )


class TestPatch:
    async def test_only_present_fields_change(self, client, base, group):
        created = await create_evaluation(
            client, base, name="ev", experiment_ids=[group], status="running", description="d", metadata={"a": "1"}
        )
        patched = ok(await client.patch(eval_url(base, "ev"), json={"status": "killed", "root_cause": "oom"}))
        assert (patched["status"], patched["root_cause"]) == ("killed", "oom")
        assert (patched["description"], patched["metadata"], patched["experiment_ids"]) == ("d", {"a": "1"}, [group])
        assert patched["created_at"] == created["created_at"] and patched["updated_at"] > created["updated_at"]

    async def test_experiment_ids_replace_the_membership(self, client, base, group):
        other = await make_group(client, base)
        await create_evaluation(client, base, name="ev", experiment_ids=[group])
        patched = ok(await client.patch(eval_url(base, "ev"), json={"experiment_ids": [other, group, other]}))
        assert patched["experiment_ids"] == [other, group] and patched["experiment_group_id"] == other
        assert ok(await client.get(exp_url(base, "ev")))["experiment_group_id"] == other

    async def test_empty_membership_is_422_and_unknown_400(self, client, base, group):
        await create_evaluation(client, base, name="ev", experiment_ids=[group])
        # The document's minItems: 1 (tests/api/test_openapi_truth.py), refused at the field.
        response = await client.patch(eval_url(base, "ev"), json={"experiment_ids": []})
        assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "experiment_ids"]
        problem(await client.patch(eval_url(base, "ev"), json={"experiment_ids": ["grp-nope"]}), 400)
        assert ok(await client.get(eval_url(base, "ev")))["experiment_ids"] == [group]

    async def test_null_clears(self, client, base, group):
        await create_evaluation(client, base, name="ev", experiment_ids=[group], metadata={"a": "1"}, status="s")
        patched = ok(await client.patch(eval_url(base, "ev"), json={"metadata": None, "status": None}))
        assert (patched["metadata"], patched["status"]) == ({}, None)

    async def test_parent_is_validated(self, client, base, group):
        parent = await create_evaluation(client, base, experiment_ids=[group])
        await create_evaluation(client, base, name="ev", experiment_ids=[group])
        problem(await client.patch(eval_url(base, "ev"), json={"parent_evaluation_id": "exp-nope"}), 400)
        patched = ok(await client.patch(eval_url(base, "ev"), json={"parent_evaluation_id": parent["id"]}))
        assert patched["parent_experiment_id"] == parent["id"]

    async def test_immutable_and_unknown_fields_are_422(self, client, base, group):
        await create_evaluation(client, base, name="ev", experiment_ids=[group])
        assert (await client.patch(eval_url(base, "ev"), json={"dataset_name": "x"})).status_code == 422

    async def test_missing_is_404(self, client, base):
        problem(await client.patch(eval_url(base, "nope"), json={"status": "x"}), 404)


class TestPinAndDelete:
    async def test_pin_and_unpin(self, client, base, group):
        await create_evaluation(client, base, name="ev", experiment_ids=[group])
        pinned = ok(await client.post(eval_url(base, "ev", "/pin")))
        assert pinned["pinned_at"] is not None
        assert ok(await client.get(exp_url(base, "ev")))["pinned_at"] == pinned["pinned_at"]
        assert ok(await client.delete(eval_url(base, "ev", "/pin")))["pinned_at"] is None
        problem(await client.post(eval_url(base, "nope", "/pin")), 404)

    async def test_delete_renames_and_frees_the_name(self, client, base, group):
        first = await create_evaluation(client, base, name="ev", experiment_ids=[group])
        response = await client.delete(eval_url(base, "ev"))
        assert response.status_code == 204 and response.content == b""
        problem(await client.get(eval_url(base, "ev")), 404)
        problem(await client.get(exp_url(base, "ev")), 404)
        problem(await client.delete(eval_url(base, "ev")), 404)
        [deleted] = ok(await client.get(f"{base}/evaluations", params={"filter[is_deleted]": "true"}))["data"]
        assert deleted["id"] == first["id"]
        assert deleted["name"].startswith("ev-deleted-") and deleted["name"].endswith("Z")
        second = await create_evaluation(client, base, name="ev", experiment_ids=[group])
        assert second["id"] != first["id"]

    async def test_a_long_name_keeps_within_the_column(self, client, base, group):
        name = "n" * 255
        await create_evaluation(client, base, name=name, experiment_ids=[group])
        assert (await client.delete(eval_url(base, name))).status_code == 204
        [deleted] = ok(await client.get(f"{base}/evaluations", params={"filter[is_deleted]": "true"}))["data"]
        assert len(deleted["name"]) == 255 and "-deleted-" in deleted["name"]


class TestList:
    async def names(self, client, base, **params) -> list[str]:
        """The names listed, without the runs that made the groups."""
        rows = ok(await client.get(f"{base}/evaluations", params=params))["data"]
        return [row["name"] for row in rows if not row["name"].startswith(GROUP_MAKER)]

    async def test_pinned_first_only_when_sort_is_omitted(self, client, base, group):
        for name in ("a", "b", "c"):
            await create_evaluation(client, base, name=name, experiment_ids=[group])
        ok(await client.post(eval_url(base, "a", "/pin")))
        assert await self.names(client, base) == ["a", "c", "b"]
        assert (await self.names(client, base, sort="-created_at"))[:3] == ["c", "b", "a"]

    async def test_multi_key_sort(self, client, base, group):
        for name in ("b", "a", "d", "c"):
            await create_evaluation(client, base, name=name, experiment_ids=[group])
        ok(await client.post(eval_url(base, "d", "/pin")))
        ok(await client.post(eval_url(base, "b", "/pin")))
        page = ok(await client.get(f"{base}/evaluations", params={"sort": "-pinned_at,name"}))
        # b pinned last (first by -pinned_at), then d; the unpinned have no pinned_at: by name.
        assert [row["name"] for row in page["data"]][:4] == ["b", "d", "a", "c"]
        assert page["sort"] == "-pinned_at,name"

    @pytest.mark.parametrize(
        ("sort", "sentence"),
        [
            (
                "bogus",
                (
                    "Unsupported sort field: 'bogus'; use created_at, updated_at, name, pinned_at, run_count, "
                    "test_case_count, cost_usd.<stat>, latency_ms.<stat>, tokens.<stat>, evaluators.<name>.<stat>."
                ),
            ),
            (",", "The 'sort' parameter must contain at least one field."),
            ("name,-cost_usd.bogus", None),
            ("evaluators.mean", None),
        ],
    )
    async def test_bad_sort_is_400(self, client, base, sort, sentence):
        detail = problem(await client.get(f"{base}/evaluations", params={"sort": sort}), 400)
        assert sentence is None or detail == sentence

    async def test_filters(self, client, base, group):
        other = await make_group(client, base)
        await create_evaluation(client, base, name="one", experiment_ids=[group], metadata={"model": "m1"})
        await create_evaluation(client, base, name="two", experiment_ids=[other, group], metadata={"model": "m2"})
        await create_evaluation(client, base, name="three", experiment_ids=[other])
        by_group = await self.names(client, base, **{"filter[experiment_group_id]": group, "sort": "name"})
        assert by_group == ["one", "two"]  # membership, not only the first group
        # The SDK sends a metadata filter as filter[metadata][key]=value.
        assert await self.names(client, base, **{"filter[metadata][model]": "m2"}) == ["two"]
        assert await self.names(client, base, **{"filter[name]": "three"}) == ["three"]
        ok(await client.post(eval_url(base, "one", "/pin")))
        assert await self.names(client, base, **{"filter[is_pinned]": "true"}) == ["one"]
        json_filter = f'{{"experiment_group_id": {{"$in": ["{other}"]}}}}'
        assert await self.names(client, base, filter=json_filter, sort="-name") == ["two", "three"]

    @pytest.mark.parametrize(
        "params",
        [
            {"filter[bogus]": "x"},
            {"filter[run_count][$gte]": "many"},
            {"filter[cost_usd.bogus][$lte]": "1"},
            {"filter[tokens.mean][$ne]": "1"},
            {"filter[cost_usd][mean][$lte]": "inf"},
            {"filter": '{"$or": [{"run_count": 1}, {"name": "x"}]}'},
            {"filter[experiment_group_id][$like]": "g"},
            {"filter": "{not json"},
        ],
    )
    async def test_bad_filter_is_400(self, client, base, params):
        problem(await client.get(f"{base}/evaluations", params=params), 400)

    async def test_pagination(self, client, base, group):
        for name in ("a", "b", "c"):
            await create_evaluation(client, base, name=name, experiment_ids=[group])
        params = {"sort": "-name", "page": 2, "page_size": 2, "filter[name][$in]": "a,b,c"}
        page = ok(await client.get(f"{base}/evaluations", params=params))
        assert page["pagination"]["total_results"] == 3 and page["pagination"]["total_pages"] == 2
        assert [row["name"] for row in page["data"]] == ["a"]


def otlp_trace(trace_id: str, root: str, child: str, evaluation: str, output: str) -> dict:
    def span(span_id: str, parent: str, attributes: dict[str, str]) -> dict:
        return {
            "traceId": trace_id, "spanId": span_id, "parentSpanId": parent, "name": "agent.run",
            "startTimeUnixNano": "1767225600000000000", "endTimeUnixNano": "1767225601000000000",
            "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in attributes.items()],
        }  # fmt: skip

    root_attributes = {"nemo.experiment.id": evaluation, "nemo.test_case.id": "tc-otlp", "output.value": output}
    return {"resourceSpans": [{"scopeSpans": [{"spans": [span(root, "", root_attributes), span(child, root, {})]}]}]}


class TestSessions:
    @pytest.fixture
    async def evaluation(self, client, base, group) -> str:
        await create_evaluation(client, base, name="ev", experiment_ids=[group])
        sessions = [
            {"session_id": "s1", "test_case_id": "t1", "started_at": "2026-01-01T00:00:01Z", "latency_ms": 30,
             "cost_usd": 0.5, "input_tokens": 10, "output_tokens": 5, "status": "success",
             "input": "i" * 500, "output": "o" * 400},
            {"session_id": "s2", "test_case_id": "t2", "started_at": "2026-01-01T00:00:02Z", "latency_ms": 10,
             "cost_usd": 0.5, "input_tokens": 100, "status": "error", "input": "short", "output": "done"},
            {"session_id": "s3", "test_case_id": "t1", "started_at": "2026-01-01T00:00:00Z", "latency_ms": 20,
             "cost_usd": 0.1, "status": "success"},
        ]  # fmt: skip
        await ingest_ok(client, base, "ev", sessions)
        return "ev"

    async def rows(self, client, base, name, **params) -> list[dict[str, Any]]:
        return ok(await client.get(eval_url(base, name, "/sessions"), params=params))["data"]

    async def test_rows_carry_the_0_3_0_fields(self, client, base, workspace, evaluation):
        [first, *_] = await self.rows(client, base, evaluation)
        assert first["session_id"] == "s3"  # started_at ascending by default
        row = next(r for r in await self.rows(client, base, evaluation) if r["session_id"] == "s2")
        assert row["evaluation_name"] == row["experiment_name"] == "ev" and row["workspace"] == workspace
        assert (row["cost_total_usd"], row["output"], row["input"]) == (0.5, "done", "short")
        # Ingested in bulk, without spans: its own trace and root, as NeMo names every session's both.
        assert (row["trace_id"], row["root_span_id"]) == ("s2", "s2")

    @pytest.mark.parametrize(
        ("mode", "input_length", "output_length"),
        [("summary", None, None), ("preview", 300, 300), ("detailed", 500, 400)],
    )
    async def test_modes(self, client, base, evaluation, mode, input_length, output_length):
        row = next(r for r in await self.rows(client, base, evaluation, mode=mode) if r["session_id"] == "s1")
        lengths = (
            None if row["input"] is None else len(row["input"]),
            None if row["output"] is None else len(row["output"]),
        )
        assert lengths == (input_length, output_length)

    async def test_multi_key_sort(self, client, base, evaluation):
        rows = await self.rows(client, base, evaluation, sort="-cost_total_usd,latency_ms")
        assert [r["session_id"] for r in rows] == ["s2", "s1", "s3"]
        rows = await self.rows(client, base, evaluation, sort="test_case_id,-started_at")
        assert [r["session_id"] for r in rows] == ["s1", "s3", "s2"]
        # tokens = input + output; a session without either sorts last.
        rows = await self.rows(client, base, evaluation, sort="-tokens")
        assert [r["session_id"] for r in rows] == ["s2", "s1", "s3"]

    async def test_filters(self, client, base, evaluation):
        rows = await self.rows(client, base, evaluation, **{"filter[test_case_id]": "t1", "filter[status]": "success"})
        assert sorted(r["session_id"] for r in rows) == ["s1", "s3"]

    @pytest.mark.parametrize("params", [{"sort": "cost_usd.mean"}, {"sort": ""}, {"filter[status]": "done"}])
    async def test_bad_sort_or_status_is_400(self, client, base, evaluation, params):
        problem(await client.get(eval_url(base, evaluation, "/sessions"), params=params), 400)

    async def test_bad_mode_and_missing_evaluation(self, client, base, evaluation):
        assert (await client.get(eval_url(base, evaluation, "/sessions"), params={"mode": "full"})).status_code == 422
        problem(await client.get(eval_url(base, "nope", "/sessions")), 404)

    async def test_a_span_built_session_names_its_trace_and_root(self, client, base, group):
        await create_evaluation(client, base, name="traced", experiment_ids=[group])
        trace_id, root, child = uuid.uuid4().hex, uuid.uuid4().hex[:16], uuid.uuid4().hex[:16]
        response = await client.post(
            f"{base}/ingest/otlp/v1/traces", json=otlp_trace(trace_id, root, child, "traced", "the answer")
        )
        assert response.status_code == 200, response.text
        [row] = await self.rows(client, base, "traced")
        assert (row["trace_id"], row["root_span_id"], row["test_case_id"]) == (trace_id, root, "tc-otlp")


class TestRollups:
    """The 0.3.0 definition, values worked out by hand: sessions without a test case count toward
    run_count only; per test case the mean over its sessions that have a value, then statistics
    across test cases; an evaluator's value of a test case is its sessions' mean scores summed over
    its session count (unscored sessions count 0). Quantiles are exact: an element of the set."""

    async def test_values_are_averaged_per_test_case(self, client, base, group):
        await create_evaluation(client, base, name="ev", experiment_ids=[group])
        t = "2026-01-01T00:00:00Z"
        sessions = [
            {"session_id": "s1", "test_case_id": "A", "started_at": t, "cost_usd": 0.2, "latency_ms": 100,
             "input_tokens": 10, "output_tokens": 5, "scores": {"acc": 1}},
            {"session_id": "s2", "test_case_id": "A", "started_at": t, "cost_usd": 0.4, "latency_ms": 300,
             "input_tokens": 20},
            {"session_id": "s3", "test_case_id": "B", "started_at": t, "cost_usd": 1.0, "latency_ms": 50,
             "input_tokens": 3, "scores": {"acc": 0.5, "f1": 0.8}},
            {"session_id": "s4", "test_case_id": "C", "started_at": t, "cost_usd": 0.5, "latency_ms": 10,
             "output_tokens": 7},
            {"session_id": "s5", "started_at": t, "cost_usd": 100, "latency_ms": 9999, "input_tokens": 1000,
             "scores": {"acc": 0, "other": 1}},
        ]  # fmt: skip
        await ingest_ok(client, base, "ev", sessions)
        for body in (
            {"session_id": "s3", "span_id": "sp1", "name": "acc", "data_type": "NUMERIC", "value": 1.0},
            {"session_id": "s4", "name": "f1", "data_type": "NUMERIC", "value": 0.4},
        ):
            ok(await client.post(f"{base}/evaluator-results", json=body), 201)
        evaluation = ok(await client.get(eval_url(base, "ev")))
        assert (evaluation["run_count"], evaluation["test_case_count"]) == (5, 3)

        def stats(total: float, mean: float, median: float, p90: float) -> dict[str, Any]:
            return {"sum": total, "mean": mean, "median": median, "p90": p90, "p95": p90, "p99": p90, "count": 3}

        # cost: A (0.2 + 0.4) / 2 = 0.3, B 1.0, C 0.5; latency: A 200, B 50, C 10;
        # tokens: A (15 + 20) / 2 = 17.5, B 3, C 7.
        expected = {
            "cost_usd": stats(1.8, 0.6, 0.5, 1.0),
            "latency_ms": stats(260, 260 / 3, 50, 200),
            "tokens": stats(27.5, 27.5 / 3, 7, 17.5),
        }
        for metric, values in expected.items():
            assert evaluation[metric] == pytest.approx(values), metric
        # acc: A (1 + 0) / 2 = 0.5, B (0.5 + 1.0) / 2 = 0.75 (one session, two results), C 0;
        # f1: A 0 / 2 = 0, B 0.8, C 0.4. Session s5 has no test case: its "other" is nowhere.
        assert set(evaluation["aggregate_scores"]) == {"acc", "f1"}
        assert evaluation["aggregate_scores"]["acc"] == pytest.approx(stats(1.25, 1.25 / 3, 0.5, 0.75))
        assert evaluation["aggregate_scores"]["f1"] == pytest.approx(stats(1.2, 0.4, 0.4, 0.8))
        # The seeds' /experiments keeps its per-session rollups over the same sessions.
        run = ok(await client.get(exp_url(base, "ev")))
        assert run["cost_usd"]["sum"] == pytest.approx(102.1) and run["cost_usd"]["count"] == 5

    async def test_without_test_cases_there_are_no_statistics(self, client, base, group):
        await create_evaluation(client, base, name="ev", experiment_ids=[group])
        await ingest_ok(client, base, "ev", [{"session_id": "s", "started_at": "2026-01-01T00:00:00Z", "cost_usd": 1}])
        evaluation = ok(await client.get(eval_url(base, "ev")))
        assert (evaluation["run_count"], evaluation["test_case_count"]) == (1, 0)
        assert (evaluation["cost_usd"], evaluation["latency_ms"], evaluation["tokens"]) == (None, None, None)
        assert evaluation["aggregate_scores"] == {}

    async def test_list_sorts_by_rollups(self, client, base, group):
        t = "2026-01-01T00:00:00Z"
        # cheap: one test case at 1.0; dear: two test cases at 3.0 and 5.0; quiet: no sessions.
        for name, sessions in {
            "cheap": [
                {"session_id": "c1", "test_case_id": "A", "started_at": t, "cost_usd": 1.0, "scores": {"acc.v2": 1}}
            ],
            "dear": [
                {"session_id": "d1", "test_case_id": "A", "started_at": t, "cost_usd": 3.0, "scores": {"acc.v2": 0}},
                {"session_id": "d2", "test_case_id": "B", "started_at": t, "cost_usd": 5.0},
            ],
            "quiet": [],
        }.items():
            await create_evaluation(client, base, name=name, experiment_ids=[group])
            if sessions:
                await ingest_ok(client, base, name, sessions)

        async def names(sort: str, **params: Any) -> list[str]:
            rows = ok(await client.get(f"{base}/evaluations", params={"sort": sort, **params}))["data"]
            return [row["name"] for row in rows if not row["name"].startswith(GROUP_MAKER)]

        assert await names("-cost_usd.mean") == ["dear", "cheap", "quiet"]  # no value: last either way
        assert await names("cost_usd.mean") == ["cheap", "dear", "quiet"]
        assert (await names("-test_case_count,name"))[:3] == ["dear", "cheap", "quiet"]
        # An evaluator name may hold dots; dear's acc.v2 is (0 + 0) / 2 = 0 over its two test cases.
        assert await names("-evaluators.acc.v2.mean") == ["cheap", "dear", "quiet"]
        params = {"sort": "-cost_usd.sum", "page": 2, "page_size": 1, "filter[name][$in]": "cheap,dear,quiet"}
        page = ok(await client.get(f"{base}/evaluations", params=params))
        assert [row["name"] for row in page["data"]] == ["cheap"]
        assert page["pagination"]["total_results"] == 3 and page["sort"] == "-cost_usd.sum"

        async def filtered(**params: Any) -> dict[str, Any]:
            return ok(await client.get(f"{base}/evaluations", params=params))

        # cost_usd.mean: cheap 1.0, dear (3 + 5) / 2 = 4.0, quiet none (matches no rollup filter).
        assert await names("name", **{"filter[cost_usd.mean][$lte]": "2"}) == ["cheap"]
        # As the SDK nests them, and its typed spelling without '$'.
        assert await names("name", **{"filter[cost_usd][mean][gte]": "2"}) == ["dear"]
        assert await names("name", **{"filter[evaluators][acc.v2][mean][$gte]": "0.5"}) == ["cheap"]
        assert await names("name", **{"filter[test_case_count]": "2"}) == ["dear"]
        body = await filtered(filter='{"run_count": {"$gte": 1}, "name": {"$in": ["cheap", "quiet"]}}')
        assert [row["name"] for row in body["data"]] == ["cheap"]
        assert body["filter"] == {"name": {"$in": ["cheap", "quiet"]}, "run_count": {"$gte": 1.0}}
        # Without a sort: -created_at, pinned first.
        ok(await client.post(eval_url(base, "cheap", "/pin")))
        body = await filtered(**{"filter[run_count][$gte]": "1"})
        assert [row["name"] for row in body["data"]] == ["cheap", "dear"]
        assert body["pagination"]["total_results"] == 2


async def test_without_clickhouse_crud_works_and_rollup_reads_are_503(settings, client, base, group):
    """A second app whose ClickHouse URL answers nothing: a real connection failure, not a mock."""
    async with client_for(settings, clickhouse_url=f"http://127.0.0.1:{free_port()}") as degraded:
        response = await degraded.post(
            f"{base}/evaluations", json={"name": "ev", "dataset_name": "d", "experiment_ids": [group]}
        )
        assert response.status_code == 201 and response.headers.get("X-Intake-Rollups") == "unavailable"
        body = ok(await degraded.patch(eval_url(base, "ev"), json={"status": "done"}))
        assert (body["status"], body["test_case_count"], body["cost_usd"], body["aggregate_scores"]) == (
            "done",
            0,
            None,
            {},
        )
        listed = await degraded.get(f"{base}/evaluations", params={"sort": "name"})
        assert listed.status_code == 200 and listed.headers.get("X-Intake-Rollups") == "unavailable"
        for url, params in (
            (f"{base}/evaluations", {"sort": "-cost_usd.mean"}),
            (eval_url(base, "ev", "/sessions"), {}),
        ):
            assert problem(await degraded.get(url, params=params), 503) == "Telemetry store unavailable."
