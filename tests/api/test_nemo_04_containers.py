"""/experiments under /nemo-0.4 (SDK 0.4.0 to 0.6.0): the root's experiment groups as containers of
evaluations. CRUD with the 0.4+ fields, a PUT that keeps what it omits (0.6.0), the column layout's
shape, the baseline (a live member; 409 while it is one), the list's filters, and the hidden
/experiment-groups alias."""

import uuid
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from support import assert_422, ok, problem

NEMO_04 = "/nemo-0.4"
LAYOUT = {"order": ["name", "evaluators.accuracy.mean"], "hidden": ["latency_ms.p99"]}


@pytest.fixture
def nemo(base: str) -> str:
    return NEMO_04 + base


def container_url(nemo: str, name: str = "", collection: str = "experiments") -> str:
    return f"{nemo}/{collection}" + (f"/{quote(name, safe='')}" if name else "")


async def create_container(client: httpx.AsyncClient, nemo: str, name: str | None = None, **fields: Any) -> dict:
    body = {"name": name or f"c-{uuid.uuid4().hex[:8]}", **fields}
    return ok(await client.post(container_url(nemo), json=body), 201)


async def create_member(client: httpx.AsyncClient, nemo: str, *container_ids: str) -> str:
    name = f"ev-{uuid.uuid4().hex[:8]}"
    body = {"name": name, "dataset_name": "ds", "experiment_ids": list(container_ids)}
    ok(await client.post(f"{nemo}/evaluations", json=body), 201)
    return name


async def put(client: httpx.AsyncClient, nemo: str, name: str, **fields: Any) -> httpx.Response:
    return await client.put(container_url(nemo, name), json={"name": name, **fields})


class TestCrud:
    async def test_defaults_and_every_field_round_trips(self, client, nemo, workspace) -> None:
        bare = await create_container(client, nemo, "bare")
        assert bare["is_favorite"] is False and bare["show_evaluations_over_time"] is False
        assert bare["baseline_evaluation_name"] is None and bare["column_layout"] is None
        assert bare["workspace"] == workspace and bare["evaluation_count"] == 0
        full = await create_container(
            client, nemo, "full", description="d", insight_id="i", summary="s", metadata={"k": "v"},
            default_sort="-cost_usd.mean", pareto={"x_metric": "cost_usd", "y_metric": "evaluators.acc"},
            column_layout=LAYOUT, is_favorite=True, show_evaluations_over_time=True,
        )  # fmt: skip
        assert full["column_layout"] == LAYOUT and full["is_favorite"] and full["show_evaluations_over_time"]
        assert ok(await client.get(container_url(nemo, "full"))) == full

    async def test_errors_speak_of_an_experiment(self, client, nemo, workspace) -> None:
        await create_container(client, nemo, "c1")
        taken = await client.post(container_url(nemo), json={"name": "c1"})
        assert problem(taken, 409) == f"Experiment '{workspace}/c1' already exists."
        missing = await client.get(container_url(nemo, "nope"))
        assert problem(missing, 404) == f"Experiment '{workspace}/nope' not found."
        renamed = await client.put(container_url(nemo, "c1"), json={"name": "c2"})
        assert problem(renamed, 409) == "Cannot rename an experiment; the name is its identity."
        # The baseline is chosen by a PUT, once the evaluation belongs to the container.
        assert_422(await client.post(container_url(nemo), json={"name": "c3", "baseline_evaluation_name": "e"}))

    async def test_put_keeps_what_it_omits_and_clears_an_explicit_null(self, client, nemo) -> None:
        created = await create_container(
            client, nemo, "keep", description="d", summary="s", metadata={"k": "v"}, default_sort="name",
            pareto={"x_metric": "latency_ms", "y_metric": "cost_usd"}, column_layout=LAYOUT, is_favorite=True,
        )  # fmt: skip
        updated = ok(await put(client, nemo, "keep", show_evaluations_over_time=True, pareto=None, column_layout=None))
        assert updated["show_evaluations_over_time"] is True
        unchanged = ("description", "summary", "metadata", "default_sort", "pareto", "column_layout", "is_favorite")
        assert {k: updated[k] for k in unchanged} == {k: created[k] for k in unchanged}
        cleared = ok(await put(client, nemo, "keep", description=None, metadata=None, is_favorite=False))
        assert cleared["description"] is None and cleared["metadata"] is None and cleared["is_favorite"] is False
        assert cleared["summary"] == "s" and cleared["show_evaluations_over_time"] is True
        relaid = ok(await put(client, nemo, "keep", column_layout={"order": [], "hidden": []}))
        assert relaid["column_layout"] == {"order": [], "hidden": []}  # a saved layout that hides nothing

    @pytest.mark.parametrize(
        ("layout", "loc"),
        [
            ({"order": "name"}, ("body", "column_layout", "order")),
            ({"order": [1]}, ("body", "column_layout", "order", 0)),
            ({"hidden": ["a"], "width": 3}, ("body", "column_layout", "width")),
            ({"hidden": ["a\x00b"]}, ("body", "column_layout", "hidden", 0)),
            ({"order": ["c"] * 1001}, ("body", "column_layout", "order")),
        ],
    )
    async def test_column_layout_is_two_lists_of_column_ids(self, client, nemo, layout, loc) -> None:
        await create_container(client, nemo, "lay")
        assert_422(await put(client, nemo, "lay", column_layout=layout), loc)
        assert_422(await client.post(container_url(nemo), json={"name": "lay2", "column_layout": layout}), loc)

    async def test_delete_frees_the_name_and_takes_its_sole_members(self, client, nemo) -> None:
        container = await create_container(client, nemo, "gone")
        member = await create_member(client, nemo, container["id"])
        assert (await client.delete(container_url(nemo, "gone"))).status_code == 204
        assert (await client.get(f"{nemo}/evaluations/{member}")).status_code == 404
        assert (await create_container(client, nemo, "gone"))["id"] != container["id"]


