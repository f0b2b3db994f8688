"""Property: for any sort/filter/page, GET /experiments returns exactly what the contract's semantics,
computed naively in Python over the same rows, give (CONTRACT.md section 3).

Each example creates a small random set of experiments through the API in a fresh workspace (names
from a tiny alphabet so they collide, deleted rows sharing names, typed metadata, pins), then asks a
few random list queries. The oracle below is written from the contract, not from the service code:
$ne/$nin match nulls, $like is a case-insensitive substring, nulls sort last in both directions,
ties break by name then id, pinned rows come first by pinned_at descending, and rows are live only
unless the filter mentions is_deleted.
"""

import json
import math
import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

MISSING = object()

NAME_ALPHABET = "aAb _"
DATASETS = ["d1", "d2", "D1"]
GROUPS = [None, "g1", "g2"]
META_KEYS = ["k", "n"]
META_VALUES = [0, 1, 2, "0", "1", "a", "A", True, False, None]
TEXT_VALUES = ["0", "1", "2", "true", "a", "A", "x"]
STRING_FIELDS = {"name": NAME_ALPHABET, "dataset_name": None, "experiment_group_id": None}
DATETIME_FIELDS = ["created_at", "updated_at", "pinned_at"]
SORT_FIELDS = ["created_at", "updated_at", "name", "pinned_at"]
RANGE_OPS = ["$gt", "$gte", "$lt", "$lte"]


# ---------- data ----------


@dataclass
class RowSpec:
    name: str
    dataset_name: str
    experiment_group_id: str | None
    metadata: dict[str, Any]
    pinned: bool
    deleted: bool
    touched: bool  # PUT once more, so updated_at differs from created_at


names = st.text(alphabet=NAME_ALPHABET, min_size=1, max_size=2)
metadata = st.dictionaries(st.sampled_from(META_KEYS), st.sampled_from(META_VALUES), min_size=0, max_size=2)
row_specs = st.builds(
    RowSpec,
    name=names,
    dataset_name=st.sampled_from(DATASETS),
    experiment_group_id=st.sampled_from(GROUPS),
    metadata=metadata,
    pinned=st.booleans(),
    deleted=st.booleans(),
    touched=st.booleans(),
)


# ---------- queries ----------


@dataclass
class Leaf:
    field: str
    op: str
    value: Any  # for datetimes: an index into the rows' timestamps, resolved at run time


@dataclass
class Node:
    kind: str  # "$and" | "$or" | "$not"
    children: list[Any] = field(default_factory=list)


def string_values(name: str) -> st.SearchStrategy[str]:
    if name == "name":
        return names
    if name == "dataset_name":
        return st.sampled_from([*DATASETS, "x"])
    return st.sampled_from(["g1", "g2", "x"])


@st.composite
def string_leaf(draw: Any, json_form: bool) -> Leaf:
    name = draw(st.sampled_from(list(STRING_FIELDS)))
    op = draw(st.sampled_from(["$eq", "$ne", "$in", "$nin", "$like"]))
    if op in ("$in", "$nin"):
        return Leaf(name, op, draw(st.lists(string_values(name), min_size=1, max_size=3)))
    if op == "$like":
        return Leaf(name, op, draw(st.sampled_from(["a", "A", "B", "d", "D1", "a ", "x"])))
    if json_form and name != "name" and draw(st.booleans()):
        return Leaf(name, op, None)
    return Leaf(name, op, draw(string_values(name)))


@st.composite
def datetime_leaf(draw: Any, json_form: bool) -> Leaf:
    name = draw(st.sampled_from(DATETIME_FIELDS))
    op = draw(st.sampled_from([*RANGE_OPS, "$eq", "$ne"]))
    if json_form and op in ("$eq", "$ne") and draw(st.booleans()):
        return Leaf(name, op, None)
    return Leaf(name, op, draw(st.integers(0, 20)))


@st.composite
def metadata_leaf(draw: Any, json_form: bool) -> Leaf:
    name = "metadata." + draw(st.sampled_from(META_KEYS))
    op = draw(st.sampled_from(["$eq", "$ne", "$in", "$nin", "$like", *RANGE_OPS]))
    if op in RANGE_OPS:
        return Leaf(name, op, draw(st.integers(-1, 3)))
    if op == "$like":
        return Leaf(name, op, draw(st.sampled_from(["a", "A", "1", "tr", "x"])))
    scalar = st.sampled_from([v for v in META_VALUES if v is not None]) if json_form else st.sampled_from(TEXT_VALUES)
    if op in ("$in", "$nin"):
        return Leaf(name, op, draw(st.lists(scalar, min_size=1, max_size=3)))
    if json_form and draw(st.integers(0, 2)) == 0:
        return Leaf(name, op, None)
    return Leaf(name, op, draw(scalar))


