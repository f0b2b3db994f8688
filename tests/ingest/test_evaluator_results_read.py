"""GET /evaluator-results (paged, filtered, sorted) and GET /evaluator-results/{id}."""

import asyncio

import pytest

from support import post_result_ok

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def results(client, base) -> list[dict]:
    made = []
    for session, span, name, kind, value, text in [
        ("s1", "a", "faithfulness/v1", "NUMERIC", 0.2, None),
        ("s1", "b", "faithfulness/v1", "NUMERIC", 0.9, None),
        ("s2", "a", "passed", "BOOLEAN", 1, None),
        ("s2", "a", "label", "CATEGORICAL", None, "good"),
    ]:
        made.append(
            await post_result_ok(
                client,
                base,
                session_id=session,
                span_id=span,
                name=name,
                data_type=kind,
                value=value,
                string_value=text,
            )
        )
        await asyncio.sleep(0.002)  # distinct created_at
    return made


async def page(client, base: str, **params) -> dict:
    response = await client.get(f"{base}/evaluator-results", params=params)
    assert response.status_code == 200, response.text
    return response.json()


class TestList:
    async def test_default_is_newest_first(self, client, base, results):
        body = await page(client, base)
        assert [r["evaluator_result_id"] for r in body["data"]] == [r["evaluator_result_id"] for r in reversed(results)]
        assert body["data"][0] == results[-1]
        assert body["pagination"] == {
            "page": 1,
            "page_size": 10,  # NeMo's default
            "current_page_size": 4,
            "total_pages": 1,
            "total_results": 4,
        }
        assert (body["sort"], body["filter"]) == ("-created_at", {})

    async def test_filters(self, client, base, results):
        assert [
            r["span_id"]
            for r in (await page(client, base, **{"filter[session_id]": "s1", "sort": "created_at"}))["data"]
        ] == ["a", "b"]
        assert len((await page(client, base, **{"filter[span_id]": "a"}))["data"]) == 3
        assert [
            r["value"]
            for r in (await page(client, base, **{"filter[name]": "faithfulness/v1", "sort": "value"}))["data"]
        ] == [0.2, 0.9]
        assert [
            r["string_value"] for r in (await page(client, base, **{"filter[data_type]": "CATEGORICAL"}))["data"]
        ] == ["good"]
        ranged = await page(client, base, **{"filter[value][$gte]": "0.5", "filter[value][$lte]": "0.95"})
        assert [r["value"] for r in ranged["data"]] == [0.9]
        assert ranged["filter"] == {"value": {"$gte": 0.5, "$lte": 0.95}}
        since = results[2]["created_at"]
        newer = await page(client, base, **{"filter[created_at][$gte]": since, "sort": "created_at"})
        assert [r["name"] for r in newer["data"]] == ["passed", "label"]
        assert newer["filter"] == {"created_at": {"$gte": since}}  # as given, not as parsed
        named = {"filter[name]": "passed", "filter[session_id]": "s2", "filter[data_type]": "BOOLEAN"}
        both = await page(client, base, **named)
        assert both["filter"] == {"session_id": "s2", "name": "passed", "data_type": "BOOLEAN"}
        older = await page(client, base, **{"filter[created_at][$lte]": results[0]["created_at"]})
        assert [r["evaluator_result_id"] for r in older["data"]] == [results[0]["evaluator_result_id"]]

    async def test_paging_and_value_sort_puts_missing_last(self, client, base, results):
        first = await page(client, base, page=1, page_size=3, sort="-value")
        assert [r["value"] for r in first["data"]] == [1.0, 0.9, 0.2]
        second = await page(client, base, page=2, page_size=3, sort="-value")
        assert [r["value"] for r in second["data"]] == [None]
        assert second["pagination"]["total_pages"] == 2

    async def test_repeat_replaces(self, client, base, results):
        again = await post_result_ok(
            client, base, session_id="s1", span_id="a", name="faithfulness/v1", data_type="NUMERIC", value=0.4
        )
        assert again["evaluator_result_id"] == results[0]["evaluator_result_id"]
        body = await page(client, base, **{"filter[session_id]": "s1", "filter[span_id]": "a"})
        assert [r["value"] for r in body["data"]] == [0.4]

    async def test_other_workspaces_are_not_seen(self, client, base, results):
        assert (await page(client, base.replace("/ws-", "/other-")))["data"] == []

    @pytest.mark.parametrize(
        ("params", "loc"),
        [
            ({"sort": "color"}, ["query", "sort"]),
            ({"filter[data_type]": "NUMBER"}, ["query", "filter[data_type]"]),
            ({"filter[value][$gt]": "1"}, ["query", "filter[value][$gt]"]),
            ({"filter[created_at][$gte]": "yesterday"}, ["query", "filter[created_at][$gte]"]),
            ({"filter[value][$gte]": "abc"}, ["query", "filter[value][$gte]"]),
            ({"filter[value][$gte]": "nan"}, ["query", "filter[value][$gte]"]),
            ({"filter[value][$lte]": "-inf"}, ["query", "filter[value][$lte]"]),
            ({"filter[value][$gte]": "1", "bogus": "1"}, ["query", "bogus"]),
            ({"page": "0"}, ["query", "page"]),
        ],
    )
    async def test_bad_parameters_are_422(self, client, base, params, loc):
        response = await client.get(f"{base}/evaluator-results", params=params)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == loc


class TestGet:
    async def test_by_id(self, client, base, results):
        response = await client.get(f"{base}/evaluator-results/{results[1]['evaluator_result_id']}")
        assert response.status_code == 200
        assert response.json() == results[1]

    async def test_ingested_at_is_the_stored_moment_everywhere(self, client, base, results):
        # The SDKs (0.2.0, 0.3.0) require ingested_at; created_at is stamped at storage too.
        for made in results:
            assert made["ingested_at"] == made["created_at"]
        one = results[0]
        fetched = (await client.get(f"{base}/evaluator-results/{one['evaluator_result_id']}")).json()
        per_span = (await client.get(f"{base}/spans/{one['span_id']}/evaluator-results")).json()
        listed = (await page(client, base))["data"]
        assert fetched["ingested_at"] == one["created_at"]
        assert one in per_span and {r["ingested_at"] for r in listed} == {r["created_at"] for r in results}

    async def test_unknown_id_is_404(self, client, base):
        response = await client.get(f"{base}/evaluator-results/eval-nope")
        assert response.status_code == 404
        assert response.json() == {"detail": "Evaluator result 'eval-nope' not found."}


async def test_time_filters_outside_clickhouse_range_are_422(client, base) -> None:
    for moment in ("0001-01-01T00:00:00Z", "2300-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00"):
        response = await client.get(f"{base}/evaluator-results", params={"filter[created_at][$gte]": moment})
        assert response.status_code == 422, (moment, response.text)


async def test_a_page_far_past_the_end_is_empty(client, base) -> None:
    response = await client.get(f"{base}/evaluator-results", params={"page": 10**15, "page_size": 1000})
    assert response.status_code == 200, response.text
    assert response.json()["data"] == []
