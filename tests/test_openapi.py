"""The served API matches its source document, openapi/intake-v2.yaml.

- the generated models are exactly what scripts/generate-models.sh makes from the document;
- the app's /openapi.json has every path, method, operationId, status code, parameter and schema
  property of the document (the app may serve more, never less);
- Swagger UI and ReDoc load their assets from this server, not from a CDN.
"""

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT_PATH = ROOT / "openapi" / "intake-v2.yaml"
GENERATED = ROOT / "src" / "intake_service" / "models" / "generated.py"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")

DOCUMENT: dict[str, Any] = yaml.safe_load(DOCUMENT_PATH.read_text())
OPERATIONS = [(path, method) for path, item in DOCUMENT["paths"].items() for method in METHODS if method in item]


def test_generated_models_are_up_to_date(tmp_path: Path) -> None:
    out = tmp_path / "generated.py"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "generate-models.sh"), str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert out.read_text() == GENERATED.read_text(), (
        "src/intake_service/models/generated.py differs from what openapi/intake-v2.yaml generates; "
        "run scripts/generate-models.sh and commit the result (never edit the module by hand)."
    )


# --- comparing two OpenAPI documents -------------------------------------------------------------


def resolve(doc: dict[str, Any], node: Any) -> Any:
    """Follow local $refs (#/components/...) until a non-reference node."""
    seen: set[str] = set()
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/") and ref not in seen, f"unresolvable $ref {ref!r}"
        seen.add(ref)
        node = doc
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


class Shape:
    """What one schema says about structure: properties, required names, items, map values.
    anyOf/oneOf/allOf branches are merged, so `{"anyOf": [{"$ref": X}, {"type": "null"}]}` and
    `{"type": ["string", "null"]}` compare by what their non-null branches hold."""

    def __init__(self, doc: dict[str, Any], schema: Any) -> None:
        self.properties: dict[str, Any] = {}
        self.required: set[str] = set()
        self.items: list[Any] = []
        self.values: list[Any] = []
        self._collect(doc, schema)

    def _collect(self, doc: dict[str, Any], schema: Any) -> None:
        schema = resolve(doc, schema)
        if not isinstance(schema, dict):
            return
        for key in ("anyOf", "oneOf", "allOf"):
            for branch in schema.get(key, []):
                self._collect(doc, branch)
        for name, prop in schema.get("properties", {}).items():
            self.properties.setdefault(name, prop)
        self.required |= set(schema.get("required", []))
        if "items" in schema:
            self.items.append(schema["items"])
        if isinstance(schema.get("additionalProperties"), dict):
            self.values.append(schema["additionalProperties"])


def schema_gaps(
    expected_doc: dict[str, Any],
    expected: Any,
    served_doc: dict[str, Any],
    served: Any,
    where: str,
    seen: set[tuple[int, int]] | None = None,
) -> list[str]:
    """Everything the expected schema has that the served one lacks, as readable lines."""
    seen = set() if seen is None else seen
    key = (id(resolve(expected_doc, expected)), id(resolve(served_doc, served)))
    if key in seen:
        return []
    seen.add(key)
    want, got = Shape(expected_doc, expected), Shape(served_doc, served)
    gaps: list[str] = []
    for name, prop in want.properties.items():
        if name not in got.properties:
            gaps.append(f"{where}: property {name!r} is missing")
            continue
        gaps += schema_gaps(expected_doc, prop, served_doc, got.properties[name], f"{where}.{name}", seen)
    if want.required != got.required and want.properties:
        gaps.append(f"{where}: required {sorted(want.required)} but served {sorted(got.required)}")
    for label, wanted, served_list in (("[]", want.items, got.items), ("{*}", want.values, got.values)):
        for item in wanted:
            if not served_list:
                gaps.append(f"{where}{label}: missing")
            else:
                gaps += schema_gaps(expected_doc, item, served_doc, served_list[0], f"{where}{label}", seen)
    return gaps


