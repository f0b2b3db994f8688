"""The OpenAPI links of both served documents (api/openapi_links.py): each names an operation of its
document, fills every path parameter of it from what the source request or response really holds,
and following it from a real response reaches the object just created."""

import uuid
from typing import Any

import httpx
import pytest
from test_openapi import resolve

DOCUMENTS = ("/openapi.json", "/nemo-0.4/openapi.json")
METHODS = ("get", "put", "post", "delete", "patch")
WS = "/apis/intake/v2/workspaces/{workspace}"


def operations(doc: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """operationId → (path, method, operation)."""
    return {
        op["operationId"]: (path, method, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in METHODS
    }


def path_parameters(path: str) -> set[str]:
    return {part[1:-1] for part in path.split("/") if part.startswith("{")}


def links(doc: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(source path, method, status, link) for every link of the document."""
    return [
        (path, method, status, link)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in METHODS
        for status, response in op["responses"].items()
        for link in response.get("links", {}).values()
    ]


def pointer_in_schema(doc: dict[str, Any], schema: dict[str, Any], pointer: str) -> bool:
    for field in pointer.strip("/").split("/"):
        properties = resolve(doc, schema).get("properties", {})
        if field not in properties:
            return False
        schema = properties[field]
    return True


def link_gaps(doc: dict[str, Any]) -> list[str]:
    ops = operations(doc)
    gaps = []
    for path, method, status, link in links(doc):
        where = f"{method.upper()} {path} {status} → {link['operationId']}"
        if link["operationId"] not in ops:
            gaps.append(f"{where}: no such operation")
            continue
        target_path = ops[link["operationId"]][0]
        filled = {key.removeprefix("path."): value for key, value in link["parameters"].items()}
        if set(filled) != path_parameters(target_path):
            gaps.append(f"{where}: fills {sorted(filled)}, the path takes {sorted(path_parameters(target_path))}")
        body = doc["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
        for value in filled.values():
            if value.startswith("$request.path."):
                ok = value.removeprefix("$request.path.") in path_parameters(path)
            else:
                ok = value.startswith("$response.body#/") and pointer_in_schema(
                    doc, body, value.removeprefix("$response.body#")
                )
            if not ok:
                gaps.append(f"{where}: {value} is not in the source request or response")
    return gaps


@pytest.mark.parametrize("document", DOCUMENTS)
async def test_every_link_names_an_operation_and_fills_its_path(client: httpx.AsyncClient, document: str) -> None:
    doc = (await client.get(document)).json()
    assert links(doc)
    assert not link_gaps(doc), "\n".join(link_gaps(doc))


def targets(doc: dict[str, Any], path: str) -> set[tuple[str, str]]:
    """(method, path) of the operations the POST at `path` links to."""
    ops = operations(doc)
    found = set()
    for source, method, _, link in links(doc):
        if source == path and method == "post":
            target_path, target_method, _ = ops[link["operationId"]]
            found.add((target_method, target_path))
    return found


async def test_created_objects_link_to_the_calls_on_them(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/openapi.json")).json()
    experiment = f"{WS}/experiments/{{name}}"
    assert targets(doc, f"{WS}/experiments") == {
        ("get", experiment), ("put", experiment), ("delete", experiment), ("post", f"{experiment}/pin"),
        ("delete", f"{experiment}/pin"), ("post", f"{experiment}/sessions"), ("get", f"{experiment}/sessions"),
        ("get", f"{experiment}/compare"),
    }  # fmt: skip
    group = f"{WS}/experiment-groups/{{name}}"
    assert targets(doc, f"{WS}/experiment-groups") == {("get", group), ("put", group), ("delete", group)}
    evaluation = f"{WS}/evaluations/{{name}}"
    assert {("patch", evaluation), ("post", f"{evaluation}/pin"), ("get", f"{evaluation}/sessions")} <= targets(
        doc, f"{WS}/evaluations"
    )
    assert targets(doc, "/apis/intake/v2/admin/keys") == {("delete", "/apis/intake/v2/admin/keys/{key_name}")}
    assert ("get", f"{WS}/sessions/{{id}}") in targets(doc, f"{WS}/ingest/atif")
    mount = (await client.get("/nemo-0.4/openapi.json")).json()
    container = f"/nemo-0.4{WS}/experiments/{{name}}"
    expected = {("get", container), ("put", container), ("delete", container)}
    assert targets(mount, f"/nemo-0.4{WS}/experiments") == expected


def example_of(doc: dict[str, Any], media: dict[str, Any]) -> dict[str, Any]:
    if "example" in media:
        return media["example"]
    if "examples" in media:
        return next(iter(media["examples"].values()))["value"]
    return resolve(doc, media["schema"])["examples"][0]


def follow(link: dict[str, Any], request_path: dict[str, str], body: dict[str, Any], target_path: str) -> str:
    """The target's URL, the link's expressions evaluated against a real request and response."""
    url = target_path
    for key, value in link["parameters"].items():
        if value.startswith("$request.path."):
            filled = request_path[value.removeprefix("$request.path.")]
        else:
            filled = body
            for field in value.removeprefix("$response.body#/").split("/"):
                filled = filled[field]
        url = url.replace("{" + key.removeprefix("path.") + "}", str(filled))
    return url


@pytest.mark.parametrize("document", DOCUMENTS)
async def test_following_a_link_reaches_what_was_created(
    client: httpx.AsyncClient, workspace: str, document: str
) -> None:
    """Each POST's documented example, then every GET it links to (without required query values)."""
    doc = (await client.get(document)).json()
    ops = operations(doc)
    followed = 0
    group_id = ""
    if document.startswith("/nemo-0.4"):  # the mount creates no root experiment; the examples name exp-a
        body = {"name": "exp-a", "dataset_name": "d"}
        assert (await client.post(f"{WS.format(workspace=workspace)}/experiments", json=body)).status_code == 201
    sources = [(path, item["post"]) for path, item in doc["paths"].items() if "post" in item]
    for path, op in sources:
        status, response = next(((s, r) for s, r in op["responses"].items() if r.get("links")), (None, None))
        if status is None:
            continue
        # The examples name each other (exp-a, run-0007) but for a group's id and a key's workspaces.
        example = example_of(doc, op["requestBody"]["content"]["application/json"])
        if "experiment_ids" in example:
            example = {**example, "experiment_ids": [group_id]}
        if path.endswith("/admin/keys"):
            example = {**example, "name": f"k-{uuid.uuid4().hex[:6]}", "workspaces": [workspace]}
        created = await client.post(path.replace("{workspace}", workspace), json=example)
        assert created.status_code == int(status), f"POST {path}: {created.text}"
        if "is_favorite" in created.json():  # a group (the /nemo-0.4 mount's container)
            group_id = created.json()["id"]
        for link in response["links"].values():
            target_path, method, target = ops[link["operationId"]]
            required_query = [p for p in target.get("parameters", []) if p.get("in") == "query" and p.get("required")]
            if method != "get" or required_query:
                continue
            url = follow(link, {"workspace": workspace}, created.json(), target_path)
            reached = await client.get(url)
            assert reached.status_code == 200, f"{link['operationId']} from POST {path}: {url} {reached.text}"
            followed += 1
    # Every GET link but those whose target needs a query value (an artifact's path, a metric's key).
    assert followed == (9 if document == "/nemo-0.4/openapi.json" else 14)
