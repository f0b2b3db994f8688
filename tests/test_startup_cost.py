"""What start-up builds and loads: each route once per mount, and no library the first requests do
not need (pandas through chDB's ArrowTable, PyJWT's OpenSSL without a JWT)."""

import subprocess
import sys

import fastapi.routing
import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from intake_service.app import create_app
from intake_service.settings import Settings

LOADED_AFTER_A_QUERY = """
import pathlib, sys, tempfile
import intake_service.app, intake_service.server
from intake_service.store.clickhouse.executor import ChdbExecutor
executor = ChdbExecutor(pathlib.Path(tempfile.mkdtemp()))
assert executor.query("SELECT 1 AS one") == [{"one": 1}]
executor.close()
print(" ".join(name for name in ("pandas", "jwt", "cryptography") if name in sys.modules))
"""


def test_each_route_is_built_once_per_mount(monkeypatch: pytest.MonkeyPatch) -> None:
    # Routers of routers would build every route again for each router on the way up to the app.
    builds = []
    populate = fastapi.routing._populate_api_route_state

    def counting(*args: object, **kwargs: object) -> None:
        builds.append(args[1])
        populate(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(fastapi.routing, "_populate_api_route_state", counting)
    app = create_app(Settings(database_url="postgresql://intake@localhost/intake"))
    served = [route.path for route in iter_route_contexts(app.routes) if isinstance(route.original_route, APIRoute)]
    assert sorted(builds) == sorted(served)
    assert {path.split("/")[1] for path in served} >= {"apis", "nemo-0.4", "api"}  # both mounts, the workbench


def test_neither_pandas_nor_openssl_is_loaded_by_the_app_or_a_chdb_query() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", LOADED_AFTER_A_QUERY], capture_output=True, text=True, check=True, timeout=120
    ).stdout.split()
    assert loaded == []
