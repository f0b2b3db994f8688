"""What the served OpenAPI document holds beyond what FastAPI derives from the routes: the tags'
descriptions, the schemas of bodies a route reads itself, and, when the service runs with
--auth api-key, how to authenticate. Two documents: the root's (/openapi.json) and the /nemo-0.4
mount's (/nemo-0.4/openapi.json), each with its own Swagger UI and ReDoc page."""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import RouteContext, iter_route_contexts
from pydantic import BaseModel

from intake_service.api.evaluations import LIST_SORT
from intake_service.api.ingest import SELF_HOLDING_SCHEMAS
from intake_service.api.openapi_links import declare_links
from intake_service.api.router import NEMO_04
from intake_service.domain import experiment_groups, experiments
from intake_service.domain.annotations import KIND_FIELDS, MAX_NOTE_CHARS
from intake_service.domain.values import NO_NUL
from intake_service.models.generated import HTTPValidationError, SessionsIngestRequest

TAGS: list[dict[str, Any]] = [
    {
        "name": "experiments",
        "description": "A workspace's experiments, with pinning and exact rollups of their sessions.",
    },
    {
        "name": "experiment-groups",
        "description": "Groups of experiments (SDK 0.2.0/0.3.0), with a suggested sort and pareto axes.",
    },
    {
        "name": "evaluations",
        "description": "SDK 0.3.0's view of the runs: evaluations in groups, with per-test-case rollups.",
    },
    {
        "name": "sessions",
        "description": "An experiment's sessions: one run of the agent on one test case.",
    },
    {
        "name": "evaluator-results",
        "description": "Evaluators' verdicts on sessions and spans.",
    },
    {
        "name": "traces",
        "description": "Read what ingest stored: traces, spans, span groups and session aggregates.",
    },
    {
        "name": "annotations",
        "description": "People's labels, scores and notes on sessions, traces and spans.",
    },
    {
        "name": "ingest",
        "description": "Other ways in: ATIF trajectories, OTLP traces and captured chat completions.",
    },
    {
        "name": "admin",
        "description": "API keys. Only a key with intake:admin reaches these routes.",
    },
    {
        "name": "ml-workbench",
        "description": "The ML-workbench API: experiments, runs, step metrics, params, artifacts.",
    },
    {
        "name": "health",
        "description": "Probes for orchestrators and the Prometheus scrape; no key needed.",
    },
]

# Bodies a route reads itself (JSON or NDJSON), referenced from its openapi_extra.
EXTRA_SCHEMAS: tuple[type[BaseModel], ...] = (SessionsIngestRequest,)
# Every operation with a body refuses another media type (api.browser.require_documented_media_type).
UNSUPPORTED_MEDIA_TYPE = {
    "description": "The Content-Type is not one documented for the body",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorDetail"}}},
}


def _declare_415(schema: dict[str, Any]) -> None:
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                operation.setdefault("responses", {}).setdefault("415", UNSUPPORTED_MEDIA_TYPE)


SECURITY_SCHEMES = {
    "ApiKey": {
        "type": "apiKey", "in": "header", "name": "X-API-Key", "description": "A key from: intake-service keys create"
    },
    "Bearer": {"type": "http", "scheme": "bearer", "description": "An API key, or a JWT from the auth proxy."},
}
OPEN_TAGS = {"health"}
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


# The document of the /nemo-0.4 mount (SDK 0.4.0+) words the tags its way: /experiments is the
# container there, and an evaluation belongs to containers. A tag no operation of it uses is left out.
NEMO_04_WORDING = {
    "experiments": "Containers of evaluations (SDK 0.4.0+): the root's experiment groups, with favorite, "
    "over-time display, a baseline evaluation and a saved column layout.",
    "evaluations": "Evaluations (the root's runs) in containers, with per-test-case rollups and their sessions.",
}
NEMO_04_TAGS = [tag | {"description": NEMO_04_WORDING.get(tag["name"], tag["description"])} for tag in TAGS]
NEMO_04_DESCRIPTION = (
    "The intake v2 API as NeMo SDK 0.4.0 and later see it: `NeMoPlatform(base_url=\"http://HOST:PORT/nemo-0.4\")`. "
    "`/experiments` is the container of evaluations (at the root: `/experiment-groups`); every other route is "
    "the root's, on the same data. The root API (SDK 0.1.x to 0.3.0) is documented at [/docs](/docs)."
)
ROOT_DESCRIPTION_SUFFIX = (
    " SDKs 0.1.x to 0.3.0 use this document (`base_url=\"http://HOST:PORT\"`); SDK 0.4.0 and later use the "
    "/nemo-0.4 mount, documented at [/nemo-0.4/docs](/nemo-0.4/docs)."
)


