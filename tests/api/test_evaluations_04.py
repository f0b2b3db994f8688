"""/evaluations as SDKs 0.4.0–0.6.0 call it (the same routes as 0.3.0's): sessions naming the test
case `test_case_name`, and the list filters experiment_id, agent_name, agent_version and model_name,
sent as the SDK sends them (filter[...] brackets)."""

import pytest
from test_evaluations import create_evaluation, eval_url, make_group

from support import client_for, free_port, ingest_ok, ok, problem

pytestmark = pytest.mark.asyncio


class TestSessionsNameTheTestCase:
    @pytest.fixture
    async def evaluation(self, client, base) -> str:
        await create_evaluation(client, base, name="ev", experiment_ids=[await make_group(client, base)])
        sessions = [
            {"session_id": "s1", "test_case_id": "b", "started_at": "2026-01-01T00:00:01Z"},
            {"session_id": "s2", "test_case_id": "a", "started_at": "2026-01-01T00:00:02Z"},
            {"session_id": "s3", "started_at": "2026-01-01T00:00:00Z"},
        ]
        await ingest_ok(client, base, "ev", sessions)
        return "ev"

    async def rows(self, client, base, **params) -> list[dict]:
        return ok(await client.get(eval_url(base, "ev", "/sessions"), params=params))["data"]

    async def test_rows_carry_both_spellings(self, client, base, evaluation):
        rows = await self.rows(client, base)
        assert [(r["session_id"], r["test_case_name"], r["test_case_id"]) for r in rows] == [
            ("s3", None, None),
            ("s1", "b", "b"),
            ("s2", "a", "a"),
        ]

    @pytest.mark.parametrize("key", ["test_case_name", "test_case_id"])
    async def test_either_spelling_filters_and_sorts(self, client, base, evaluation, key):
        page = ok(await client.get(eval_url(base, "ev", "/sessions"), params={f"filter[{key}]": "a"}))
        assert ([r["session_id"] for r in page["data"]], page["filter"]) == (["s2"], {key: "a"})
        rows = await self.rows(client, base, sort=f"-{key}")
        assert [r["session_id"] for r in rows] == ["s1", "s2", "s3"]

    async def test_both_filters_must_agree(self, client, base, evaluation):
        same = {"filter[test_case_name]": "a", "filter[test_case_id]": "a"}
        assert [r["session_id"] for r in await self.rows(client, base, **same)] == ["s2"]
        differ = {"filter[test_case_name]": "a", "filter[test_case_id]": "b"}
        problem(await client.get(eval_url(base, "ev", "/sessions"), params=differ), 400)


class TestListFilters:
    """a (group g): a bulk session with a test case and one without; b (group h): an ATIF trajectory
    whose step names another model than the agent's; c: a run created with agent_name, no sessions."""

    @pytest.fixture
    async def groups(self, client, base) -> tuple[str, str]:
        g, h = await make_group(client, base), await make_group(client, base)
        await create_evaluation(client, base, name="a", experiment_ids=[g])
        await create_evaluation(client, base, name="b", experiment_ids=[h])
        run = {"name": "c", "dataset_name": "d", "agent_name": "col-bot"}
        assert (await client.post(f"{base}/experiments", json=run)).status_code == 201
        tagged = {"model_name": "m1", "agent_name": "bot-a", "agent_version": "1.0", "test_case_id": "t1"}
        untagged = {"model_name": "m-untested", "agent_name": "bot-untested"}
        await ingest_ok(client, base, "a", [
            {"session_id": "a1", "started_at": "2026-01-01T00:00:00Z", **tagged},
            {"session_id": "a2", "started_at": "2026-01-01T00:00:00Z", **untagged},
        ])  # fmt: skip
        trajectory = {
            "schema_version": "ATIF-v1.7",
            "agent": {"name": "bot-b", "version": "2.0", "model_name": "m-root"},
            "steps": [
                {"step_id": 1, "source": "user", "message": "hi", "timestamp": "2026-01-01T00:00:00Z"},
                {"step_id": 2, "source": "agent", "message": "yo", "model_name": "m-step",
                 "timestamp": "2026-01-01T00:00:01Z"},
            ],
            "evaluation_context": {"evaluation_name": "b", "test_case_name": "t1"},
        }  # fmt: skip
        assert (await client.post(f"{base}/ingest/atif", json=trajectory)).status_code == 201
        return g, h

    async def names(self, client, base, params) -> list[str]:
        return sorted(r["name"] for r in ok(await client.get(f"{base}/evaluations", params=params))["data"])

    async def test_experiment_id_is_membership(self, client, base, groups):
        g, h = groups
        assert await self.names(client, base, {"filter[experiment_id]": g}) == ["a"]
        assert await self.names(client, base, {"filter[experiment_group_id]": h}) == ["b"]
        assert await self.names(client, base, {"filter[experiment_id][$in]": f"{g},{h}"}) == ["a", "b"]
        assert await self.names(client, base, {"filter": f'{{"experiment_id": {{"$ne": "{g}"}}}}'}) == ["b", "c"]
        problem(await client.get(f"{base}/evaluations", params={"filter[experiment_id][$like]": "g"}), 400)

    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ({"filter[model_name]": "m1"}, ["a"]),
            ({"filter[model_name]": "m-root"}, ["b"]),
            ({"filter[model_name]": "m-untested"}, ["a"]),  # every session counts, as in model_names
            ({"filter[model_name][$in]": "m1,m-root"}, ["a", "b"]),
            ({"filter[model_name][$ne]": "m1"}, ["b", "c"]),
            ({"filter[agent_name]": "bot-b"}, ["b"]),
            ({"filter[agent_name]": "col-bot"}, ["c"]),  # the run's own column
            ({"filter[agent_version]": "1.0"}, ["a"]),
            ({"filter[agent_version]": "2.0", "filter[model_name]": "m-root"}, ["b"]),
        ],
    )
    async def test_names_observed_in_sessions(self, client, base, groups, params, expected):
        assert await self.names(client, base, params) == expected

    async def test_a_filter_matches_the_names_the_row_lists(self, client, base, groups):
        rows = ok(await client.get(f"{base}/evaluations"))["data"]
        listed = {(facet, name, row["name"]) for row in rows for facet in ("model", "agent")
                  for name in row[f"{facet}_names"]}  # fmt: skip
        assert ("model", "m-untested", "a") in listed
        for facet, name, evaluation in listed:
            assert evaluation in await self.names(client, base, {f"filter[{facet}_name]": name})

    async def test_model_name_takes_whole_names_only(self, client, base, groups):
        for params in ({"filter[model_name][$like]": "m"}, {"filter": '{"model_name": null}'}):
            problem(await client.get(f"{base}/evaluations", params=params), 400)


async def test_without_clickhouse_a_name_filter_is_503(settings, base):
    async with client_for(settings, clickhouse_url=f"http://127.0.0.1:{free_port()}") as degraded:
        response = await degraded.get(f"{base}/evaluations", params={"filter[model_name]": "m"})
    assert response.status_code == 503 and response.json() == {"detail": "Telemetry store unavailable."}
