"""Filter and sort input can never reach SQL as text (issue 5): hypothesis fuzzes filter keys,
operators and values in the bracket and the JSON forms — quotes, backslashes, NUL, lone
surrogates, very long strings, unicode, SQL fragments, deep $or nesting past the cap — against the
real app and stores. Every answer is a 200 or a 422 in the validation shape (never a 5xx), and
afterwards the stores are intact: the experiments made before still list with the same count and
content, and a ClickHouse rollup still reads (and sorts) the same."""

import json
import uuid
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
from hypothesis import HealthCheck, Phase, assume, event, example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from intake_service.domain.filters import MAX_FILTER_CONDITIONS, MAX_FILTER_DEPTH

from support import asgi_client, workspace_base

WORKSPACE = f"fuzz-{uuid.uuid4().hex[:8]}"
BASE = workspace_base(WORKSPACE)
SEEDED = 6
FIELDS = [
    "name",
    "experiment_group_id",
    "agent_name",
    "agent_version",
    "dataset_name",
    "dataset_version",
    "created_by",
    "created_at",
    "updated_at",
    "pinned_at",
    "is_pinned",
    "is_deleted",
    "metadata.team",
    "metadata.epochs",
    "run_count",
    "cost_usd.mean",
    "latency_ms.p99",
    "evaluators.acc.mean",
    "evaluators.a.b.median",
]
OPERATORS = ["$eq", "$ne", "$in", "$nin", "$like", "$gt", "$gte", "$lt", "$lte", "$and", "$or", "$not"]
NASTY = [
    "'",
    '"',
    "\\",
    "\\'",
    "' OR '1'='1",
    "x'); DROP TABLE experiments; --",
    "%",
    "_",
    "%_%",
    "\x00",
    "a\x00b",
    "\n",
    "\t",
    "${x}",
    "{{x}}",
    "$",
    "$where",
    "[",
    "]",
    "][",
    "{",
    "}",
    "::text",
    "E'\\x00'",
    "\\N",
    "NULL",
    "null",
    "true",
    "1e308",
    "-0",
    "NaN",
    "Infinity",
    "2026-01-01T00:00:00Z",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "ünïcødé ✓",
    "𝕏",
    "\u202e",
    "\ufeff",
    " ",
    "",
    ",",
    ",,",
    "a,b",
]

PLAIN = ["t0", "t1", "ds", "0", "1", "5", "0.5", "-1", "1e3", "true", "false", "2026-01-01T00:00:00Z", "2026-01-01"]
# Text safe for a URL query (no lone surrogates: a client cannot even send those in a URL).
any_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
url_text = st.one_of(
    st.sampled_from(NASTY),
    st.sampled_from(PLAIN),
    st.sampled_from(PLAIN),
    any_text,
    st.integers().map(str),
    st.floats().map(str),
    st.builds(lambda a, b: f"{a},{b}", st.sampled_from(PLAIN + NASTY), st.sampled_from(PLAIN + NASTY)),
    # Long: up to 3,000 characters (a whole query is kept under httpx's 64 KiB URL limit below).
    st.builds(
        lambda t, n: ((t or "'\\") * n)[:3000],
        st.text(st.characters(blacklist_categories=("Cs",)), max_size=4),
        st.integers(300, 3000),
    ),
)
keys = st.one_of(
    st.sampled_from(FIELDS),
    st.sampled_from(FIELDS),
    st.sampled_from(FIELDS),
    st.builds(lambda t: f"metadata.{t}", st.one_of(st.sampled_from(NASTY), any_text)),
    st.builds(lambda t: f"evaluators.{t}.mean", st.one_of(st.sampled_from(NASTY), any_text)),
    any_text,
)
operators = st.one_of(
    st.none(), st.sampled_from(OPERATORS), st.sampled_from(OPERATORS), st.builds(lambda t: f"${t}", any_text), any_text
)