@st.composite
def flag_leaf(draw: Any, json_form: bool) -> Leaf:
    return Leaf(
        draw(st.sampled_from(["is_pinned", "is_deleted"])), draw(st.sampled_from(["$eq", "$ne"])), draw(st.booleans())
    )


def leaves(json_form: bool) -> st.SearchStrategy[Leaf]:
    return st.one_of(string_leaf(json_form), datetime_leaf(json_form), metadata_leaf(json_form), flag_leaf(json_form))


json_trees = st.recursive(
    leaves(True),
    lambda children: st.one_of(
        st.builds(Node, st.just("$and"), st.lists(children, min_size=1, max_size=3)),
        st.builds(Node, st.just("$or"), st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda child: Node("$not", [child]), children),
    ),
    max_leaves=5,
)
bracket_filters = st.lists(leaves(False), min_size=1, max_size=3, unique_by=lambda leaf: (leaf.field, leaf.op))


@dataclass
class Query:
    sort: str | None
    pinned_first: bool | None
    page: int
    page_size: int
    form: str  # "none" | "bracket" | "json"
    filter: Any


queries = st.builds(
    Query,
    sort=st.one_of(st.none(), st.sampled_from(SORT_FIELDS + ["-" + f for f in SORT_FIELDS])),
    pinned_first=st.sampled_from([None, True, False]),
    page=st.sampled_from([1, 1, 1, 2, 3, 4]),
    page_size=st.integers(1, 5),
    form=st.sampled_from(["none", "bracket", "json", "json"]),
    filter=st.none(),
).flatmap(
    lambda q: st.builds(
        lambda f: Query(q.sort, q.pinned_first, q.page, q.page_size, q.form, f),
        bracket_filters if q.form == "bracket" else json_trees if q.form == "json" else st.none(),
    )
)


# ---------- the oracle ----------