def _complete(schema: dict[str, Any], *, auth: bool) -> dict[str, Any]:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in EXTRA_SCHEMAS:
        model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, nested in model_schema.pop("$defs", {}).items():
            components.setdefault(name, nested)
        components.setdefault(model.__name__, model_schema)
    for name, body_schema in SELF_HOLDING_SCHEMAS.items():
        components.setdefault(name, body_schema)
    _declare_415(schema)
    _no_null_query_values(schema)
    _state_domain_rules(components)
    declare_links(schema)
    # FastAPI's own 422 schema, with the example of the document's (the generated model's).
    if "HTTPValidationError" in components:
        example = HTTPValidationError.model_json_schema()["examples"]
        components["HTTPValidationError"].setdefault("examples", example)
    if auth:
        schema["components"]["securitySchemes"] = SECURITY_SCHEMES
        for item in schema["paths"].values():
            for method in METHODS:
                operation = item.get(method)
                if operation is not None and not OPEN_TAGS & set(operation.get("tags", [])):
                    operation["security"] = [{name: []} for name in SECURITY_SCHEMES]
    return schema


def _under(path: str | None, prefix: str) -> bool:
    return path is not None and (path == prefix or path.startswith(prefix + "/"))


def _used(tags: list[dict[str, Any]], routes: list[RouteContext]) -> list[dict[str, Any]]:
    used = {tag for route in routes if getattr(route, "include_in_schema", False) for tag in route.tags or []}
    return [tag for tag in tags if tag["name"] in used]


def _document(app: FastAPI, *, nemo_04: bool, auth: bool) -> dict[str, Any]:
    # Included routers are expanded to their routes, whose paths carry the mount's prefix.
    routes = [route for route in iter_route_contexts(app.routes) if _under(route.path, NEMO_04) == nemo_04]
    return _complete(
        get_openapi(
            title=f"{app.title} (/nemo-0.4, SDK 0.4.0+)" if nemo_04 else app.title,
            version=app.version,
            openapi_version=app.openapi_version,
            description=NEMO_04_DESCRIPTION if nemo_04 else (app.description or "") + ROOT_DESCRIPTION_SUFFIX,
            routes=routes,
            tags=_used(NEMO_04_TAGS, routes) if nemo_04 else app.openapi_tags,
        ),
        auth=auth,
    )


# Body rules the domain checks itself, with the 400 NeMo's clients expect (a rule in the model would
# make them 422s), stated in the document all the same: (schema, property or None for the whole
# object) → keywords.
NON_EMPTY = {"type": "string", "minLength": 1}
NULL = {"type": "null"}
STRING = {"type": "string"}
_LABEL_VALUE = {
    "allOf": [
        {"if": {"properties": {"value_type": {"const": "numeric"}}},
         "then": {"required": ["value", "name"], "properties": {"value": {"type": "number"}, "name": STRING}},
         "else": {"required": ["value"], "properties": {"value": STRING}}},
    ]
}  # fmt: skip
ANNOTATION_KINDS: dict[str, dict[str, Any]] = {
    "feedback": {"required": ["value"], "properties": {"value": {"enum": ["positive", "negative"]}}},
    "note": {"required": ["text"], "properties": {"text": {**NON_EMPTY, "maxLength": MAX_NOTE_CHARS}}},
    "metadata": {"required": ["metadata"], "properties": {"metadata": {"type": "object", "minProperties": 1}}},
    "label": {"required": ["value_type"], "properties": {"value_type": {"enum": ["text", "numeric"]}}, **_LABEL_VALUE},
}
_KIND_FIELDS = ("value", "text", "metadata", "value_type", "name")


def _kind(kind: str, then: dict[str, Any]) -> dict[str, Any]:
    """If `kind`: what it needs, and null (or absent) for the fields it takes not."""
    others = {field: NULL for field in _KIND_FIELDS if field not in KIND_FIELDS[kind]}
    return {"if": {"properties": {"kind": {"const": kind}}},
            "then": {**then, "properties": {**others, **then["properties"]}}}  # fmt: skip
DOMAIN_RULES: dict[tuple[str, str | None], dict[str, Any]] = {
    # A group's default_sort is a sort the evaluations list takes (domain.experiment_groups).
    ("ExperimentGroupRequest", "default_sort"): LIST_SORT,
    # The same groups as the /nemo-0.4 mount's containers.
    ("ContainerRequest", "default_sort"): LIST_SORT,
    ("ContainerUpdateRequest", "default_sort"): LIST_SORT,
    # An evaluation belongs to a group at least (domain.evaluations.membership). Conditions, not
    # anyOf branches, so the document's properties and required list stay those of the body.
    ("EvaluationRequest", None): {
        "if": {"required": ["experiment_ids"], "properties": {"experiment_ids": {"type": "array", "minItems": 1}}},
        "else": {"required": ["experiment_group_id"], "properties": {"experiment_group_id": NON_EMPTY}},
    },
    # What each data type carries (domain.evaluator_results._check_result).
    ("EvaluatorResultInput", None): {
        "allOf": [
            {
                "if": {"properties": {"data_type": {"enum": ["NUMERIC", "BOOLEAN"]}}},
                "then": {"required": ["value"], "properties": {"value": {"type": "number"}}},
                "else": {"required": ["string_value"], "properties": {"string_value": STRING}},
            },
            {
                "if": {"properties": {"data_type": {"const": "BOOLEAN"}}},
                "then": {"properties": {"value": {"enum": [0, 1]}}},
            },
        ]
    },
    # What each kind of annotation carries (domain.annotations._values; its 422s name the field).
    ("AnnotationInput", None): {"allOf": [_kind(kind, fields) for kind, fields in ANNOTATION_KINDS.items()]},
}


