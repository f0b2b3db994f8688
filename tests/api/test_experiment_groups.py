"""/experiment-groups over HTTP (SDK 0.2.0 and 0.3.0 at the root mount): defaults, the name as
identity, pareto kept by a PUT that omits it, default_sort checked as a sort, the list's sort and
filters, soft delete with a rename, and evaluation_count over the seeds' experiments."""

import json
import re
import uuid
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from support import assert_422, create_experiment, exp_url, ok, problem, ts

DEFAULT_PARETO = {"x_metric": "cost_usd", "y_metric": "latency_ms"}
RESPONSE_FIELDS = {
    "id", "name", "workspace", "description", "insight_id", "summary", "metadata", "default_sort", "pareto",
    "created_at", "updated_at", "evaluation_count", "experiment_count",
    # The same rows are SDK 0.4+ containers (tests/api/test_nemo_04_containers.py); SDKs 0.2/0.3 ignore these.
    "column_layout", "is_favorite", "show_evaluations_over_time", "baseline_evaluation_name",
}  # fmt: skip
FULL_BODY = {
    "description": "Cheaper prompts",
    "insight_id": "ins-7",
    "summary": "Prompt B wins",
    "metadata": {"team": "search", "model": "m-1"},
    "default_sort": "-evaluators.correct.mean,cost_usd.mean",
    "pareto": {"x_metric": "cost_usd", "y_metric": "evaluators.correct"},
}


def group_url(base: str, name: str = "") -> str:
    return f"{base}/experiment-groups" + (f"/{quote(name, safe='')}" if name else "")


async def create_group(client: httpx.AsyncClient, base: str, name: str | None = None, **fields: Any) -> dict[str, Any]:
    body = {"name": name or f"grp-{uuid.uuid4().hex[:8]}", **fields}
    return ok(await client.post(group_url(base), json=body), 201)


async def names(client: httpx.AsyncClient, base: str, **params: Any) -> list[str]:
    return [g["name"] for g in ok(await client.get(group_url(base), params=params))["data"]]


class TestCreate:
    async def test_defaults_of_a_name_only_group(self, client, base, workspace) -> None:
        group = await create_group(client, base, "g1")
        assert set(group) == RESPONSE_FIELDS
        assert group["id"].startswith("grp-") and group["name"] == "g1" and group["workspace"] == workspace
        assert group["description"] is None and group["insight_id"] is None and group["summary"] is None
        assert group["metadata"] is None
        assert group["default_sort"] == "-created_at"
        assert group["pareto"] == DEFAULT_PARETO
        assert group["evaluation_count"] == 0 and group["experiment_count"] == 0
        assert group["created_at"] == group["updated_at"] and group["created_at"].endswith("Z")

    async def test_every_030_field_round_trips(self, client, base) -> None:
        created = await create_group(client, base, "full", **FULL_BODY)
        assert {k: created[k] for k in FULL_BODY} == FULL_BODY
        fetched = ok(await client.get(group_url(base, "full")))
        assert fetched == created

    async def test_020_body_of_name_and_description(self, client, base) -> None:
        group = await create_group(client, base, "old", description="from SDK 0.2.0")
        assert group["description"] == "from SDK 0.2.0" and group["pareto"] == DEFAULT_PARETO

    async def test_pareto_axis_omitted_takes_its_default(self, client, base) -> None:
        group = await create_group(client, base, pareto={"y_metric": "evaluators.helpful"})
        assert group["pareto"] == {"x_metric": "cost_usd", "y_metric": "evaluators.helpful"}

    async def test_duplicate_name_is_409(self, client, base, workspace) -> None:
        await create_group(client, base, "dup")
        detail = problem(await client.post(group_url(base), json={"name": "dup"}), 409)
        assert detail == f"Experiment group '{workspace}/dup' already exists."

    async def test_same_name_in_another_workspace_is_fine(self, client, base) -> None:
        await create_group(client, base, "shared")
        await create_group(client, f"{base}-other", "shared")

    @pytest.mark.parametrize(
        "body, loc",
        [
            ({}, ("body", "name")),
            ({"name": ""}, ("body", "name")),
            ({"name": "a/b"}, ("body", "name")),
            ({"name": "g", "unknown": 1}, ("body", "unknown")),
            ({"name": "g", "metadata": {"k": 1}}, ("body", "metadata")),
            ({"name": "g", "metadata": {"k": "a\u0000b"}}, ("body", "metadata")),
            ({"name": "g", "pareto": {"x_metric": "accuracy"}}, ("body", "pareto")),
            ({"name": "g", "pareto": {"x_metric": "evaluators."}}, ("body", "pareto")),
            ({"name": "g", "pareto": {"x_metric": "cost_usd", "z": 1}}, ("body", "pareto")),
            ({"name": "g", "pareto": {"x_metric": None}}, ("body", "pareto", "x_metric")),
            ({"name": "g", "default_sort": None}, ("body", "default_sort")),
            ({"name": "g", "metadata": {"k": "x" * 70_000}}, ("body", "metadata")),
            ({"name": "g", "insight_id": "i" * 256}, ("body", "insight_id")),
        ],
    )
    async def test_invalid_bodies_are_422(self, client, base, body, loc) -> None:
        assert_422(await client.post(group_url(base), json=body), loc)

    @pytest.mark.parametrize(
        "default_sort",
        ["name", "-updated_at,name", "run_count", "-test_case_count", "tokens.p90", "latency_ms.median",
         "-evaluators.harbor.verifier.mean, cost_usd.mean"],
    )  # fmt: skip
    async def test_default_sort_takes_every_evaluation_sort(self, client, base, default_sort) -> None:
        group = await create_group(client, base, default_sort=default_sort)
        assert group["default_sort"] == default_sort

    @pytest.mark.parametrize(
        "default_sort, expected",
        [
            ("accuracy", "Unsupported sort field in default_sort: 'accuracy'."),
            ("-created_at,cost_usd", "Unsupported sort field in default_sort: 'cost_usd'."),
            ("cost_usd.mode", "Unsupported sort field in default_sort: 'cost_usd.mode'."),
            ("evaluators.mean", "Unsupported sort field in default_sort: 'evaluators.mean'."),
            ("", "The 'default_sort' parameter must contain at least one field."),
            (" , ", "The 'default_sort' parameter must contain at least one field."),
        ],
    )
    async def test_bad_default_sort_is_400(self, client, base, default_sort, expected) -> None:
        response = await client.post(group_url(base), json={"name": "g", "default_sort": default_sort})
        assert problem(response, 400) == expected
        assert problem(await client.get(group_url(base, "g")), 404)  # nothing half-written