def ts(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


def json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object" if isinstance(value, dict) else "array"


def json_equal(a: Any, b: Any) -> bool:
    return json_kind(a) == json_kind(b) and a == b


def text_form(value: Any) -> str | None:
    """How a scalar reads as text (bracket filters are text); objects, arrays, null have none."""
    if value is MISSING:
        return None
    kind = json_kind(value)
    if kind == "boolean":
        return "true" if value else "false"
    if kind in ("number", "string"):
        return str(value)
    return None


def compare(current: Any, op: str, value: Any) -> bool:
    """A person's reading of one operator on a possibly-null field value."""
    if op == "$eq":
        return current is None if value is None else current is not None and current == value
    if op == "$ne":
        return current is not None if value is None else current is None or current != value
    if op == "$in":
        return current is not None and current in value
    if op == "$nin":
        return current is None or current not in value
    if op == "$like":
        return current is not None and value.lower() in current.lower()
    if current is None:
        return False
    return {"$gt": current > value, "$gte": current >= value, "$lt": current < value, "$lte": current <= value}[op]


def leaf_matches(row: dict[str, Any], leaf: Leaf, value: Any, json_form: bool) -> bool:
    if leaf.field == "is_pinned":
        pinned = row["pinned_at"] is not None
        return pinned == value if leaf.op == "$eq" else pinned != value
    if leaf.field == "is_deleted":
        return row["deleted"] == value if leaf.op == "$eq" else row["deleted"] != value
    if leaf.field in DATETIME_FIELDS:
        values = [ts(v) for v in value] if isinstance(value, list) else (None if value is None else ts(value))
        return compare(ts(row[leaf.field]), leaf.op, values)
    if not leaf.field.startswith("metadata."):
        return compare(row[leaf.field], leaf.op, value)
    raw = row["metadata"].get(leaf.field[len("metadata.") :], MISSING)
    if leaf.op in RANGE_OPS:
        number = raw if json_kind(raw) == "number" and raw is not MISSING else None
        return compare(number, leaf.op, float(value))
    if leaf.op == "$like" or not json_form:
        return compare(text_form(raw), leaf.op, value)
    # JSON filters compare typed values; an absent key and a JSON null are both "null".
    current = None if raw is MISSING or raw is None else raw
    if leaf.op in ("$eq", "$ne"):
        if value is None:
            return compare(current, leaf.op, None)
        equal = current is not None and json_equal(current, value)
        return equal if leaf.op == "$eq" else not equal
    found = current is not None and any(json_equal(current, v) for v in value)
    return found if leaf.op == "$in" else not found


def tree_matches(row: dict[str, Any], node: Any, resolve: Any) -> bool:
    if isinstance(node, Leaf):
        return leaf_matches(row, node, resolve(node), True)
    if node.kind == "$and":
        return all(tree_matches(row, child, resolve) for child in node.children)
    if node.kind == "$or":
        return any(tree_matches(row, child, resolve) for child in node.children)
    return not tree_matches(row, node.children[0], resolve)


def mentions_is_deleted(node: Any) -> bool:
    if isinstance(node, Leaf):
        return node.field == "is_deleted"
    if isinstance(node, list):
        return any(mentions_is_deleted(child) for child in node)
    return any(mentions_is_deleted(child) for child in node.children)


def oracle_order(rows: list[dict[str, Any]], sort: str, pinned_first: bool) -> list[dict[str, Any]]:
    descending = sort.startswith("-")
    key = sort.lstrip("-")

    def value(row: dict[str, Any]) -> Any:
        return ts(row[key]) if key in DATETIME_FIELDS else row[key]

    ordered = sorted(rows, key=lambda r: (r["name"], r["id"]))  # the tie-break
    present = sorted((r for r in ordered if value(r) is not None), key=value, reverse=descending)  # stable
    ordered = present + [r for r in ordered if value(r) is None]  # nulls last, both directions
    if pinned_first:
        pinned = sorted((r for r in ordered if r["pinned_at"]), key=lambda r: ts(r["pinned_at"]), reverse=True)
        ordered = pinned + [r for r in ordered if not r["pinned_at"]]
    return ordered


# ---------- encoding a query ----------


def datetime_value(rows: list[dict[str, Any]], index: int) -> str:
    """A timestamp some row really has (so boundaries are hit exactly), or a far one."""
    stamps = sorted({r[f] for r in rows for f in DATETIME_FIELDS if r[f] is not None})
    extras = ["2000-01-01T00:00:00Z", "2999-01-01T00:00:00Z"]
    choices = stamps + extras
    return choices[index % len(choices)]


def resolver(rows: list[dict[str, Any]]) -> Any:
    def resolve(leaf: Leaf) -> Any:
        if leaf.field in DATETIME_FIELDS and isinstance(leaf.value, int):
            return datetime_value(rows, leaf.value)
        return leaf.value

    return resolve


def to_json(node: Any, resolve: Any) -> dict[str, Any]:
    if isinstance(node, Leaf):
        value = resolve(node)
        return {node.field: value if node.op == "$eq" and not isinstance(value, dict) else {node.op: value}}
    if node.kind == "$not":
        return {"$not": to_json(node.children[0], resolve)}
    return {node.kind: [to_json(child, resolve) for child in node.children]}


def bracket_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def to_params(query: Query, resolve: Any) -> list[tuple[str, str]]:
    params = [("page", str(query.page)), ("page_size", str(query.page_size))]
    if query.sort is not None:
        params.append(("sort", query.sort))
    if query.pinned_first is not None:
        params.append(("pinned_first", "true" if query.pinned_first else "false"))
    if query.form == "json":
        params.append(("filter", json.dumps(to_json(query.filter, resolve))))
    elif query.form == "bracket":
        for leaf in query.filter:
            key = f"filter[{leaf.field}]" + ("" if leaf.op == "$eq" else f"[{leaf.op}]")
            value = resolve(leaf)
            if isinstance(value, list):
                # Alternate the two spellings of a list: repeated keys and comma-separated.
                params += [(key, ",".join(bracket_text(v) for v in value[:2]))]
                params += [(key, bracket_text(v)) for v in value[2:]]
            else:
                params.append((key, bracket_text(value)))
    return params


def expected_page(rows: list[dict[str, Any]], query: Query) -> tuple[list[str], int]:
    resolve = resolver(rows)
    if query.form == "json":
        kept = [r for r in rows if tree_matches(r, query.filter, resolve)]
    elif query.form == "bracket":
        kept = [r for r in rows if all(leaf_matches(r, leaf, resolve(leaf), False) for leaf in query.filter)]
    else:
        kept = rows
    if query.form == "none" or not mentions_is_deleted(query.filter):
        kept = [r for r in kept if not r["deleted"]]
    ordered = oracle_order(kept, query.sort or "-created_at", query.pinned_first is not False)
    start = (query.page - 1) * query.page_size
    return [r["id"] for r in ordered[start : start + query.page_size]], len(kept)


def normalise_bracket(query: Query) -> Query:
    """Bracket values are text: the oracle sees what the server receives."""
    if query.form != "bracket":
        return query
    leaves_ = []
    for leaf in query.filter:
        value = leaf.value
        if leaf.field in ("is_pinned", "is_deleted") or leaf.field in DATETIME_FIELDS:
            leaves_.append(leaf)
        elif leaf.op in RANGE_OPS:
            leaves_.append(leaf)
        elif isinstance(value, list):
            leaves_.append(Leaf(leaf.field, leaf.op, [bracket_text(v) for v in value]))
        else:
            leaves_.append(Leaf(leaf.field, leaf.op, bracket_text(value)))
    return Query(query.sort, query.pinned_first, query.page, query.page_size, query.form, leaves_)


# ---------- the property ----------


async def build_rows(client: Any, base: str, specs: list[RowSpec]) -> list[dict[str, Any]]:
    """Create the rows through the API; return every row (deleted ones too) as last answered."""
    rows: dict[str, dict[str, Any]] = {}
    live: dict[str, str] = {}
    for spec in specs:
        if spec.name in live:
            continue
        url = f"{base}/experiments/{quote(spec.name, safe='')}"
        body = {"name": spec.name, "dataset_name": spec.dataset_name, "metadata": spec.metadata}
        if spec.experiment_group_id is not None:
            body["experiment_group_id"] = spec.experiment_group_id
        response = await client.post(f"{base}/experiments", json=body)
        assert response.status_code == 201, response.text
        row = response.json()
        if spec.touched:
            response = await client.put(url, json={**body, "description": "touched"})
            assert response.status_code == 200, response.text
            row = response.json()
        if spec.pinned:
            response = await client.post(f"{url}/pin")
            assert response.status_code == 200, response.text
            row = response.json()
        row["deleted"] = spec.deleted
        if spec.deleted:
            assert (await client.delete(url)).status_code == 204
        else:
            live[spec.name] = row["id"]
        rows[row["id"]] = row
    # DELETE answers 204 with no body but moves updated_at: read the deleted rows back once
    # (checking that exactly they come back), so the oracle sorts on their real values.
    deleted = {row_id for row_id, row in rows.items() if row["deleted"]}
    response = await client.get(f"{base}/experiments", params={"filter[is_deleted]": "true", "page_size": 1000})
    assert response.status_code == 200, response.text
    assert {row["id"] for row in response.json()["data"]} == deleted
    for row in response.json()["data"]:
        rows[row["id"]] = {**row, "deleted": True}
    return list(rows.values())


@settings(
    # ~20 s at 60; PROP_EXAMPLES=600 for a deeper local run.
    max_examples=int(os.environ.get("PROP_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@example(  # a stored JSON null and an absent key are both null to a JSON filter
    specs=[
        RowSpec("a", "d1", None, {"k": None}, False, False, False),
        RowSpec("b", "d1", None, {}, False, False, False),
    ],
    query_list=[
        Query(None, None, 1, 5, "json", Leaf("metadata.k", "$eq", None)),
        Query(None, None, 1, 5, "json", Leaf("metadata.k", "$ne", None)),
    ],
)
@given(specs=st.lists(row_specs, max_size=10), query_list=st.lists(queries, min_size=3, max_size=8))
async def test_listing_matches_naive_oracle(client, specs, query_list):
    base = f"/apis/intake/v2/workspaces/prop-{uuid.uuid4().hex[:12]}"
    rows = await build_rows(client, base, specs)
    # Every sort, both directions, with and without pinned-first, over all live and all deleted rows,
    # then the random sort/filter/page combinations.
    battery = [
        Query(sort, pinned_first, 1, 1000, "none", None)
        for sort in (*SORT_FIELDS, *("-" + f for f in SORT_FIELDS))
        for pinned_first in (True, False)
    ] + [Query(sort, None, 1, 1000, "bracket", [Leaf("is_deleted", "$eq", True)]) for sort in ("name", "-updated_at")]
    for query in battery + query_list:
        params = to_params(query, resolver(rows))
        response = await client.get(f"{base}/experiments", params=params)
        assert response.status_code == 200, (params, response.text)
        page = response.json()
        expected_ids, total = expected_page(rows, normalise_bracket(query))
        got_ids = [row["id"] for row in page["data"]]
        by_id = {row["id"]: row for row in rows}
        assert got_ids == expected_ids, (
            params,
            [by_id[i]["name"] for i in got_ids],
            [by_id[i]["name"] for i in expected_ids],
        )
        assert page["pagination"] == {
            "page": query.page,
            "page_size": query.page_size,
            "current_page_size": len(expected_ids),
            "total_pages": math.ceil(total / query.page_size),
            "total_results": total,
        }
        assert page["sort"] == (query.sort or "-created_at")
        # Every row on the page is the row as last answered by create/PUT/pin.
        for row in page["data"]:
            assert row == {k: v for k, v in by_id[row["id"]].items() if k != "deleted"}
