"""GET /experiments (CONTRACT.md section 3): the page envelope, bounds, sorts, pinned-first order and
every filter field and operator in both forms, against the real app and a real PostgreSQL."""

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest

from support import assert_422, create_experiment, exp_url, ts, workspace_base

SEED: list[dict[str, Any]] = [
    {
        "name": "alpha", "dataset_name": "qa", "agent_name": "bot", "agent_version": "1",
        "dataset_version": "v1", "metadata": {"epochs": 10, "team": "vision", "flag": True, "lr": 0.1},
    },
    {
        "name": "Beta", "dataset_name": "qa", "experiment_group_id": "g1",
        "metadata": {"epochs": "10", "team": "Vision-Core", "flag": "true"},
    },
    {
        "name": "gamma", "dataset_name": "summ", "experiment_group_id": "g2", "dataset_version": "v2",
        "metadata": {"epochs": 3, "nested": {"a": 1}, "tags": ["x"]},
    },
    {
        "name": "delta", "dataset_name": "summ", "experiment_group_id": "g1", "agent_name": "Bot-2",
        "agent_version": "2", "metadata": {"epochs": 20.5, "flag": False, "team": None},
    },
    {"name": "epsilon 5", "dataset_name": "code_100%"},
]  # fmt: skip
ALL = {"alpha", "Beta", "gamma", "delta", "epsilon 5"}
CREATION_ORDER = ["alpha", "Beta", "gamma", "delta", "epsilon 5"]


async def seed(client, base: str) -> dict[str, dict[str, Any]]:
    """The SEED rows, created one after the other (so created_at follows CREATION_ORDER)."""
    rows = {}
    for body in SEED:
        response = await client.post(f"{base}/experiments", json=body)
        assert response.status_code == 201, response.text
        rows[body["name"]] = response.json()
    return rows


