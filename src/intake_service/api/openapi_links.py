"""OpenAPI links: where a response names what a later call takes, the document says so, so that a
client (and schemathesis's stateful phase) can go from a created object to the calls on it.

Two rules, applied to either document:
- a POST that creates an object in a collection links to every operation under `<collection>/{param}`,
  the parameter taken from the field of the created object that names it (NAMED_BY), the other path
  parameters from the request;
- an ingest that answers with the session or span it stored links to the reads of that session or
  span in the same workspace (STORED).
"""

from typing import Any

METHODS = ("get", "put", "post", "delete", "patch")
# Path parameter → where the created object holds its value (a JSON pointer into the response body).
NAMED_BY = {
    "name": "/name",
    "id": "/id",
    "key_name": "/key/name",
    "annotation_id": "/annotation_id",
    "evaluator_result_id": "/evaluator_result_id",
}
# Field of an ingest's answer → the workspace path that reads it, and the parameter it fills there.
STORED = {"session_id": ("/sessions/{id}", "id"), "span_id": ("/spans/{span_id}", "span_id")}
INGEST = "/ingest/"


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _holds(schema: dict[str, Any], pointer: str, components: dict[str, Any]) -> bool:
    """Whether the object the schema describes has a property at `pointer` (/a/b)."""
    for field in pointer.strip("/").split("/"):
        properties = _resolve(schema, components).get("properties", {})
        if field not in properties:
            return False
        schema = properties[field]
    return True


def _created(operation: dict[str, Any], components: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """(status, body schema) of the operation's 2xx JSON answer, if it has one."""
    for status, response in operation.get("responses", {}).items():
        schema = response.get("content", {}).get("application/json", {}).get("schema")
        if status.startswith("2") and schema is not None:
            return status, _resolve(schema, components)
    return None


def _path_parameters(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{") and part.endswith("}")]


def _operations_under(paths: dict[str, Any], prefix: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, item[method])
        for path, item in paths.items()
        if path == prefix or path.startswith(prefix + "/")
        for method in METHODS
        if method in item
    ]


def _link(source: str, target_path: str, target: dict[str, Any], filled: dict[str, str]) -> dict[str, Any]:
    parameters = {
        f"path.{name}": filled.get(name, f"$request.path.{name}")
        for name in _path_parameters(target_path)
        if name in filled or name in _path_parameters(source)
    }
    described = ", ".join(f"{name} from {value}" for name, value in parameters.items())
    return {"operationId": target["operationId"], "parameters": parameters, "description": described}


def _links_of(
    path: str, body: dict[str, Any], paths: dict[str, Any], components: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    links: dict[str, dict[str, Any]] = {}
    for target_path, _, target in _operations_under(paths, path):
        tail = target_path[len(path) + 1 :].split("/", 1)[0]
        name = tail[1:-1] if tail.startswith("{") and tail.endswith("}") else None
        if name in NAMED_BY and _holds(body, NAMED_BY[name], components):
            filled = {name: f"$response.body#{NAMED_BY[name]}"}
            links[target["operationId"]] = _link(path, target_path, target, filled)
    if INGEST in path:
        base = path[: path.index(INGEST)]
        for field, (suffix, name) in STORED.items():
            if _holds(body, f"/{field}", components):
                for target_path, _, target in _operations_under(paths, base + suffix):
                    filled = {name: f"$response.body#/{field}"}
                    links[target["operationId"]] = _link(path, target_path, target, filled)
    return links


def declare_links(schema: dict[str, Any]) -> None:
    """Adds the links of both rules to the 2xx answers of the document's POST operations."""
    paths = schema.get("paths", {})
    components = schema.get("components", {}).get("schemas", {})
    for path, item in paths.items():
        operation = item.get("post")
        created = operation and _created(operation, components)
        if not created:
            continue
        status, body = created
        if links := _links_of(path, body, paths, components):
            operation["responses"][status].setdefault("links", {}).update(links)