@pytest.fixture(scope="module")
async def seeded(app) -> dict[str, Any]:
    """Experiments with metadata and sessions; what they list as and how a rollup sorts them."""
    async with asgi_client(app) as http:
        for index in range(SEEDED):
            name = f"exp {index} 'q' \"d\" \\b"
            body = {"name": name, "dataset_name": "ds", "metadata": {"team": f"t{index % 2}", "epochs": index}}
            assert (await http.post(f"{BASE}/experiments", json=body)).status_code == 201
            sessions = [
                {
                    "session_id": f"s{j}",
                    "started_at": "2026-01-01T00:00:00Z",
                    "cost_usd": 0.5 * j,
                    "scores": {"acc": (index + j) / 10},
                }
                for j in range(index + 1)
            ]
            response = await http.post(
                f"{BASE}/experiments/{quote(name, safe='')}/sessions", json={"sessions": sessions}
            )
            assert response.status_code == 201, response.text
        return await snapshot(http)


async def snapshot(http: httpx.AsyncClient) -> dict[str, Any]:
    listed = await http.get(f"{BASE}/experiments", params={"sort": "name", "page_size": 1000})
    assert listed.status_code == 200, listed.text
    by_metric = await http.get(f"{BASE}/experiments", params={"sort": "-evaluators.acc.mean", "pinned_first": "false"})
    assert by_metric.status_code == 200, by_metric.text
    rows = listed.json()["data"]
    return {
        "total": listed.json()["pagination"]["total_results"],
        "rows": {r["name"]: (r["id"], r["metadata"], r["run_count"], r["aggregate_scores"]) for r in rows},
        "by_metric": [r["name"] for r in by_metric.json()["data"]],
    }


def assert_answer(response: httpx.Response) -> None:
    event(f"status {response.status_code}")
    assert response.status_code in (200, 422), (response.status_code, response.text[:2000])
    body = response.json()
    if response.status_code == 422:
        assert isinstance(body["detail"], list) and body["detail"]
        assert all({"loc", "msg", "type"} <= set(item) for item in body["detail"])
        text = response.text.lower()
        assert "select " not in text and "traceback" not in text and "sqlalchemy" not in text
    else:
        assert set(body) == {"data", "pagination", "sort", "filter"}
        assert body["pagination"]["total_results"] <= SEEDED


FUZZ = hsettings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    # No shrinking: a failure reports the example as generated, at once (shrinking a 5xx through
    # the whole app can take minutes).
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


@FUZZ
@given(conditions=st.lists(st.tuples(keys, operators, url_text), min_size=1, max_size=4))
@example(conditions=[("name", None, "x'); DROP TABLE experiments; --")])
@example(conditions=[("metadata.x' OR '1'='1", "$eq", "1")])
@example(conditions=[("name", "$like", "%' OR 1=1 --")])
@example(conditions=[("metadata.team", "$in", "t0,\x00,'")])
@example(conditions=[("created_at", "$gte", "0001-01-01T00:00:00+01:00")])
@example(conditions=[("evaluators.x\\'.mean", "$gt", "1e999")])
async def test_bracket_filters(client, seeded, conditions) -> None:
    params = [(f"filter[{k}]" if op is None else f"filter[{k}][{op}]", v) for k, op, v in conditions]
    assume(len(urlencode(params)) < 60_000)
    assert_answer(await client.get(f"{BASE}/experiments", params=params))


def json_values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from(NASTY),
        st.text(max_size=30),  # lone surrogates included: JSON can carry them
        st.text(min_size=2000, max_size=6000),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
        max_leaves=8,
    )


