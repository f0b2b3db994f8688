"""What FastAPI's route builds share: pydantic adapters and the endpoints' signatures.

FastAPI builds every route when it is declared and again for each mount it is served at (at the
first request), and each build makes a pydantic TypeAdapter (a core schema, then a validator and a
serializer in Rust) for every parameter, body and response model, and reads the signature of the
endpoint and of every dependency again: about 1,470 adapters at start-up, most of the builds' CPU,
though only about 130 differ (the workspace path parameter, the paging queries, one model on both
mounts), and some 1,200 signatures of about 100 callables.

FastAPI (0.165) makes a field's adapter from nothing but the field's annotation, metadata and
attributes and its config, and only reads it afterwards: fields whose inputs are equal share the
adapter FastAPI built for the first of them (a field with an input that cannot be compared,
unhashable, gets its own, as before). A callable's typed signature is read once. Nothing is
installed on a FastAPI that does not build routes this way.

FastAPI also imports pydantic.v1 (a second pydantic, ~11 ms of the start-up's CPU) at the first route
only to refuse v1 models; no v1 model class or instance exists before pydantic.v1 is imported, so the
check is made once it is.
"""

import importlib
import sys
from collections.abc import Callable
from typing import Any

_adapters: dict[object, Any] = {}
_signatures: dict[object, Any] = {}
_installed = False
# Compared together with their type: 1, 1.0 and True are equal but not the same input.
_SCALARS = frozenset({type(None), bool, int, float, str})


def _key(value: Any) -> object:
    """A hashable stand-in equal only for equal values of the same types. TypeError when there is none."""
    kind = type(value)
    if kind in _SCALARS:
        return (kind, value)
    if isinstance(value, list | tuple):
        return (kind, tuple(_key(item) for item in value))
    if isinstance(value, dict):
        return (dict, tuple((name, _key(item)) for name, item in value.items()))
    hash(value)
    return (kind, value)


def _inputs(field: dict[str, Any], config: object, mode: str) -> object:
    """Everything an adapter is made of, and the field's mode (FastAPI does not use it for the
    adapter today). The annotation and metadata also by their text: a Ge(1) equals a Ge(1.0) (so do
    Annotated types holding them), but their error messages differ."""
    annotation, metadata = field["annotation"], field["metadata"]
    typed = (annotation, repr(annotation), tuple((_key(item), repr(item)) for item in metadata))
    return (typed, _key(field["attributes"]), _key(config), mode)


def _share_adapters(model_field: Any, asdict: Callable[[Any], dict[str, Any]]) -> None:
    build = model_field.__post_init__

    def shared(field: Any) -> None:
        try:
            key = _inputs(asdict(field.field_info), field.config, field.mode)
            adapter = _adapters.get(key)
        except TypeError:
            key, adapter = None, None
        if adapter is not None:
            field._type_adapter = adapter
            return
        build(field)
        if key is not None:
            _adapters[key] = field._type_adapter

    model_field.__post_init__ = shared


def _share_signatures(dependencies: Any) -> None:
    read = dependencies.get_typed_signature

    def once(call: Callable[..., Any]) -> Any:
        try:
            return _signatures[call]
        except KeyError:
            signature = _signatures[call] = read(call)
            return signature
        except TypeError:  # an unhashable callable
            return read(call)

    dependencies.get_typed_signature = once


def _v1_once_loaded(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    def checked(value: Any) -> bool:
        return "pydantic.v1" in sys.modules and check(value)

    return checked


def _check_v1_once_loaded(shared: Any, encoders: Any) -> None:
    # annotation_is_pydantic_v1 (route builds) calls the class check through shared's globals; the
    # encoder imported the instance check by name.
    shared.is_pydantic_v1_model_class = _v1_once_loaded(shared.is_pydantic_v1_model_class)
    shared.is_pydantic_v1_model_instance = _v1_once_loaded(shared.is_pydantic_v1_model_instance)
    encoders.is_pydantic_v1_model_instance = _v1_once_loaded(encoders.is_pydantic_v1_model_instance)


def install() -> None:
    """From now on, route builds share adapters and signatures (before the routers are declared)."""
    global _installed
    try:
        v2 = importlib.import_module("fastapi._compat.v2")
        dependencies = importlib.import_module("fastapi.dependencies.utils")
        model_field, asdict, _ = v2.ModelField, v2.asdict, dependencies.get_typed_signature
        shared = importlib.import_module("fastapi._compat.shared")
        encoders = importlib.import_module("fastapi.encoders")
        _ = shared.is_pydantic_v1_model_class, shared.is_pydantic_v1_model_instance
        _ = encoders.is_pydantic_v1_model_instance
    except (ImportError, AttributeError):
        return
    if _installed:
        return
    _share_adapters(model_field, asdict)
    _share_signatures(dependencies)
    _check_v1_once_loaded(shared, encoders)
    _installed = True
