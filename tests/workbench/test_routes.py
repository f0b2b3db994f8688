"""/compare, /stats and /register are routes, never ids; an id can never take their names; the API
shows in OpenAPI and Swagger UI under its own tag beside intake v2."""

from support import WORKBENCH_API as API
from support import create_in_workbench, ok, problem


async def test_fixed_words_are_never_ids(wb) -> None:
    # Experiments named like the routes, and ids whose prefix could be read as them.
    for word in ("compare", "stats", "register"):
        await create_in_workbench(wb, name=word)
    stats = ok(await wb.get(f"{API}/stats"))
    assert (
        set(stats) == {"total", "draft", "pending", "running", "completed", "failed", "pinned"} and stats["total"] == 3
    )
    compare = await wb.get(f"{API}/compare")
    assert problem(compare, 422) == "query parameter 'ids' is required."
    registered = ok(await wb.post(f"{API}/register", json={"name": "stats"}))
    assert registered["exists"] is True and registered["name"] == "stats"
    # Under the other methods the words are not ids (nor id prefixes) either, even with a run whose id
    # starts with one: the word takes only its own methods, and a 405 lists them (issue 11).
    await create_in_workbench(wb, experiment_name="stats", run_id="stats-run")
    for method, word, allow in (("PUT", "stats", "GET, OPTIONS"), ("DELETE", "compare", "GET, OPTIONS"),
                                ("GET", "register", "OPTIONS, POST")):  # fmt: skip
        response = await wb.request(method, f"{API}/{word}", json={"name": "x"} if method == "PUT" else None)
        assert response.status_code == 405 and response.headers["allow"] == allow, (method, word, response.text)
    assert problem(await wb.post(f"{API}/stats/pin"), 404) == "Experiment 'stats' not found."
    assert ok(await wb.get(f"{API}/stats-"))["id"] == "stats-run"
    assert ok(await wb.get(f"{API}/stats"))["total"] == 3


async def test_run_ids_may_not_take_route_words(wb) -> None:
    for word in ("compare", "stats", "register"):
        detail = problem(await wb.post(API, json={"name": f"run-{word}", "run_id": word}), 422)
        assert detail == f"run_id '{word}' is reserved; choose another."
    assert (
        problem(await wb.post(API, json={"name": "r", "run_id": "exp_123"}), 422)
        == "run_id 'exp_123' is reserved; choose another."
    )
    assert problem(await wb.post(API, json={"name": "r", "run_id": "a/b"}), 422).startswith("run_id must be")
    assert ok(await wb.get(f"{API}/stats"))["total"] == 0


async def test_compare_needs_two_to_twenty_known_ids(wb) -> None:
    one = (await create_in_workbench(wb, name="one"))["id"]
    two = (await create_in_workbench(wb, name="two"))["id"]
    assert problem(await wb.get(f"{API}/compare", params={"ids": one}), 422) == (
        "ids must list 2 to 20 experiment ids separated by commas; got 1."
    )
    assert "got 21" in problem(await wb.get(f"{API}/compare", params={"ids": ",".join([one] * 21)}), 422)
    assert problem(await wb.get(f"{API}/compare", params={"ids": f"{one},exp_missing"}), 404) == (
        "Experiment 'exp_missing' not found."
    )
    compared = ok(await wb.get(f"{API}/compare", params={"ids": f"{two}, {one}"}))
    assert [e["id"] for e in compared["experiments"]] == [two, one]
    assert compared["parameterDiff"] == {}
    assert all(
        e["bestRunId"] is None and e["bestMetrics"] == {} and e["runCount"] == 0 for e in compared["experiments"]
    )


async def test_trailing_slash_is_the_collection(wb) -> None:
    ok(await wb.post(f"{API}/", json={"name": "slash"}), 201)
    assert ok(await wb.get(f"{API}/"))["count"] == 1


async def test_openapi_shows_v1_under_its_own_tag(client) -> None:
    document = ok(await client.get("/openapi.json"))
    workbench = {path: item for path, item in document["paths"].items() if path.startswith(API)}
    expected = {
        API: {"get", "post"},
        f"{API}/compare": {"get"},
        f"{API}/stats": {"get"},
        f"{API}/register": {"post"},
        f"{API}/{{id}}": {"get", "put", "delete"},
        f"{API}/{{id}}/pin": {"post"},
        f"{API}/{{id}}/tags": {"put"},
        f"{API}/{{id}}/metrics": {"get", "post"},
        f"{API}/{{id}}/params": {"post"},
        f"{API}/{{id}}/artifacts": {"get", "post"},
        f"{API}/{{id}}/artifacts/content": {"get"},
    }
    assert {path: set(item) for path, item in workbench.items()} == expected
    assert all(op["tags"] == ["ml-workbench"] for item in workbench.values() for op in item.values())
    intake = [
        op for path, item in document["paths"].items() if path.startswith("/apis/intake/v2/") for op in item.values()
    ]
    assert intake and all("ml-workbench" not in op.get("tags", []) for op in intake)
    docs = await client.get("/docs")
    assert docs.status_code == 200 and "/openapi.json" in docs.text


async def test_compare_takes_params_holding_integers_beyond_64_bits(wb) -> None:
    """Stored params may nest integers orjson cannot write; comparing them was a 500."""
    big = 2**64
    run = {"run_name": "r", "final_metrics": {"acc": 0.5}}
    one = await create_in_workbench(wb, name="big-one", parameters={"depth": [big]}, **run)
    two = await create_in_workbench(wb, name="big-two", parameters={"depth": [big + 1]}, **run)
    compared = ok(await wb.get(f"{API}/compare", params={"ids": f"{one['id']},{two['id']}"}))
    assert compared["parameterDiff"] == {"depth": [[big], [big + 1]]}
