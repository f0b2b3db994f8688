"""POST/GET/DELETE /annotations: every kind round-trips as SDK 0.3.0 sends and reads it, lists filter
and sort, a delete hides the annotation from every read, and bodies that break a kind's rules are 422."""

import asyncio
import json
from typing import Any

import httpx
import pytest

from support import assert_422, ok, problem, ts

pytestmark = pytest.mark.asyncio

BODIES: list[dict[str, Any]] = [
    {"kind": "feedback", "session_id": "sess-1", "value": "positive"},
    {"kind": "note", "session_id": "sess-1", "span_id": "span-a", "text": "Looks off by one."},
    {"kind": "metadata", "session_id": "sess-2", "metadata": {"reviewer": "kim", "round": 2}},
    {"kind": "label", "session_id": "sess-1", "span_id": "span-a", "value_type": "numeric", "value": 4,
     "name": "helpfulness"},
    {"kind": "label", "session_id": "sess-2", "value_type": "text", "value": "regression"},
]


async def create_all(client: httpx.AsyncClient, base: str) -> list[dict[str, Any]]:
    created = []
    for body in BODIES:
        created.append(ok(await client.post(f"{base}/annotations", json=body), 201))
        await asyncio.sleep(0.002)  # distinct created_at
    return created


def ids(page: dict[str, Any]) -> list[str]:
    return [row["annotation_id"] for row in page["data"]]


async def test_every_kind_round_trips(client, base, workspace):
    created = await create_all(client, base)
    for body, made in zip(BODIES, created, strict=True):
        assert made["annotation_id"].startswith("ann-") and made["workspace"] == workspace
        expected = {**body, "value": 4.0} if body.get("value_type") == "numeric" else body
        assert {k: made[k] for k in body} == expected
        assert ts(made["created_at"]) == ts(made["ingested_at"])
        assert "span_id" in made or "span_id" not in body
        # A kind's absent fields are left out, as NeMo answers them.
        assert not {"text", "metadata", "value_type", "name", "value"} - set(body) & set(made)
        read = ok(await client.get(f"{base}/annotations/{made['annotation_id']}"))
        assert read == made


async def test_list_filters_and_sort(client, base):
    created = await create_all(client, base)
    every = [a["annotation_id"] for a in created]
    assert ids(ok(await client.get(f"{base}/annotations"))) == every[::-1]  # -created_at
    assert ids(ok(await client.get(f"{base}/annotations", params={"sort": "created_at"}))) == every
    cases = [
        ({"filter[session_id]": "sess-2"}, [every[4], every[2]]),
        ({"filter[span_id]": "span-a"}, [every[3], every[1]]),
        ({"filter[kind]": "label"}, [every[4], every[3]]),
        ({"filter[name]": "helpfulness"}, [every[3]]),
        ({"filter[value_text]": "positive"}, [every[0]]),
        ({"filter[value_text]": "regression"}, [every[4]]),
        ({"filter[value_numeric][$gte]": "4"}, [every[3]]),
        ({"filter[value_numeric][$lte]": "3.5"}, []),
        ({"filter[created_at][$gte]": created[3]["created_at"]}, [every[4], every[3]]),
    ]
    for params, expected in cases:
        assert ids(ok(await client.get(f"{base}/annotations", params=params))) == expected, params
    page = ok(await client.get(f"{base}/annotations", params={"page_size": 2, "page": 3}))
    assert ids(page) == [every[0]]
    assert page["pagination"] == {"page": 3, "page_size": 2, "current_page_size": 1, "total_pages": 3,
                                  "total_results": 5}


@pytest.mark.parametrize(
    "params", [{"filter[value]": "x"}, {"filter[kind]": "thumbs"}, {"filter[value_numeric]": "3"}]
)
async def test_bad_filter_is_400(client, base, params):
    problem(await client.get(f"{base}/annotations", params=params), 400)


async def test_bad_sort_is_422_and_ten_rows_unless_asked(client, base):
    # As NeMo's enum sort and its default page size.
    assert_422(await client.get(f"{base}/annotations", params={"sort": "kind"}), ("query", "sort"))
    assert ok(await client.get(f"{base}/annotations"))["pagination"]["page_size"] == 10


async def test_delete_hides_it_everywhere(client, base, workspace):
    created = await create_all(client, base)
    gone = created[1]["annotation_id"]
    assert (await client.delete(f"{base}/annotations/{gone}")).status_code == 204
    detail = problem(await client.get(f"{base}/annotations/{gone}"), 404)
    assert detail == f"Annotation '{workspace}/{gone}' not found."
    listed = ok(await client.get(f"{base}/annotations", params={"filter[span_id]": "span-a"}))
    assert ids(listed) == [created[3]["annotation_id"]] and listed["pagination"]["total_results"] == 1
    problem(await client.delete(f"{base}/annotations/{gone}"), 404)
    # The others are untouched.
    assert ok(await client.get(f"{base}/annotations/{created[3]['annotation_id']}")) == created[3]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "feedback", "session_id": "s", "value": "meh"}, "value"),
        ({"kind": "feedback", "session_id": "s", "value": "positive", "text": "also"}, "text"),
        ({"kind": "note", "session_id": "s", "text": ""}, "text"),
        ({"kind": "note", "session_id": "s", "text": "x" * 10_001}, "text"),
        ({"kind": "metadata", "session_id": "s", "metadata": {}}, "metadata"),
        ({"kind": "label", "session_id": "s", "value_type": "numeric", "value": 3}, "name"),
        ({"kind": "label", "session_id": "s", "value_type": "numeric", "value": "3", "name": "n"}, "value"),
        ({"kind": "label", "session_id": "s", "value_type": "text", "value": 3}, "value"),
        ({"kind": "label", "session_id": "s", "value": "x"}, "value_type"),
        ({"kind": "rating", "session_id": "s", "value": 1}, "kind"),
        ({"kind": "note", "text": "hi"}, "session_id"),
        ({"kind": "note", "session_id": "s", "text": "lone \ud800 surrogate"}, "text"),
        ({"kind": "metadata", "session_id": "s", "metadata": {"k\x00": 1}}, "metadata"),
        # Beyond 64 bits: orjson cannot store it (it was a 500).
        ({"kind": "metadata", "session_id": "s", "metadata": {"big": 2**64}}, "metadata"),
    ],
)
async def test_a_body_breaking_its_kinds_rules_is_422_and_stores_nothing(client, base, body, field):
    # json.dumps escapes a lone surrogate (\\ud800), which httpx's json= cannot encode.
    response = await client.post(
        f"{base}/annotations", content=json.dumps(body), headers={"content-type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert any(error["loc"][:2] == ["body", field] for error in response.json()["detail"]), response.json()
    assert ok(await client.get(f"{base}/annotations"))["data"] == []