async def listing(client, base: str, params: Any = None) -> dict[str, Any]:
    response = await client.get(f"{base}/experiments", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def names(client, base: str, params: Any = None) -> list[str]:
    return [row["name"] for row in (await listing(client, base, params))["data"]]


async def name_set(client, base: str, params: Any = None) -> set[str]:
    page = await listing(client, base, params)
    assert page["pagination"]["total_results"] == len(page["data"])
    return {row["name"] for row in page["data"]}


def jf(obj: Any) -> dict[str, str]:
    return {"filter": json.dumps(obj)}


class TestPageEnvelope:
    async def test_empty_workspace(self, client, base):
        page = await listing(client, base)
        assert page == {
            "data": [],
            "pagination": {"page": 1, "page_size": 100, "current_page_size": 0, "total_pages": 0, "total_results": 0},
            "sort": "-created_at",
            "filter": {},
        }

    async def test_filter_that_matches_nothing_has_zero_pages(self, client, base):
        await seed(client, base)
        page = await listing(client, base, {"filter[name]": "nobody", "page": 3})
        assert page["data"] == []
        assert page["pagination"] == {
            "page": 3, "page_size": 100, "current_page_size": 0, "total_pages": 0, "total_results": 0
        }  # fmt: skip

    async def test_pages_split_and_cover_everything(self, client, base):
        rows = await seed(client, base)
        seen = []
        for number, size in ((1, 2), (2, 2), (3, 1)):
            page = await listing(client, base, {"page": number, "page_size": 2})
            assert page["pagination"] == {
                "page": number, "page_size": 2, "current_page_size": size, "total_pages": 3, "total_results": 5
            }  # fmt: skip
            seen += [row["name"] for row in page["data"]]
        assert seen == list(reversed(CREATION_ORDER))
        full = await listing(client, base)
        assert [row["name"] for row in full["data"]] == seen
        # Every row carries the full ExperimentResponse, the same one GET returns.
        assert {row["name"]: row for row in full["data"]} == rows

    async def test_page_past_the_end_is_empty_with_right_totals(self, client, base):
        await seed(client, base)
        for page_number in (4, 1000, 10**12, 10**30):
            page = await listing(client, base, {"page": page_number, "page_size": 2})
            assert page["data"] == []
            assert page["pagination"] == {
                "page": page_number, "page_size": 2, "current_page_size": 0, "total_pages": 3, "total_results": 5
            }  # fmt: skip

    async def test_page_size_1000_is_allowed(self, client, base):
        await seed(client, base)
        page = await listing(client, base, {"page_size": 1000})
        assert page["pagination"]["page_size"] == 1000
        assert page["pagination"]["total_pages"] == 1

    async def test_workspace_never_written_lists_nothing(self, client):
        page = await listing(client, workspace_base("never-written-anywhere"))
        assert page["data"] == [] and page["pagination"]["total_results"] == 0

    async def test_workspaces_are_isolated(self, client, base, workspace):
        await seed(client, base)
        other = workspace_base(f"{workspace}-b")
        await create_experiment(client, other, "alpha")
        assert await name_set(client, other) == {"alpha"}
        assert await name_set(client, base) == ALL


class TestQueryParameters:
    @pytest.mark.parametrize(
        ("params", "loc"),
        [
            ({"page": 0}, ("query", "page")),
            ({"page": -1}, ("query", "page")),
            ({"page": "one"}, ("query", "page")),
            ({"page_size": 0}, ("query", "page_size")),
            ({"page_size": 1001}, ("query", "page_size")),
            ({"page_size": "ten"}, ("query", "page_size")),
            ({"pinned_first": "maybe"}, ("query", "pinned_first")),
            ({"bogus": "1"}, ("query", "bogus")),
            ({"limit": "10"}, ("query", "limit")),
            ({"sort_by": "name"}, ("query", "sort_by")),
            ({"Filter[name]": "x"}, ("query",)),
            ({"filter[name": "x"}, ("query",)),
            ({"filter[name][$eq][x]": "x"}, ("query",)),
        ],
    )
    async def test_bad_parameters_are_422(self, client, base, params, loc):
        assert_422(await client.get(f"{base}/experiments", params=params), loc)

    @pytest.mark.parametrize("workspace_name", ["UPPER", "a" * 64, ".dot-first"])
    async def test_bad_workspace_is_422(self, client, workspace_name):
        response = await client.get(f"/apis/intake/v2/workspaces/{workspace_name}/experiments")
        assert_422(response, ("path", "workspace"))


class TestSort:
    async def test_default_is_newest_first(self, client, base):
        await seed(client, base)
        page = await listing(client, base)
        assert page["sort"] == "-created_at"
        assert [row["name"] for row in page["data"]] == list(reversed(CREATION_ORDER))

    async def test_created_at_both_directions(self, client, base):
        await seed(client, base)
        assert await names(client, base, {"sort": "created_at"}) == CREATION_ORDER
        assert await names(client, base, {"sort": "-created_at"}) == list(reversed(CREATION_ORDER))

    async def test_updated_at_both_directions(self, client, base):
        await seed(client, base)
        for name in ("gamma", "alpha"):
            response = await client.put(
                exp_url(base, name), json={**next(b for b in SEED if b["name"] == name), "description": "touched"}
            )
            assert response.status_code == 200, response.text
        expected = ["Beta", "delta", "epsilon 5", "gamma", "alpha"]
        assert await names(client, base, {"sort": "updated_at"}) == expected
        assert await names(client, base, {"sort": "-updated_at"}) == list(reversed(expected))

    async def test_name_both_directions_by_code_point(self, client, base):
        await seed(client, base)
        expected = sorted(ALL)  # "Beta" < "alpha": upper case first, as PostgreSQL's "C" collation
        assert await names(client, base, {"sort": "name"}) == expected
        assert await names(client, base, {"sort": "-name"}) == list(reversed(expected))

    async def test_pinned_at_both_directions_nulls_last(self, client, base):
        await seed(client, base)
        for name in ("delta", "alpha", "gamma"):
            assert (await client.post(exp_url(base, name, "/pin"))).status_code == 200
        unpinned = ["Beta", "epsilon 5"]  # no value: last in both directions, ties by name
        ascending = await names(client, base, {"sort": "pinned_at", "pinned_first": "false"})
        assert ascending == ["delta", "alpha", "gamma", *unpinned]
        descending = await names(client, base, {"sort": "-pinned_at", "pinned_first": "false"})
        assert descending == ["gamma", "alpha", "delta", *unpinned]

    async def test_ties_break_by_name_then_id(self, client, base):
        # Rows without pinned_at tie on the sort key: name decides.
        await seed(client, base)
        for direction in ("pinned_at", "-pinned_at"):
            assert await names(client, base, {"sort": direction}) == sorted(ALL)
        # Deleted rows may share a name: id decides.
        ids = []
        for _ in range(3):
            ids.append((await create_experiment(client, base, "twin"))["id"])
            assert (await client.delete(exp_url(base, "twin"))).status_code == 204
        for sort in ("name", "-name", "pinned_at", "-pinned_at"):
            page = await listing(client, base, {"sort": sort, "filter[is_deleted]": "true"})
            assert [row["id"] for row in page["data"]] == sorted(ids), sort

    @pytest.mark.parametrize(
        "sort", ["created_at", "-created_at", "updated_at", "-updated_at", "name", "-name", "pinned_at", "-pinned_at"]
    )
    async def test_sort_is_echoed(self, client, base, sort):
        assert (await listing(client, base, {"sort": sort}))["sort"] == sort

    @pytest.mark.parametrize(
        "sort", ["", "-", "bogus", "--name", "+name", "Name", "name,created_at", "metadata.team", "is_pinned",
                 "evaluators.acc.bogus", "evaluators..mean", "cost_usd", "cost_usd.avg", "run_count.mean"],
    )  # fmt: skip
    async def test_bad_sort_is_422(self, client, base, sort):
        assert_422(await client.get(f"{base}/experiments", params={"sort": sort}), ("query", "sort"))

    @pytest.mark.parametrize(
        "sort", ["run_count", "-run_count", "cost_usd.mean", "-latency_ms.p99", "evaluators.acc.mean",
                 "-evaluators.acc.count", "evaluators.my.dotted.name.p95", "evaluators.acc.sum", "cost_usd.median"],
    )  # fmt: skip
    async def test_rollup_sort_paths_parse(self, client, base, sort):
        await seed(client, base)
        response = await client.get(f"{base}/experiments", params={"sort": sort})
        # Without telemetry: 503 {"detail": "Telemetry store unavailable."}; with it: 200.
        assert response.status_code not in (422, 500), response.text
        if response.status_code == 503:
            assert response.json() == {"detail": "Telemetry store unavailable."}
        if response.status_code == 200:
            assert response.json()["sort"] == sort
            assert response.json()["pagination"]["total_results"] == 5


class TestPinnedFirst:
    async def test_pinned_first_most_recent_first(self, client, base):
        await seed(client, base)
        for name in ("Beta", "epsilon 5", "alpha"):
            assert (await client.post(exp_url(base, name, "/pin"))).status_code == 200
        rest = ["delta", "gamma"]  # -created_at
        assert await names(client, base) == ["alpha", "epsilon 5", "Beta", *rest]
        assert await names(client, base, {"pinned_first": "true"}) == ["alpha", "epsilon 5", "Beta", *rest]
        assert await names(client, base, {"sort": "name"}) == ["alpha", "epsilon 5", "Beta", "delta", "gamma"]
        assert await names(client, base, {"sort": "created_at"}) == ["alpha", "epsilon 5", "Beta", "gamma", "delta"]

    async def test_repin_moves_to_the_top(self, client, base):
        await seed(client, base)
        for name in ("gamma", "delta", "gamma"):
            await client.post(exp_url(base, name, "/pin"))
        assert (await names(client, base))[:2] == ["gamma", "delta"]

    async def test_unpin_returns_to_the_requested_order(self, client, base):
        await seed(client, base)
        await client.post(exp_url(base, "alpha", "/pin"))
        await client.delete(exp_url(base, "alpha", "/pin"))
        assert await names(client, base) == list(reversed(CREATION_ORDER))

    @pytest.mark.parametrize("off", ["false", "0"])
    async def test_pinned_first_false(self, client, base, off):
        await seed(client, base)
        await client.post(exp_url(base, "alpha", "/pin"))
        assert await names(client, base, {"pinned_first": off}) == list(reversed(CREATION_ORDER))
        assert await names(client, base, {"pinned_first": off, "sort": "name"}) == sorted(ALL)

    async def test_pinned_first_across_pages(self, client, base):
        await seed(client, base)
        await client.post(exp_url(base, "gamma", "/pin"))
        first = await listing(client, base, {"page_size": 2, "sort": "name"})
        second = await listing(client, base, {"page_size": 2, "page": 2, "sort": "name"})
        assert [r["name"] for r in first["data"] + second["data"]] == ["gamma", "Beta", "alpha", "delta"]


class TestFilterStringFields:
    async def test_eq_bare_and_explicit(self, client, base):
        await seed(client, base)
        assert await name_set(client, base, {"filter[dataset_name]": "qa"}) == {"alpha", "Beta"}
        assert await name_set(client, base, {"filter[dataset_name][$eq]": "qa"}) == {"alpha", "Beta"}
        assert await name_set(client, base, jf({"dataset_name": "qa"})) == {"alpha", "Beta"}
        assert await name_set(client, base, jf({"dataset_name": {"$eq": "qa"}})) == {"alpha", "Beta"}
        # $eq is exact: case and substrings do not match.
        assert await name_set(client, base, {"filter[name]": "ALPHA"}) == set()
        assert await name_set(client, base, {"filter[name]": "alph"}) == set()
        assert await name_set(client, base, {"filter[name]": "epsilon 5"}) == {"epsilon 5"}

    async def test_ne_matches_nulls(self, client, base):
        await seed(client, base)
        assert await name_set(client, base, {"filter[experiment_group_id][$ne]": "g1"}) == {
            "alpha",
            "gamma",
            "epsilon 5",
        }
        assert await name_set(client, base, jf({"agent_name": {"$ne": "bot"}})) == ALL - {"alpha"}
        assert await name_set(client, base, {"filter[created_by][$ne]": "someone"}) == ALL

    async def test_in_repeated_key_and_comma_separated(self, client, base):
        await seed(client, base)
        expected = {"alpha", "gamma"}
        repeated = [("filter[name][$in]", "alpha"), ("filter[name][$in]", "gamma")]
        assert await name_set(client, base, repeated) == expected
        assert await name_set(client, base, {"filter[name][$in]": "alpha,gamma"}) == expected
        assert (
            await name_set(client, base, [("filter[name][$in]", "alpha,nobody"), ("filter[name][$in]", "gamma")])
            == expected
        )
        assert await name_set(client, base, jf({"name": {"$in": ["alpha", "gamma"]}})) == expected
        assert await name_set(client, base, {"filter[experiment_group_id][$in]": "g1,g2"}) == {"Beta", "gamma", "delta"}

    async def test_nin_matches_nulls(self, client, base):
        await seed(client, base)
        assert await name_set(client, base, {"filter[experiment_group_id][$nin]": "g1"}) == {
            "alpha",
            "gamma",
            "epsilon 5",
        }
        assert await name_set(
            client, base, [("filter[dataset_name][$nin]", "qa"), ("filter[dataset_name][$nin]", "summ")]
        ) == {"epsilon 5"}
        assert await name_set(client, base, jf({"agent_version": {"$nin": ["1", "2"]}})) == {
            "Beta",
            "gamma",
            "epsilon 5",
        }

    async def test_like_is_case_insensitive_substring(self, client, base):
        await seed(client, base)
        assert await name_set(client, base, {"filter[name][$like]": "ET"}) == {"Beta"}
        assert await name_set(client, base, {"filter[name][$like]": "a"}) == {"alpha", "Beta", "gamma", "delta"}
        assert await name_set(client, base, {"filter[agent_name][$like]": "BOT"}) == {"alpha", "delta"}
        assert await name_set(client, base, jf({"dataset_name": {"$like": "UM"}})) == {"gamma", "delta"}
        assert await name_set(client, base, {"filter[name][$like]": "on 5"}) == {"epsilon 5"}

    async def test_like_wildcards_are_literal(self, client, base):
        await seed(client, base)
        assert await name_set(client, base, {"filter[dataset_name][$like]": "100%"}) == {"epsilon 5"}
        assert await name_set(client, base, {"filter[dataset_name][$like]": "%"}) == {"epsilon 5"}
        assert await name_set(client, base, {"filter[dataset_name][$like]": "_"}) == {"epsilon 5"}
        assert await name_set(client, base, {"filter[name][$like]": "a_p"}) == set()
        assert await name_set(client, base, {"filter[name][$like]": "\\"}) == set()

    async def test_like_folds_unicode_case(self, client, base):
        await create_experiment(client, base, "Überlauf-Test", dataset_name="ÉTÉ")
        await create_experiment(client, base, "plain")
        assert await name_set(client, base, {"filter[name][$like]": "überlauf"}) == {"Überlauf-Test"}
        assert await name_set(client, base, {"filter[dataset_name][$like]": "été"}) == {"Überlauf-Test"}

    @pytest.mark.parametrize(
        "field", ["agent_version", "dataset_version", "created_by", "experiment_group_id", "agent_name"]
    )
    async def test_every_string_field_filters(self, client, base, field):
        rows = await seed(client, base)
        for value in {row[field] for row in rows.values()} - {None}:
            expected = {name for name, row in rows.items() if row[field] == value}
            assert await name_set(client, base, {f"filter[{field}]": value}) == expected
            assert await name_set(client, base, jf({field: value})) == expected
        nulls = {name for name, row in rows.items() if row[field] is None}
        assert await name_set(client, base, jf({field: None})) == nulls
        assert await name_set(client, base, jf({field: {"$ne": None}})) == ALL - nulls


class TestFilterDatetimes:
    async def test_ranges_on_created_at(self, client, base):
        rows = await seed(client, base)
        t = [rows[name]["created_at"] for name in CREATION_ORDER]
        assert await name_set(client, base, {"filter[created_at][$gte]": t[1]}) == set(CREATION_ORDER[1:])
        assert await name_set(client, base, {"filter[created_at][$gt]": t[1]}) == set(CREATION_ORDER[2:])
        assert await name_set(client, base, {"filter[created_at][$lte]": t[1]}) == set(CREATION_ORDER[:2])
        assert await name_set(client, base, {"filter[created_at][$lt]": t[1]}) == set(CREATION_ORDER[:1])
        ranged = {"filter[created_at][$gte]": t[1], "filter[created_at][$lte]": t[3]}
        assert await name_set(client, base, ranged) == set(CREATION_ORDER[1:4])
        assert await name_set(client, base, jf({"created_at": {"$gt": t[0], "$lt": t[4]}})) == set(CREATION_ORDER[1:4])
        assert await name_set(client, base, {"filter[created_at]": t[2]}) == {CREATION_ORDER[2]}
        assert await name_set(client, base, jf({"created_at": {"$in": [t[0], t[4]]}})) == {"alpha", "epsilon 5"}
        assert await name_set(client, base, jf({"created_at": {"$ne": t[0]}})) == ALL - {"alpha"}

    async def test_offsets_and_far_bounds(self, client, base):
        rows = await seed(client, base)
        t1 = ts(rows["Beta"]["created_at"])
        # The same instant written with a +02:00 offset.
        shifted = (t1 + timedelta(hours=2)).replace(tzinfo=None).isoformat() + "+02:00"
        assert await name_set(client, base, {"filter[created_at][$gte]": shifted}) == set(CREATION_ORDER[1:])
        assert await name_set(client, base, {"filter[created_at][$gte]": "2000-01-01T00:00:00Z"}) == ALL
        assert await name_set(client, base, {"filter[created_at][$lt]": "2000-01-01T00:00:00Z"}) == set()
        assert await name_set(client, base, {"filter[created_at][$gte]": "0001-01-01T00:00:00Z"}) == ALL
        assert await name_set(client, base, {"filter[created_at][$lte]": "9999-12-31T23:59:59Z"}) == ALL

    @pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
    async def test_instants_outside_the_calendar_are_422_not_500(self, client, base, value):
        response = await client.get(f"{base}/experiments", params={"filter[created_at][$gte]": value})
        assert_422(response, ("query", "filter[created_at][$gte]"))

    async def test_updated_at_and_pinned_at(self, client, base):
        await seed(client, base)
        before = (await listing(client, base, {"sort": "-updated_at"}))["data"][0]["updated_at"]
        await asyncio.sleep(0.002)
        pinned = (await client.post(exp_url(base, "gamma", "/pin"))).json()
        assert await name_set(client, base, {"filter[updated_at][$gt]": before}) == {"gamma"}
        assert await name_set(client, base, jf({"updated_at": {"$lte": before}})) == ALL - {"gamma"}
        assert await name_set(client, base, {"filter[pinned_at][$gte]": pinned["pinned_at"]}) == {"gamma"}
        assert await name_set(client, base, {"filter[pinned_at][$lt]": pinned["pinned_at"]}) == set()
        assert await name_set(client, base, jf({"pinned_at": None})) == ALL - {"gamma"}
        assert await name_set(client, base, jf({"pinned_at": {"$ne": None}})) == {"gamma"}
        # A range never matches a missing value; its negation does.
        assert await name_set(client, base, jf({"$not": {"pinned_at": {"$gte": "2000-01-01T00:00:00Z"}}})) == ALL - {
            "gamma"
        }


class TestFilterFlags:
    @pytest.mark.parametrize(
        ("word", "pinned"), [("true", True), ("1", True), ("false", False), ("0", False), ("TRUE", True)]
    )
    async def test_is_pinned(self, client, base, word, pinned):
        await seed(client, base)
        for name in ("alpha", "delta"):
            await client.post(exp_url(base, name, "/pin"))
        expected = {"alpha", "delta"} if pinned else ALL - {"alpha", "delta"}
        assert await name_set(client, base, {"filter[is_pinned]": word}) == expected

    async def test_is_pinned_json_and_ne(self, client, base):
        await seed(client, base)
        await client.post(exp_url(base, "alpha", "/pin"))
        assert await name_set(client, base, jf({"is_pinned": True})) == {"alpha"}
        assert await name_set(client, base, jf({"is_pinned": {"$ne": True}})) == ALL - {"alpha"}
        assert await name_set(client, base, {"filter[is_pinned][$ne]": "false"}) == {"alpha"}

    async def test_is_deleted(self, client, base):
        await seed(client, base)
        for name in ("Beta", "gamma"):
            assert (await client.delete(exp_url(base, name))).status_code == 204
        live = ALL - {"Beta", "gamma"}
        assert await name_set(client, base) == live
        for word in ("true", "1"):
            assert await name_set(client, base, {"filter[is_deleted]": word}) == {"Beta", "gamma"}
        for word in ("false", "0"):
            assert await name_set(client, base, {"filter[is_deleted]": word}) == live
        assert await name_set(client, base, jf({"is_deleted": True})) == {"Beta", "gamma"}
        assert await name_set(client, base, jf({"is_deleted": False})) == live
        assert await name_set(client, base, {"filter[is_deleted]": "true", "filter[dataset_name]": "qa"}) == {"Beta"}
        assert await name_set(client, base, jf({"$or": [{"is_deleted": True}, {"is_deleted": False}]})) == ALL

    @pytest.mark.parametrize("field", ["is_pinned", "is_deleted"])
    @pytest.mark.parametrize("value", ["maybe", "yes", "2", ""])
    async def test_bad_booleans_are_422(self, client, base, field, value):
        response = await client.get(f"{base}/experiments", params={f"filter[{field}]": value})
        assert_422(response, ("query", f"filter[{field}]"))


class TestFilterMetadata:
    async def test_bracket_matches_text_form(self, client, base):
        await seed(client, base)
        # 10 and "10" both read as 10.
        assert await name_set(client, base, {"filter[metadata.epochs]": "10"}) == {"alpha", "Beta"}
        assert await name_set(client, base, {"filter[metadata.epochs]": "20.5"}) == {"delta"}
        assert await name_set(client, base, {"filter[metadata.flag]": "true"}) == {"alpha", "Beta"}
        assert await name_set(client, base, {"filter[metadata.team]": "vision"}) == {"alpha"}
        assert await name_set(client, base, {"filter[metadata.epochs][$in]": "3,10"}) == {"alpha", "Beta", "gamma"}
        assert await name_set(client, base, {"filter[metadata.epochs][$nin]": "10"}) == {"gamma", "delta", "epsilon 5"}
        assert await name_set(client, base, {"filter[metadata.epochs][$ne]": "3"}) == ALL - {"gamma"}
        assert await name_set(client, base, {"filter[metadata.team][$like]": "VISION"}) == {"alpha", "Beta"}
        assert await name_set(client, base, {"filter[metadata.missing]": "x"}) == set()
        assert await name_set(client, base, {"filter[metadata.missing][$ne]": "x"}) == ALL

    async def test_json_matches_typed_values(self, client, base):
        await seed(client, base)
        assert await name_set(client, base, jf({"metadata.epochs": 10})) == {"alpha"}
        assert await name_set(client, base, jf({"metadata.epochs": 10.0})) == {"alpha"}
        assert await name_set(client, base, jf({"metadata.epochs": "10"})) == {"Beta"}
        assert await name_set(client, base, jf({"metadata.flag": True})) == {"alpha"}
        assert await name_set(client, base, jf({"metadata.flag": "true"})) == {"Beta"}
        assert await name_set(client, base, jf({"metadata.nested": {"a": 1}})) == {"gamma"}
        assert await name_set(client, base, jf({"metadata.tags": ["x"]})) == {"gamma"}
        assert await name_set(client, base, jf({"metadata.epochs": {"$in": [3, "10"]}})) == {"Beta", "gamma"}
        assert await name_set(client, base, jf({"metadata.epochs": {"$nin": [10, 3]}})) == {
            "Beta",
            "delta",
            "epsilon 5",
        }
        assert await name_set(client, base, jf({"metadata.epochs": {"$ne": 10}})) == ALL - {"alpha"}
        assert await name_set(client, base, jf({"metadata.team": {"$like": "core"}})) == {"Beta"}

    async def test_numeric_ranges(self, client, base):
        await seed(client, base)
        # Range operators compare numbers numerically; the string "10" is not a number.
        assert await name_set(client, base, {"filter[metadata.epochs][$gte]": "10"}) == {"alpha", "delta"}
        assert await name_set(client, base, {"filter[metadata.epochs][$gt]": "9.5"}) == {"alpha", "delta"}
        assert await name_set(client, base, {"filter[metadata.epochs][$lt]": "10"}) == {"gamma"}
        ranged = {"filter[metadata.epochs][$gte]": "3", "filter[metadata.epochs][$lte]": "10"}
        assert await name_set(client, base, ranged) == {"alpha", "gamma"}
        assert await name_set(client, base, jf({"metadata.epochs": {"$gt": 3, "$lt": 21}})) == {"alpha", "delta"}
        assert await name_set(client, base, jf({"metadata.lr": {"$lte": 0.1}})) == {"alpha"}
        assert await name_set(client, base, jf({"metadata.epochs": {"$gte": "2"}})) == {"alpha", "gamma", "delta"}
        assert await name_set(client, base, jf({"metadata.team": {"$gte": 0}})) == set()

    async def test_null_metadata_value(self, client, base):
        await seed(client, base)
        # "team": null is stored; as text it has no value, so only $ne/$nin match it.
        assert await name_set(client, base, {"filter[metadata.team][$ne]": "vision"}) == ALL - {"alpha"}
        assert await name_set(client, base, {"filter[metadata.team][$nin]": "vision,Vision-Core"}) == {
            "gamma",
            "delta",
            "epsilon 5",
        }

    async def test_json_null_reads_as_null(self, client, base):
        await seed(client, base)
        # delta stores "team": null; gamma and "epsilon 5" have no team at all.
        assert await name_set(client, base, jf({"metadata.team": None})) == {"gamma", "delta", "epsilon 5"}
        assert await name_set(client, base, jf({"metadata.team": {"$ne": None}})) == {"alpha", "Beta"}
        assert await name_set(client, base, jf({"metadata.team": {"$nin": ["vision"]}})) == ALL - {"alpha"}

    async def test_bad_metadata_filters_are_422(self, client, base):
        for params, loc in [
            ({"filter[metadata.epochs][$gte]": "ten"}, ("query", "filter[metadata.epochs][$gte]")),
            ({"filter[metadata.]": "x"}, ("query", "filter[metadata.]")),
            (jf({"metadata.epochs": {"$like": 5}}), ("query", "filter")),
            (jf({"metadata.epochs": {"$gt": True}}), ("query", "filter")),
            (jf({"metadata.epochs": {"$gt": "1e999"}}), ("query", "filter")),
            (jf({"metadata.epochs": {"$in": [None, 10]}}), ("query", "filter")),
        ]:
            assert_422(await client.get(f"{base}/experiments", params=params), loc)


class TestFilterLogic:
    async def test_or_and_not(self, client, base):
        await seed(client, base)
        either = {"$or": [{"dataset_name": "code_100%"}, {"metadata.epochs": {"$gte": 20}}]}
        assert await name_set(client, base, jf(either)) == {"epsilon 5", "delta"}
        both = {"$and": [{"dataset_name": "summ"}, {"experiment_group_id": "g1"}]}
        assert await name_set(client, base, jf(both)) == {"delta"}
        assert await name_set(client, base, jf({"$not": {"dataset_name": "qa"}})) == {"gamma", "delta", "epsilon 5"}
        # $not of $ne: the rows where the field equals the value (nulls excluded).
        assert await name_set(client, base, jf({"$not": {"experiment_group_id": {"$ne": "g1"}}})) == {"Beta", "delta"}
        # $not of $eq: includes nulls.
        assert await name_set(client, base, jf({"$not": {"experiment_group_id": "g1"}})) == {
            "alpha",
            "gamma",
            "epsilon 5",
        }
        nested = {
            "$or": [
                {"$and": [{"dataset_name": "qa"}, {"$not": {"name": {"$like": "alp"}}}]},
                {"$not": {"$or": [{"dataset_name": "qa"}, {"dataset_name": "summ"}]}},
            ]
        }
        assert await name_set(client, base, jf(nested)) == {"Beta", "epsilon 5"}
        # Sibling keys of one object are ANDed.
        assert await name_set(client, base, jf({"dataset_name": "summ", "agent_name": {"$like": "bot"}})) == {"delta"}
        combined = {"dataset_name": "qa", "$or": [{"name": "alpha"}, {"name": "gamma"}]}
        assert await name_set(client, base, jf(combined)) == {"alpha"}

    async def test_bracket_conditions_are_anded(self, client, base):
        await seed(client, base)
        params = {"filter[dataset_name]": "summ", "filter[experiment_group_id]": "g1"}
        assert await name_set(client, base, params) == {"delta"}

    async def test_filter_with_sort_and_pages(self, client, base):
        await seed(client, base)
        params = {"filter[name][$like]": "a", "sort": "name", "page_size": 3}
        first = await listing(client, base, params)
        assert [r["name"] for r in first["data"]] == ["Beta", "alpha", "delta"]
        assert first["pagination"]["total_results"] == 4 and first["pagination"]["total_pages"] == 2
        second = await listing(client, base, {**params, "page": 2})
        assert [r["name"] for r in second["data"]] == ["gamma"]


class TestFilterErrors:
    @pytest.mark.parametrize(
        ("params", "loc"),
        [
            ({"filter[bogus]": "x"}, ("query", "filter[bogus]")),
            ({"filter[description]": "x"}, ("query", "filter[description]")),
            ({"filter[id]": "x"}, ("query", "filter[id]")),
            ({"filter[name][$regex]": "x"}, ("query", "filter[name][$regex]")),
            ({"filter[name][$gt]": "x"}, ("query", "filter[name][$gt]")),
            ({"filter[created_at][$like]": "2026"}, ("query", "filter[created_at][$like]")),
            ({"filter[is_pinned][$in]": "true"}, ("query", "filter[is_pinned][$in]")),
            ({"filter[created_at]": "yesterday"}, ("query", "filter[created_at]")),
            ({"filter[created_at][$gte]": "2026-13-01T00:00:00Z"}, ("query", "filter[created_at][$gte]")),
            ({"filter[$or]": "x"}, ("query",)),
            ([("filter[name]", "a"), ("filter[name]", "b")], ("query", "filter[name]")),
            (jf({"bogus": 1}), ("query", "filter")),
            (jf({"name": 5}), ("query", "filter")),
            (jf({"name": {"$in": "alpha"}}), ("query", "filter")),
            (jf({"name": {"$in": []}}), ("query", "filter")),
            (jf({"name": {"$in": ["a", None]}}), ("query", "filter")),
            (jf({"name": {"$like": None}}), ("query", "filter")),
            (jf({"name": {"$bogus": "x"}}), ("query", "filter")),
            (jf({"$xor": []}), ("query", "filter")),
            (jf({"$or": {"name": "x"}}), ("query", "filter")),
            (jf({"$or": []}), ("query", "filter")),
            (jf({"$not": [{"name": "x"}]}), ("query", "filter")),
            (jf({"created_at": {"$gte": 1700000000}}), ("query", "filter")),
            (jf({"is_pinned": "maybe"}), ("query", "filter")),
            (jf({"is_deleted": None}), ("query", "filter")),
            (jf(["name", "x"]), ("query", "filter")),
            (jf("name"), ("query", "filter")),
            ({"filter": "{not json"}, ("query", "filter")),
            ({"filter": ""}, ("query", "filter")),
            ([("filter", '{"name": "a"}'), ("filter", '{"name": "b"}')], ("query", "filter")),
        ],
    )
    async def test_bad_filters_are_422_with_a_loc(self, client, base, params, loc):
        assert_422(await client.get(f"{base}/experiments", params=params), loc)

    async def test_mixing_bracket_and_json_is_422(self, client, base):
        params = {"filter": json.dumps({"name": "a"}), "filter[dataset_name]": "qa"}
        assert_422(await client.get(f"{base}/experiments", params=params), ("query", "filter"))

    @pytest.mark.parametrize(
        "params",
        [
            {"filter[name]": "a\x00b"},
            {"filter[metadata.k\x00]": "x"},
            {"filter[metadata.k]": "\x00"},
            {"filter": '{"name": "\\u0000"}'},
            {"filter": '{"name": "\\ud800"}'},
            {"filter": '{"metadata.k": "\\u0000"}'},
            {"filter": '{"metadata.k": {"x": ["\\ud800"]}}'},
            {"filter": '{"metadata.k": NaN}'},
            {"filter": '{"metadata.k": 1e999}'},
            {"filter": '{"metadata.k": {"$in": [Infinity]}}'},
            {"filter": '{"run_count": {"$gte": 1e999}}'},
            {"filter": "[" * 5000},
            {"filter": '{"$not": ' * 1500 + '{"name": "x"}' + "}" * 1500},
            {"filter": '{"$not": ' * 20 + '{"name": "x"}' + "}" * 20},
            {"filter": json.dumps({"$and": [{"name": "x"}] * 101})},
        ],
    )
    async def test_hostile_filters_are_422_not_500(self, client, base, params):
        await create_experiment(client, base, "a")
        assert_422(await client.get(f"{base}/experiments", params=params), ("query",))


class TestFilterEcho:
    async def test_no_filter_echoes_empty(self, client, base):
        assert (await listing(client, base))["filter"] == {}

    async def test_bracket_echo(self, client, base):
        params = [
            ("filter[name]", "alpha"),
            ("filter[dataset_name][$ne]", "qa"),
            ("filter[name][$in]", "a,b"),
            ("filter[name][$in]", "c"),
            ("filter[created_at][$gte]", "2026-01-01T00:00:00Z"),
            ("filter[is_pinned]", "1"),
            ("filter[metadata.epochs]", "10"),
            ("filter[metadata.epochs][$lt]", "20"),
        ]
        echo = (await listing(client, base, params))["filter"]
        assert echo == {
            "name": {"$eq": "alpha", "$in": ["a", "b", "c"]},
            "dataset_name": {"$ne": "qa"},
            "created_at": {"$gte": "2026-01-01T00:00:00Z"},
            "is_pinned": True,
            "metadata.epochs": {"$eq": "10", "$lt": 20},
        }

    async def test_lone_eq_echoes_bare(self, client, base):
        assert (await listing(client, base, {"filter[dataset_name]": "qa"}))["filter"] == {"dataset_name": "qa"}

    async def test_json_echo_is_the_parsed_request(self, client, base):
        request = {
            "dataset_name": "qa",
            "$or": [{"name": {"$like": "al"}}, {"$not": {"metadata.epochs": {"$gte": 5}}}],
            "created_at": {"$lt": "2100-01-01T00:00:00Z"},
            "metadata.flag": True,
        }
        echo = (await listing(client, base, jf(request)))["filter"]
        assert echo == {**request, "$or": [{"name": {"$like": "al"}}, {"$not": {"metadata.epochs": {"$gte": 5}}}]}

    async def test_echo_has_no_implicit_clauses(self, client, base):
        await seed(client, base)
        echo = (await listing(client, base, {"filter[name][$like]": "a"}))["filter"]
        assert echo == {"name": {"$like": "a"}}
        assert "is_deleted" not in echo


class TestRollupFilterPaths:
    @pytest.mark.parametrize(
        "params",
        [
            {"filter[run_count][$gte]": "1"},
            {"filter[run_count]": "0"},
            {"filter[evaluators.acc.mean][$gte]": "0.8"},
            {"filter[evaluators.my.dotted.eval.p90][$lt]": "1"},
            {"filter[cost_usd.mean][$lte]": "0.5"},
            {"filter[latency_ms.p99][$gt]": "100"},
            jf({"evaluators.acc.mean": {"$gte": 0.5}, "dataset_name": "qa"}),
            jf({"run_count": {"$ne": 3}}),
        ],
    )
    async def test_valid_rollup_paths_parse(self, client, base, params):
        await seed(client, base)
        response = await client.get(f"{base}/experiments", params=params)
        assert response.status_code not in (422, 500), response.text
        if response.status_code == 503:
            assert response.json() == {"detail": "Telemetry store unavailable."}

    @pytest.mark.parametrize(
        ("params", "loc"),
        [
            ({"filter[evaluators.acc.bogus]": "1"}, ("query", "filter[evaluators.acc.bogus]")),
            ({"filter[evaluators.acc]": "1"}, ("query", "filter[evaluators.acc]")),
            ({"filter[cost_usd]": "1"}, ("query", "filter[cost_usd]")),
            ({"filter[run_count][$gte]": "many"}, ("query", "filter[run_count][$gte]")),
            ({"filter[run_count][$like]": "1"}, ("query", "filter[run_count][$like]")),
            ({"filter[evaluators.acc.mean][$in]": "1,2"}, ("query", "filter[evaluators.acc.mean][$in]")),
            (jf({"evaluators.acc.bogus": {"$gte": 1}}), ("query", "filter")),
            (jf({"run_count": "many"}), ("query", "filter")),
        ],
    )
    async def test_invalid_rollup_paths_are_422(self, client, base, params, loc):
        assert_422(await client.get(f"{base}/experiments", params=params), loc)
