"""Schemas the served OpenAPI document needs beyond what FastAPI derives from the routes."""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from intake_service.models.generated import SessionsIngestRequest

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


def with_extra_schemas(app: FastAPI) -> Callable[[], dict[str, Any]]:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in EXTRA_SCHEMAS:
            model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, nested in model_schema.pop("$defs", {}).items():
                components.setdefault(name, nested)
            components.setdefault(model.__name__, model_schema)
        _declare_415(schema)
        return schema

    return openapi