class TestBaseline:
    async def test_the_baseline_must_be_a_live_member(self, client, nemo) -> None:
        container = await create_container(client, nemo, "b")
        other = await create_container(client, nemo, "other")
        outsider = await create_member(client, nemo, other["id"])
        unknown = await put(client, nemo, "b", baseline_evaluation_name="ghost")
        assert problem(unknown, 400) == "baseline_evaluation_name 'ghost' does not reference an existing Evaluation."
        assert problem(await put(client, nemo, "b", baseline_evaluation_name=outsider), 400) == (
            f"Evaluation '{outsider}' must be a live member of the Experiment before it can be selected as its "
            "baseline."
        )
        member = await create_member(client, nemo, container["id"])
        chosen = ok(await put(client, nemo, "b", baseline_evaluation_name=member, is_favorite=True))
        assert chosen["baseline_evaluation_name"] == member and chosen["evaluation_count"] == 1
        # A later PUT that omits it keeps it; an explicit null clears it.
        assert ok(await put(client, nemo, "b", summary="x"))["baseline_evaluation_name"] == member
        assert ok(await put(client, nemo, "b", baseline_evaluation_name=None))["baseline_evaluation_name"] is None

    async def test_the_baseline_can_neither_leave_nor_be_deleted(self, client, nemo, base) -> None:
        container = await create_container(client, nemo, "held")
        spare = await create_container(client, nemo, "spare")
        member = await create_member(client, nemo, container["id"], spare["id"])
        ok(await put(client, nemo, "held", baseline_evaluation_name=member))
        expected = (
            f"Evaluation '{member}' is the baseline for Experiment 'held'. Clear that Experiment's "
            "baseline_evaluation_name before removing the membership or deleting the Evaluation."
        )
        for prefix in (nemo, base):  # one rule for both mounts: the same evaluations
            url = f"{prefix}/evaluations/{member}"
            assert problem(await client.delete(url), 409) == expected
            assert problem(await client.patch(url, json={"experiment_ids": [spare["id"]]}), 409) == expected
            body = {"name": member, "dataset_name": "ds", "experiment_ids": [spare["id"]]}
            replaced = await client.put(url, json=body)
            assert problem(replaced, 409) == expected
        # Leaving another container is fine; so is everything once the baseline is cleared.
        moved = ok(await client.patch(f"{nemo}/evaluations/{member}", json={"experiment_ids": [container["id"]]}))
        assert moved["experiment_ids"] == [container["id"]]
        ok(await put(client, nemo, "held", baseline_evaluation_name=None))
        assert (await client.delete(f"{nemo}/evaluations/{member}")).status_code == 204


class TestList:
    async def test_filters_on_the_container_fields(self, client, nemo) -> None:
        fav = await create_container(client, nemo, "fav", is_favorite=True)
        await create_container(client, nemo, "timed", show_evaluations_over_time=True)
        await create_container(client, nemo, "plain")
        member = await create_member(client, nemo, fav["id"])
        ok(await put(client, nemo, "fav", baseline_evaluation_name=member))

        async def names(**params: Any) -> list[str]:
            page = ok(await client.get(container_url(nemo), params={"sort": "name", **params}))
            return [c["name"] for c in page["data"]]

        assert await names(**{"filter[is_favorite]": "true"}) == ["fav"]
        assert await names(**{"filter[is_favorite]": "false"}) == ["plain", "timed"]
        assert await names(**{"filter[show_evaluations_over_time]": "true"}) == ["timed"]
        assert await names(filter=f'{{"baseline_evaluation_name": "{member}"}}') == ["fav"]
        listed = ok(await client.get(container_url(nemo), params={"filter[name]": "fav"}))
        assert listed["data"][0]["evaluation_count"] == 1 and listed["filter"] == {"name": "fav"}
        bad = await client.get(container_url(nemo), params={"filter[is_favorite]": "maybe"})
        assert problem(bad, 400) == "The filter on 'is_favorite' takes true or false."

    async def test_the_json_filter_follows_the_groups_rule(self, client, nemo) -> None:
        # One declaration for both lists: an empty filter is refused at the field, and the document
        # states that the JSON filter is an object.
        assert_422(await client.get(container_url(nemo), params={"filter": ""}), ("query", "filter"))
        document = (await client.get(f"{NEMO_04}/openapi.json")).json()
        path = NEMO_04 + "/apis/intake/v2/workspaces/{workspace}/experiments"
        parameters = document["paths"][path]["get"]["parameters"]
        schema = next(p["schema"] for p in parameters if p["name"] == "filter")
        assert schema["minLength"] == 1 and schema["pattern"] == r"^\s*\{"


class TestHiddenAlias:
    async def test_experiment_groups_under_nemo_04_is_the_container(self, client, nemo) -> None:
        created = ok(await client.post(container_url(nemo, collection="experiment-groups"), json={
            "name": "aliased", "is_favorite": True, "column_layout": LAYOUT,
        }), 201)  # fmt: skip
        assert ok(await client.get(container_url(nemo, "aliased"))) == created
        alias = container_url(nemo, "aliased", "experiment-groups")
        updated = ok(await client.put(alias, json={"name": "aliased", "summary": "s"}))
        assert updated["is_favorite"] is True and updated["column_layout"] == LAYOUT  # 0.6.0's PUT
        listed = ok(await client.get(container_url(nemo, collection="experiment-groups")))
        assert [c["name"] for c in listed["data"]] == ["aliased"]
        assert (await client.delete(alias)).status_code == 204