class TestGet:
    async def test_unknown_group_is_404(self, client, base, workspace) -> None:
        detail = problem(await client.get(group_url(base, "nope")), 404)
        assert detail == f"Experiment group '{workspace}/nope' not found."

    async def test_name_with_spaces(self, client, base) -> None:
        await create_group(client, base, "my group 1")
        assert ok(await client.get(group_url(base, "my group 1")))["name"] == "my group 1"


class TestUpdate:
    async def test_put_replaces_fields_and_omitted_ones_go_back_to_defaults(self, client, base) -> None:
        created = await create_group(client, base, "g", **FULL_BODY)
        updated = ok(await client.put(group_url(base, "g"), json={"name": "g", "summary": "new"}))
        assert updated["summary"] == "new"
        assert updated["description"] is None and updated["insight_id"] is None and updated["metadata"] is None
        assert updated["default_sort"] == "-created_at"
        assert updated["id"] == created["id"] and updated["created_at"] == created["created_at"]
        assert ts(updated["updated_at"]) > ts(created["updated_at"])
        assert ok(await client.get(group_url(base, "g"))) == updated

    async def test_put_without_pareto_keeps_it(self, client, base) -> None:
        await create_group(client, base, "g", pareto={"x_metric": "latency_ms", "y_metric": "evaluators.ok"})
        updated = ok(await client.put(group_url(base, "g"), json={"name": "g", "description": "d"}))
        assert updated["pareto"] == {"x_metric": "latency_ms", "y_metric": "evaluators.ok"}
        nulled = ok(await client.put(group_url(base, "g"), json={"name": "g", "pareto": None}))
        assert nulled["pareto"] == {"x_metric": "latency_ms", "y_metric": "evaluators.ok"}

    async def test_put_with_pareto_replaces_it(self, client, base) -> None:
        await create_group(client, base, "g", pareto={"x_metric": "latency_ms", "y_metric": "evaluators.ok"})
        updated = ok(await client.put(group_url(base, "g"), json={"name": "g", "pareto": {"y_metric": "cost_usd"}}))
        assert updated["pareto"] == {"x_metric": "cost_usd", "y_metric": "cost_usd"}

    async def test_rename_is_409_and_changes_nothing(self, client, base) -> None:
        created = await create_group(client, base, "g", description="keep")
        detail = problem(await client.put(group_url(base, "g"), json={"name": "h", "description": "x"}), 409)
        assert detail == "Cannot rename an experiment group; the name is its identity."
        assert ok(await client.get(group_url(base, "g"))) == created
        assert problem(await client.get(group_url(base, "h")), 404)

    async def test_put_of_unknown_group_is_404(self, client, base) -> None:
        problem(await client.put(group_url(base, "nope"), json={"name": "nope"}), 404)

    async def test_put_with_bad_default_sort_is_400_and_changes_nothing(self, client, base) -> None:
        created = await create_group(client, base, "g", default_sort="name")
        problem(await client.put(group_url(base, "g"), json={"name": "g", "default_sort": "-nope"}), 400)
        assert ok(await client.get(group_url(base, "g"))) == created