def _state_domain_rules(components: dict[str, Any]) -> None:
    for (name, field), keywords in DOMAIN_RULES.items():
        if name in components:
            target = components[name] if field is None else components[name]["properties"][field]
            target.update(keywords)
    if any(name in components for name in NUL_FREE):
        components.setdefault("StorableJson", STORABLE_JSON)
    for name, fields in NUL_FREE.items():
        if name in components:
            properties = components[name]["properties"]
            for field in set(fields or properties) & set(properties):
                _refuse_nul(properties[field], components)


# Text and JSON the domain refuses with a NUL in it (PostgreSQL cannot hold one; the check_storable
# functions and values.json_problem 422), by model: the fields, or None for every one.
_GROUP_TEXT = (*experiment_groups.TEXT_FIELDS, "column_layout", "metadata")
NUL_FREE: dict[str, tuple[str, ...] | None] = {
    "ExperimentRequest": (*experiments.TEXT_FIELDS, "metadata"),
    "ExperimentGroupRequest": _GROUP_TEXT,
    "ContainerRequest": _GROUP_TEXT,
    "ContainerUpdateRequest": _GROUP_TEXT,
    "EvaluationRequest": None,
    "EvaluationPatchRequest": None,
    "AnnotationInput": None,
    "CreateRequest": ("parameters",),
    "ParamsRequest": ("params",),
}
_STORABLE = {"$ref": "#/components/schemas/StorableJson"}
# A free-form JSON value as jsonb stores it: no NUL in a key or a string, at any depth.
STORABLE_JSON = {
    "description": "Any JSON value without a NUL (U+0000) in its keys and strings, at any depth.",
    "anyOf": [
        {"type": "string", "pattern": NO_NUL}, {"type": ["number", "boolean", "null"]},
        {"type": "array", "items": _STORABLE},
        {"type": "object", "propertyNames": {"pattern": NO_NUL}, "additionalProperties": _STORABLE},
    ],
}  # fmt: skip


def _refuse_nul(schema: dict[str, Any], components: dict[str, Any]) -> None:
    """NO_NUL on every string the schema holds (through anyOf, array items, properties and $refs)
    that states no pattern or enum of its own, and on an object's keys; free-form values become
    StorableJson."""
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    for branch in schema.get("anyOf", []):
        _refuse_nul(branch, components)
    if schema.get("type") == "string" and not {"pattern", "enum", "const"} & set(schema):
        schema["pattern"] = NO_NUL
    if isinstance(schema.get("items"), dict):
        _refuse_nul(schema["items"], components)
    for value in schema.get("properties", {}).values():
        _refuse_nul(value, components)
    if not {"type", "anyOf", "allOf", "oneOf", "$ref", "enum", "const"} & set(schema):  # any JSON value
        schema.update(_STORABLE)
    if schema.get("type") == "object" and "additionalProperties" in schema:
        schema.setdefault("propertyNames", {"pattern": NO_NUL})
        extra = schema["additionalProperties"]
        if extra is True or extra == {}:  # free-form values
            schema["additionalProperties"] = _STORABLE
        elif isinstance(extra, dict):
            _refuse_nul(extra, components)


def _no_null_query_values(schema: dict[str, Any]) -> None:
    """A query parameter is present with a text value or absent: it cannot be null, so FastAPI's
    `anyOf: [..., {type: null}]` for an optional one would let a client send an empty value the
    route refuses. The null branch goes; a lone remaining branch is merged into the schema. Nor can
    a query value hold a NUL (api.guards.refuse_nul): a text value without a pattern gets NO_NUL."""
    for item in schema["paths"].values():
        for method in METHODS:
            for parameter in item.get(method, {}).get("parameters", []):
                value = parameter.get("schema", {})
                if parameter.get("in") != "query":
                    continue
                if "anyOf" in value:
                    branches = [branch for branch in value["anyOf"] if branch.get("type") != "null"]
                    if len(branches) == 1:
                        del value["anyOf"]
                        value.update({**branches[0], **value})
                    else:
                        value["anyOf"] = branches
                if value.get("type") == "string" and not {"pattern", "enum", "const"} & set(value):
                    value["pattern"] = NO_NUL


def complete_openapi(app: FastAPI, *, auth: bool) -> Callable[[], dict[str, Any]]:
    """The root document: every route but those of the /nemo-0.4 mount (see nemo_04_openapi)."""

    def openapi() -> dict[str, Any]:
        if not app.openapi_schema:
            app.openapi_schema = _document(app, nemo_04=False, auth=auth)
        return app.openapi_schema

    return openapi


def nemo_04_openapi(app: FastAPI, *, auth: bool) -> Callable[[], dict[str, Any]]:
    """The document of the /nemo-0.4 mount, served at /nemo-0.4/openapi.json."""
    cached: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        if not cached:
            cached.update(_document(app, nemo_04=True, auth=auth))
        return cached

    return openapi
