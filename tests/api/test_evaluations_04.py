"""/evaluations as SDKs 0.4.0–0.6.0 call it (the same routes as 0.3.0's): sessions naming the test
case `test_case_name`, and the list filters experiment_id, agent_name, agent_version and model_name,
sent as the SDK sends them (filter[...] brackets)."""

import pytest
from test_evaluations import create_evaluation, eval_url, make_group

from support import ingest_ok, ok, problem

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