class TestDelete:
    async def test_delete_renames_and_frees_the_name(self, client, base) -> None:
        first = await create_group(client, base, "g", description="first")
        response = await client.delete(group_url(base, "g"))
        assert response.status_code == 204 and response.content == b""
        problem(await client.get(group_url(base, "g")), 404)
        problem(await client.put(group_url(base, "g"), json={"name": "g"}), 404)
        problem(await client.delete(group_url(base, "g")), 404)
        second = await create_group(client, base, "g", description="second")
        assert second["id"] != first["id"]
        deleted = ok(await client.get(group_url(base), params={"filter[is_deleted]": "true"}))["data"]
        assert [g["id"] for g in deleted] == [first["id"]]
        assert re.fullmatch(r"g-deleted-\d{8}T\d{6}\.\d{6}Z", deleted[0]["name"]), deleted[0]["name"]
        assert deleted[0]["description"] == "first"
        assert await names(client, base) == ["g"]

    async def test_a_long_name_is_cut_to_fit(self, client, base) -> None:
        name = "n" * 255
        await create_group(client, base, name)
        assert (await client.delete(group_url(base, name))).status_code == 204
        [deleted] = await names(client, base, **{"filter[is_deleted]": "true"})
        assert len(deleted) == 255 and deleted.startswith("n" * 200) and "-deleted-" in deleted

    async def test_unknown_group_is_404(self, client, base) -> None:
        problem(await client.delete(group_url(base, "nope")), 404)

    async def test_delete_cascades_to_the_evaluations_of_that_group_alone(self, client, base) -> None:
        only = await create_group(client, base, "g")
        other = await create_group(client, base, "h")
        alone = await create_experiment(client, base, experiment_group_id=only["id"])
        evaluation = {"dataset_name": "d", "experiment_ids": [only["id"], other["id"]]}
        shared = ok(await client.post(f"{base}/evaluations", json={"name": "both", **evaluation}), 201)
        elsewhere = await create_experiment(client, base, experiment_group_id=other["id"])
        assert (await client.delete(group_url(base, "g"))).status_code == 204

        # The run that belonged to g alone is gone from both views, under its renamed row.
        assert (await client.get(exp_url(base, alone["name"]))).status_code == 404
        assert (await client.get(f"{base}/evaluations/{alone['name']}")).status_code == 404
        deleted = ok(await client.get(f"{base}/experiments", params={"filter[is_deleted]": "true"}))["data"]
        [row] = deleted
        assert re.fullmatch(re.escape(alone["name"]) + r"-deleted-\d{8}T\d{6}\.\d{6}Z", row["name"]), row["name"]
        # Those in another group too stay, and a new run may take the deleted one's name.
        assert ok(await client.get(f"{base}/evaluations/both"))["id"] == shared["id"]
        assert ok(await client.get(exp_url(base, elsewhere["name"])))["id"] == elsewhere["id"]
        await create_experiment(client, base, alone["name"])


class TestEvaluationCount:
    async def test_counts_live_runs_that_name_the_group(self, client, base) -> None:
        group = await create_group(client, base, "g")
        other = await create_group(client, base, "h")
        runs = [await create_experiment(client, base, experiment_group_id=group["id"]) for _ in range(3)]
        await create_experiment(client, base, experiment_group_id=other["id"])
        await create_experiment(client, base)
        await create_experiment(client, base, experiment_group_id="g")  # a name is not the group's id
        # Another workspace's run with the same id does not count.
        await create_experiment(client, f"{base}-x", experiment_group_id=group["id"])
        assert (await client.delete(exp_url(base, runs[0]["name"]))).status_code == 204

        fetched = ok(await client.get(group_url(base, "g")))
        assert fetched["evaluation_count"] == 2 and fetched["experiment_count"] == 2
        listed = {g["name"]: g["evaluation_count"] for g in ok(await client.get(group_url(base)))["data"]}
        assert listed == {"g": 2, "h": 1}
        put = ok(await client.put(group_url(base, "g"), json={"name": "g"}))
        assert put["evaluation_count"] == 2 and put["experiment_count"] == 2