def json_filters() -> st.SearchStrategy[Any]:
    leaf = st.one_of(
        st.dictionaries(
            st.one_of(st.sampled_from(FIELDS), st.text(max_size=20)), json_values(), min_size=1, max_size=3
        ),
        st.dictionaries(
            st.sampled_from(FIELDS),
            st.dictionaries(
                st.one_of(st.sampled_from(OPERATORS), st.text(max_size=8)), json_values(), min_size=1, max_size=2
            ),
            min_size=1,
            max_size=2,
        ),
    )

    def extend(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return st.one_of(
            st.builds(lambda xs: {"$or": xs}, st.lists(inner, max_size=4)),
            st.builds(lambda xs: {"$and": xs}, st.lists(inner, max_size=4)),
            st.builds(lambda x: {"$not": x}, inner),
            st.builds(lambda x, k: {k: x}, inner, st.sampled_from(FIELDS + ["$nor", "$where", ""])),
        )

    return st.one_of(st.recursive(leaf, extend, max_leaves=20), json_values())


@FUZZ
@given(
    document=json_filters(),
    sort=st.one_of(st.none(), st.sampled_from(["name", "-evaluators.acc.mean", "run_count"]), url_text),
)
@example(document={"name": {"$in": ["'", "\\", "\x00"]}}, sort=None)
@example(document={"metadata.k\x00": 1}, sort=None)
@example(document={"name": "\ud800"}, sort=None)
@example(document={"$or": [{"run_count": {"$gt": 0}}]}, sort=None)
@example(document={"metadata.epochs": {"$gt": 1e308 * 10}}, sort="-evaluators.acc.mean")
async def test_json_filters(client, seeded, document, sort) -> None:
    params = {"filter": json.dumps(document, allow_nan=True)}  # ASCII: lone surrogates travel as \ud800
    if sort is not None:
        params["sort"] = sort
    assume(len(urlencode(params)) < 60_000)
    assert_answer(await client.get(f"{BASE}/experiments", params=params))


@FUZZ
@given(raw=st.one_of(st.sampled_from(NASTY), st.text(st.characters(blacklist_categories=("Cs",)), max_size=200)))
async def test_filter_parameter_that_is_not_json(client, seeded, raw) -> None:
    assert_answer(await client.get(f"{BASE}/experiments", params={"filter": raw}))


STRING_FIELDS = [
    "name",
    "experiment_group_id",
    "agent_name",
    "agent_version",
    "dataset_name",
    "dataset_version",
    "created_by",
]
# Any Unicode but lone surrogates and NUL, which PostgreSQL text cannot hold (those are 422s, above).
stored_text = st.one_of(
    st.sampled_from([t for t in NASTY if "\x00" not in t]),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40),
    st.builds(
        lambda t, n: ((t or "'\\") * n)[:3000],
        st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=3),
        st.integers(300, 3000),
    ),
)
well_typed = st.one_of(
    st.tuples(st.sampled_from(STRING_FIELDS), st.sampled_from(["$eq", "$ne", "$in", "$nin", "$like"]), stored_text),
    st.tuples(
        st.builds(lambda k: f"metadata.{k}", stored_text.filter(lambda k: k and "[" not in k and "]" not in k)),
        st.sampled_from(["$eq", "$ne", "$in", "$nin", "$like"]),
        stored_text,
    ),
    st.tuples(
        st.sampled_from(["run_count", "cost_usd.mean", "latency_ms.p99", "evaluators.acc.mean", "metadata.epochs"]),
        st.sampled_from(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte"]),
        st.one_of(st.integers(-(10**6), 10**6), st.floats(allow_nan=False, allow_infinity=False, width=32)),
    ),
)


@FUZZ
@given(
    conditions=st.lists(well_typed, min_size=1, max_size=3, unique_by=lambda c: (c[0], c[1])),
    form=st.sampled_from(["brackets", "json"]),
)
async def test_well_typed_filters_with_nasty_values(client, seeded, conditions, form) -> None:
    """Valid fields and operators, hostile values: these reach the SQL, as parameters."""
    if form == "brackets":
        params: Any = [(f"filter[{k}][{op}]", str(v)) for k, op, v in conditions]
    else:
        document: dict[str, Any] = {}
        for k, op, v in conditions:
            document.setdefault(k, {})[op] = [v] if op in ("$in", "$nin") else v
        params = {"filter": json.dumps(document)}
    assume(len(urlencode(params)) < 60_000)
    response = await client.get(f"{BASE}/experiments", params=params)
    assert_answer(response)
    if response.status_code == 422:
        # Only a value of the wrong type for its field (e.g. a text "1e3" to a number) may be refused.
        assert form == "brackets" or any(
            isinstance(v, str) and k.startswith("metadata.") and op in ("$gt", "$gte", "$lt", "$lte")
            for k, op, v in conditions
        ), response.text[:1000]


@pytest.mark.parametrize("depth", [MAX_FILTER_DEPTH + 1, 50, 500, 2000])
async def test_or_nesting_past_the_cap_is_422(client, seeded, depth) -> None:
    # Written out by hand: json.dumps itself cannot encode 2,000 levels.
    document = '{"$or": [' * depth + '{"name": "x"}' + "]}" * depth
    response = await client.get(f"{BASE}/experiments", params={"filter": document})
    assert response.status_code == 422, response.text[:500]
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["query", "filter"]
    assert len(response.content) < 10_000  # the 2,000-level input is not echoed back whole


async def test_nesting_at_the_cap_is_fine(client, seeded) -> None:
    document: dict[str, Any] = {"metadata.team": "t0"}
    for _ in range(MAX_FILTER_DEPTH - 1):
        document = {"$or": [document]}
    response = await client.get(f"{BASE}/experiments", params={"filter": json.dumps(document)})
    assert response.status_code == 200, response.text
    assert response.json()["pagination"]["total_results"] == SEEDED // 2


@pytest.mark.parametrize("count", [MAX_FILTER_CONDITIONS + 1, 1000])
async def test_too_many_conditions_is_422(client, seeded, count) -> None:
    document = {"$or": [{"name": f"n{i}"} for i in range(count)]}
    response = await client.get(f"{BASE}/experiments", params={"filter": json.dumps(document)})
    assert response.status_code == 422, response.text[:500]
    brackets = [("filter[name][$in]", f"n{i}") for i in range(count)]
    response = await client.get(f"{BASE}/experiments", params=brackets)
    assert response.status_code in (200, 422), response.text[:500]
    bracket_keys = [(f"filter[metadata.k{i}]", "v") for i in range(count)]
    response = await client.get(f"{BASE}/experiments", params=bracket_keys)
    assert response.status_code == 422, response.text[:500]


async def test_injection_shaped_values_match_literally(client, seeded) -> None:
    """A quote-laden name is found by exactly itself, and the classic payloads find nothing."""
    name = "exp 3 'q' \"d\" \\b"
    found = await client.get(f"{BASE}/experiments", params={"filter[name]": name})
    assert [r["name"] for r in found.json()["data"]] == [name]
    liked = await client.get(f"{BASE}/experiments", params={"filter[name][$like]": "'q' \"d\" \\b"})
    assert liked.json()["pagination"]["total_results"] == SEEDED
    for payload in ("' OR '1'='1", "x' OR 1=1 --", "%", "_"):
        response = await client.get(f"{BASE}/experiments", params={"filter[name]": payload})
        assert response.status_code == 200 and response.json()["data"] == []
    # $like treats % and _ literally.
    assert (await client.get(f"{BASE}/experiments", params={"filter[name][$like]": "%"})).json()["data"] == []


async def test_zz_stores_intact_after_the_fuzz(client, seeded) -> None:
    """Runs last in this module (name order is file order for pytest; 'zz' says so): same rows,
    same metadata, same rollups, same rollup order, and ingest still works."""
    now = await snapshot(client)
    assert now == seeded
    assert now["total"] == SEEDED
    assert now["by_metric"][0] == f"exp {SEEDED - 1} 'q' \"d\" \\b"
    name = "exp 0 'q' \"d\" \\b"
    extra = {"session_id": "late", "started_at": "2026-01-02T00:00:00Z", "scores": {"acc": 1.0}}
    assert (
        await client.post(f"{BASE}/experiments/{quote(name, safe='')}/sessions", json={"sessions": [extra]})
    ).status_code == 201
    row = (await client.get(f"{BASE}/experiments/{quote(name, safe='')}")).json()
    assert row["run_count"] == 2
    # Other tables are readable too: the admin key list answers.
    assert (await client.get("/apis/intake/v2/admin/keys")).status_code == 200
