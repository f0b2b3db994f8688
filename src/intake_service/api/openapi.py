"""Schemas the served OpenAPI document needs beyond what FastAPI derives from the routes."""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from intake_service.models.generated import SessionsIngestRequest

# Bodies a route reads itself (JSON or NDJSON), referenced from its openapi_extra.
EXTRA_SCHEMAS: tuple[type[BaseModel], ...] = (SessionsIngestRequest,)


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
        return schema

    return openapi