def operation_gaps(served_doc: dict[str, Any], path: str, method: str) -> list[str]:
    if path not in served_doc.get("paths", {}):
        return [f"path {path} is not served"]
    served_item = served_doc["paths"][path]
    if method not in served_item:
        return [f"{method.upper()} {path} is not served"]
    want_op, got_op = DOCUMENT["paths"][path][method], served_item[method]
    gaps: list[str] = []
    if want_op.get("operationId") != got_op.get("operationId"):
        gaps.append(f"operationId {got_op.get('operationId')!r}, expected {want_op.get('operationId')!r}")

    if "requestBody" in want_op:
        want_body = resolve(DOCUMENT, want_op["requestBody"])
        got_body = resolve(served_doc, got_op.get("requestBody", {}))
        if not got_body:
            gaps.append("request body is not declared")
        elif want_body.get("required", False) != got_body.get("required", False):
            gaps.append(
                f"request body required={got_body.get('required', False)}, expected {want_body.get('required')}"
            )
        for media, content in want_body.get("content", {}).items():
            served_content = got_body.get("content", {}).get(media) if got_body else None
            if served_content is None:
                gaps.append(f"request body media type {media} is not declared")
            elif "schema" in content:
                gaps += schema_gaps(
                    DOCUMENT, content["schema"], served_doc, served_content.get("schema", {}), f"request {media}"
                )

    for status, want_response in want_op.get("responses", {}).items():
        got_response = got_op.get("responses", {}).get(str(status))
        if got_response is None:
            gaps.append(f"status {status} is not declared")
            continue
        want_response, got_response = resolve(DOCUMENT, want_response), resolve(served_doc, got_response)
        for media, content in want_response.get("content", {}).items():
            served_content = got_response.get("content", {}).get(media)
            if served_content is None:
                gaps.append(f"response {status} media type {media} is not declared")
            elif "schema" in content:
                gaps += schema_gaps(
                    DOCUMENT, content["schema"], served_doc, served_content.get("schema", {}), f"response {status}"
                )

    served_params = {
        (p["name"], p["in"])
        for p in (resolve(served_doc, p) for p in [*served_item.get("parameters", []), *got_op.get("parameters", [])])
    }
    for param in [*DOCUMENT["paths"][path].get("parameters", []), *want_op.get("parameters", [])]:
        param = resolve(DOCUMENT, param)
        if (param["name"], param["in"]) not in served_params:
            gaps.append(f"{param['in']} parameter {param['name']!r} is not declared")
    return gaps


@pytest.fixture
async def served(client) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


async def test_every_document_path_is_served(served: dict[str, Any]) -> None:
    missing = sorted(set(DOCUMENT["paths"]) - set(served["paths"]))
    assert not missing, f"paths of openapi/intake-v2.yaml that the app does not serve: {missing}"


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m.upper()} {p}" for p, m in OPERATIONS])
async def test_served_operation_matches_document(served: dict[str, Any], path: str, method: str) -> None:
    gaps = operation_gaps(served, path, method)
    assert not gaps, f"{method.upper()} {path}:\n  " + "\n  ".join(gaps)


async def test_operation_ids_are_unique(served: dict[str, Any]) -> None:
    ids = [op["operationId"] for item in served["paths"].values() for m, op in item.items() if m in METHODS]
    assert len(ids) == len(set(ids))


# --- offline documentation pages -------------------------------------------------------------------