class TestList:
    async def test_sorts_and_pages(self, client, base) -> None:
        for name in ("b", "c", "a"):
            await create_group(client, base, name)
        assert await names(client, base) == ["a", "c", "b"]  # newest first
        assert await names(client, base, sort="created_at") == ["b", "c", "a"]
        assert await names(client, base, sort="name") == ["a", "b", "c"]
        assert await names(client, base, sort="-name") == ["c", "b", "a"]
        await client.put(group_url(base, "b"), json={"name": "b"})
        assert await names(client, base, sort="-updated_at") == ["b", "a", "c"]
        assert await names(client, base, sort="updated_at") == ["c", "a", "b"]
        page = ok(await client.get(group_url(base), params={"sort": "name", "page": 2, "page_size": 2}))
        assert [g["name"] for g in page["data"]] == ["c"]
        assert page["pagination"] == {
            "page": 2, "page_size": 2, "current_page_size": 1, "total_pages": 2, "total_results": 3,
        }  # fmt: skip
        assert page["sort"] == "name" and page["filter"] == {}

    async def test_empty_workspace(self, client, base) -> None:
        page = ok(await client.get(group_url(base)))
        assert page["data"] == [] and page["pagination"]["total_results"] == 0

    async def test_filters(self, client, base) -> None:
        await create_group(client, base, "a", insight_id="i1", metadata={"team": "x", "model": "m"})
        await create_group(client, base, "b", insight_id="i2", metadata={"team": "x"})
        await create_group(client, base, "c", metadata={"team": "y"})
        assert await names(client, base, **{"filter[name]": "b"}) == ["b"]
        assert await names(client, base, **{"filter[insight_id]": "i1"}) == ["a"]
        assert await names(client, base, **{"filter[metadata.team]": "x", "sort": "name"}) == ["a", "b"]
        assert await names(client, base, **{"filter[metadata][team]": "y"}) == ["c"]  # the SDK's nesting
        both = {"filter[metadata.team]": "x", "filter[metadata.model]": "m"}
        assert await names(client, base, **both) == ["a"]
        assert await names(client, base, **{"filter[insight_id]": "i2", "filter[name]": "a"}) == []
        as_json = json.dumps({"metadata": {"team": "x"}, "insight_id": "i2"})
        page = ok(await client.get(group_url(base), params={"filter": as_json}))
        assert [g["name"] for g in page["data"]] == ["b"]
        assert page["filter"] == {"insight_id": "i2", "metadata.team": "x"}
        assert await names(client, base, filter=json.dumps({"metadata.team": "y"})) == ["c"]

    async def test_is_deleted_filter(self, client, base) -> None:
        await create_group(client, base, "live")
        await create_group(client, base, "gone")
        await client.delete(group_url(base, "gone"))
        assert await names(client, base) == ["live"]
        assert await names(client, base, **{"filter[is_deleted]": "false"}) == ["live"]
        [deleted] = await names(client, base, **{"filter[is_deleted]": "true"})
        assert deleted.startswith("gone-deleted-")
        assert await names(client, base, filter='{"is_deleted": true}') == [deleted]

    @pytest.mark.parametrize(
        "params",
        [
            {"filter[description]": "x"},
            {"filter[is_deleted]": "maybe"},
            {"filter[name][$like]": "x"},
            {"filter[metadata]": "x"},
            {"filter": "{not json"},
            {"filter": "[1]"},
            {"filter": "[" * 20_000},
            {"filter": '{"metadata.team": 1}'},
            {"filter": '{"name": "a"}', "filter[name]": "a"},
            {"unknown": "1"},
        ],
    )
    async def test_bad_filters_are_400(self, client, base, params) -> None:
        problem(await client.get(group_url(base), params=params), 400)

    @pytest.mark.parametrize("params", [{"sort": "cost_usd.mean"}, {"page": 0}, {"page_size": 1001}])
    async def test_bad_sort_or_page_is_422(self, client, base, params) -> None:
        assert_422(await client.get(group_url(base), params=params), ("query",))
