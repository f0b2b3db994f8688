"""One pydantic TypeAdapter per distinct field across all routes.

FastAPI builds a TypeAdapter (a core schema, then a validator and a serializer in Rust) for every
parameter, body and response model of every route, once per mount: about 2,700 at start-up, most of
the route builds' CPU, though only about 550 differ (the workspace path parameter, the paging
queries, one model on both mounts). FastAPI (0.165) makes a field's adapter from nothing but the
field's annotation, metadata and attributes and its config, and only reads it afterwards; here
fields whose inputs are equal share the adapter FastAPI built for the first of them. A field with an
input that cannot be compared (unhashable) gets its own, as before; so does every field of a FastAPI
that does not build them this way (nothing is installed then).
"""

import importlib
from typing import Any

_adapters: dict[object, Any] = {}


def _key(value: Any) -> object:
    """A hashable stand-in equal only for equal values of the same types (1, 1.0 and True differ).
    TypeError when there is none."""
    if isinstance(value, list | tuple):
        return (type(value), tuple(_key(item) for item in value))
    if isinstance(value, dict):
        return (dict, tuple((name, _key(item)) for name, item in value.items()))
    hash(value)
    return (type(value), value)


def _inputs(field: dict[str, Any], config: object) -> object:
    """Everything an adapter is made of. The annotation and metadata also by their text: a Ge(1)
    equals a Ge(1.0) (so do Annotated types holding them), but their error messages differ."""
    annotation, metadata = field["annotation"], field["metadata"]
    typed = (annotation, repr(annotation), tuple((_key(item), repr(item)) for item in metadata))
    return (typed, _key(field["attributes"]), _key(config))


def install() -> None:
    """From now on, FastAPI's fields share adapters (before the routers are declared: at import)."""
    try:
        v2 = importlib.import_module("fastapi._compat.v2")
        model_field, asdict = v2.ModelField, v2.asdict
    except (ImportError, AttributeError):
        return
    build = model_field.__post_init__
    if getattr(build, "shares_adapters", False):
        return

    def shared(field: Any) -> None:
        try:
            key = _inputs(asdict(field.field_info), field.config)
            adapter = _adapters.get(key)
        except TypeError:
            key, adapter = None, None
        if adapter is not None:
            field._type_adapter = adapter
            return
        build(field)
        if key is not None:
            _adapters[key] = field._type_adapter

    shared.shares_adapters = True  # type: ignore[attr-defined]
    model_field.__post_init__ = shared