ASSET = re.compile(r"""<(?:script|link)\b[^>]*?\b(?:src|href)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
REMOTE = re.compile(r"""(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}""", re.IGNORECASE)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_pages_load_only_local_assets(client, page: str) -> None:
    response = await client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assets = ASSET.findall(html)
    assert any(a.endswith(".js") for a in assets), f"no script found on {page}: {assets}"
    remote = [a for a in assets if REMOTE.match(a)]
    assert not remote, f"{page} loads assets from the internet: {remote}"
    # Nothing else on the page (inline scripts, fonts) may point at a CDN either.
    assert not re.search(r"https?://[^\s\"'<>]+\.(?:js|css|woff2?|ttf)\b", html), html
    for asset in assets:
        fetched = await client.get(asset)
        assert fetched.status_code == 200, f"{page} references {asset}, which answers {fetched.status_code}"
        assert fetched.content, f"{asset} is empty"


# --- what a reader of the served document finds (issue 10) ------------------------------------------


def media_has_example(doc: dict[str, Any], media: dict[str, Any]) -> bool:
    """An example on the media type, or on its schema (for an array: on its items; for a union: on
    every branch), so Swagger UI shows real-looking values."""
    if "example" in media or "examples" in media:
        return True

    def described(schema: Any) -> bool:
        schema = resolve(doc, schema)
        if not isinstance(schema, dict):
            return False
        if "example" in schema or schema.get("examples"):
            return True
        branches = schema.get("anyOf") or schema.get("oneOf")
        if branches:
            return all(described(b) for b in branches if resolve(doc, b).get("type") != "null")
        return schema.get("type") == "array" and described(schema.get("items"))

    return described(media.get("schema"))


def documentation_gaps(doc: dict[str, Any]) -> list[str]:
    gaps: list[str] = []
    described_tags = {t["name"] for t in doc.get("tags", []) if t.get("description")}
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method not in item:
                continue
            op, where = item[method], f"{method.upper()} {path}"
            if not op.get("description"):
                gaps.append(f"{where}: no description")
            if len(op.get("tags", [])) != 1:
                gaps.append(f"{where}: tags {op.get('tags')} (one expected)")
            gaps += [f"{where}: tag {t!r} has no description" for t in op.get("tags", []) if t not in described_tags]
            for param in (resolve(doc, p) for p in [*item.get("parameters", []), *op.get("parameters", [])]):
                if not param.get("description"):
                    gaps.append(f"{where}: parameter {param['in']} {param['name']!r} has no description")
            body = resolve(doc, op.get("requestBody", {}))
            for media_type, media in body.get("content", {}).items():
                if not media_has_example(doc, media):
                    gaps.append(f"{where}: request body {media_type} has no example")
            for status, response in op.get("responses", {}).items():
                for media_type, media in resolve(doc, response).get("content", {}).items():
                    if not media_has_example(doc, media):
                        gaps.append(f"{where}: response {status} {media_type} has no example")
    return gaps


async def test_every_operation_parameter_tag_and_body_is_documented(served: dict[str, Any]) -> None:
    gaps = documentation_gaps(served)
    assert not gaps, "\n".join(gaps)


async def test_health_and_metrics_are_documented(served: dict[str, Any]) -> None:
    for path in ("/health/live", "/health/ready", "/metrics"):
        assert served["paths"][path]["get"]["tags"] == ["health"], path


async def test_no_operation_is_listed_under_two_tags(served: dict[str, Any]) -> None:
    doubled = [
        f"{m.upper()} {p}: {op['tags']}"
        for p, item in served["paths"].items() for m, op in item.items() if m in METHODS and len(op.get("tags", [])) > 1
    ]  # fmt: skip
    assert not doubled


def test_list_grammar_help_names_every_field_and_operator() -> None:
    from intake_service.api.experiments import FILTER_HELP, SORT_HELP
    from intake_service.domain import filters, listing, rollup_metrics

    for name in (*filters.STRING_FIELDS, *filters.DATETIME_FIELDS, *filters.BOOL_FIELDS, "metadata.<key>"):
        assert name in FILTER_HELP, name
    for op in (*filters.LEAF_OPS, "$and", "$or", "$not"):
        assert op in FILTER_HELP, op
    for name in (*listing.COLUMN_SORTS, *(m.path_form for m in rollup_metrics.METRICS), *rollup_metrics.STATS):
        assert name in SORT_HELP, name
