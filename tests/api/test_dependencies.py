"""The dependencies every intake v2 read runs are coroutines: FastAPI runs a plain `def` dependency in
a worker thread, a thread hop on every request."""

import inspect

from fastapi.routing import iter_route_contexts

from intake_service.api.router import INTAKE_V2_BASE
from intake_service.app import create_app


def sync_dependencies(dependant) -> list[str]:
    found = []
    for sub in dependant.dependencies:
        call = sub.call
        if not (inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call)):
            found.append(getattr(call, "__qualname__", repr(call)))
        found += sync_dependencies(sub)
    return found


def test_the_hot_reads_run_no_dependency_in_a_thread(settings) -> None:
    hot = {f"{INTAKE_V2_BASE}/experiments", f"{INTAKE_V2_BASE}/experiments/{{name}}",
           f"{INTAKE_V2_BASE}/experiments/{{name}}/sessions"}  # fmt: skip
    routes = [r for r in iter_route_contexts(create_app(settings).routes) if r.path in hot and "GET" in r.methods]
    assert len(routes) == len(hot)
    # The router-level guards (the workspace's key and scope) are in every route's dependant too.
    assert all(len(r.dependant.dependencies) > 3 for r in routes)
    assert {r.path: sync_dependencies(r.dependant) for r in routes} == {path: [] for path in hot}
