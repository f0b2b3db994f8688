"""What start-up builds and loads: each route once per mount (sharing adapters and signatures), and no
library the first requests do not need (pandas through chDB's ArrowTable, PyJWT's OpenSSL without a
JWT, Jinja2 without a page, pydantic.v1 without a v1 model)."""

import inspect
import subprocess
import sys
from copy import copy
from typing import Annotated

import pytest
from annotated_types import Ge
from fastapi.exceptions import PydanticV1NotSupportedError
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.utils import create_model_field
from pydantic.fields import FieldInfo

from intake_service.app import create_app
from intake_service.settings import Settings

LOADED_AFTER_A_QUERY = """
import pathlib, sys, tempfile
import intake_service.app, intake_service.server
from intake_service.store.clickhouse.executor import ChdbExecutor
executor = ChdbExecutor(pathlib.Path(tempfile.mkdtemp()))
assert executor.query("SELECT 1 AS one") == [{"one": 1}]
executor.close()
print(" ".join(name for name in ("pandas", "jwt", "cryptography", "jinja2", "pydantic.v1") if name in sys.modules))
"""


def test_each_route_is_built_once_per_mount(route_builds: list[str]) -> None:
    # Routers of routers would build every route again for each router on the way up to the app.
    app = create_app(Settings(database_url="postgresql://intake@localhost/intake"))
    served = [route.path for route in iter_route_contexts(app.routes) if isinstance(route.original_route, APIRoute)]
    assert sorted(route_builds) == sorted(served)
    assert {path.split("/")[1] for path in served} >= {"apis", "nemo-0.4", "api"}  # both mounts, the workbench


def test_fields_with_the_same_inputs_share_one_adapter() -> None:
    # The workspace parameter, the paging queries and the models recur on every route and mount.
    app = create_app(Settings(database_url="postgresql://intake@localhost/intake"))
    fields = [
        field
        for route in iter_route_contexts(app.routes)
        if isinstance(route.original_route, APIRoute)
        for field in [*route.dependant.path_params, *route.dependant.query_params, route.response_field]
        if field is not None
    ]
    assert len(fields) > 300
    assert len({id(field._type_adapter) for field in fields}) < len(fields) / 3


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (FieldInfo(annotation=int, default=1), FieldInfo(annotation=int, default=True)),
        (FieldInfo(annotation=float, ge=1), FieldInfo(annotation=float, ge=1.0)),  # equal, but not their errors
        (FieldInfo(annotation=str, description="a"), FieldInfo(annotation=str, description="b")),
        (FieldInfo(annotation=list[str], examples=[["a"]]), FieldInfo(annotation=list[str], examples=[["b"]])),
        (FieldInfo(annotation=int), FieldInfo(annotation=Annotated[int, Ge(1)])),
    ],
)
def test_fields_whose_inputs_differ_get_their_own_adapter(first: FieldInfo, second: FieldInfo) -> None:
    one, other = create_model_field("f", None, field_info=first), create_model_field("f", None, field_info=second)
    assert one._type_adapter is not other._type_adapter
    assert create_model_field("g", None, field_info=copy(first))._type_adapter is one._type_adapter


def test_route_builds_read_each_signature_once(monkeypatch: pytest.MonkeyPatch) -> None:
    list(iter_route_contexts(create_app(Settings(database_url="postgresql://intake@localhost/intake")).routes))
    reads = []
    signature = inspect.signature
    monkeypatch.setattr(inspect, "signature", lambda *args, **kwargs: reads.append(args) or signature(*args, **kwargs))
    app = create_app(Settings(database_url="postgresql://intake@localhost/intake"))
    assert len(list(iter_route_contexts(app.routes))) > 100
    # Only the endpoints this app made itself (its docs pages) are new; the routers' are known
    # (read again, they would be over a thousand).
    assert 0 < len(reads) < 30


def test_a_pydantic_v1_model_is_still_refused() -> None:
    from pydantic import v1

    class Old(v1.BaseModel):
        x: int

    with pytest.raises(PydanticV1NotSupportedError):
        create_model_field("f", Old)
    with pytest.raises(PydanticV1NotSupportedError):
        create_model_field("f", list[Old])


def test_neither_pandas_nor_openssl_nor_jinja_nor_pydantic_v1_is_loaded_by_the_app_or_a_chdb_query() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", LOADED_AFTER_A_QUERY], capture_output=True, text=True, check=True, timeout=120
    ).stdout.split()
    assert loaded == []
