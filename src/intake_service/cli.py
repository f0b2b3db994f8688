"""Command line: serve, migrate, keys and ingest. Options parse here; the work happens in bootstrap,
app and file_ingest. A start-up mistake (StartupError) is printed as its one sentence, exit status 2."""

import gc
import importlib
import logging
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from intake_service import __version__
from intake_service.cli_rollups import rollups_app
from intake_service.glibc import limit_arenas
from intake_service.settings import Settings
from intake_service.startup import StartupError, load_settings, make_data_dir

app = typer.Typer(help="intake-service: NeMo intake v2 experiments with exact rollups.", no_args_is_help=True)
keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(rollups_app, name="rollups")
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def with_default(text: str, default: object) -> str:
    """Help text ending in its default; the bracket is escaped, else Rich reads it as markup and drops it."""
    return f"{text} \\[default: {default}]"


def setting_default(field: str) -> object:
    """A setting's default as the Settings class declares it: written once, there."""
    return Settings.model_fields[field].default


DataDir = Annotated[
    Path | None, typer.Option(help=with_default("Embedded stores live here.", f"./{setting_default('data_dir')}"))
]
DatabaseUrl = Annotated[str | None, typer.Option(help=with_default("PostgreSQL URL.", "embedded PostgreSQL"))]
ClickhouseUrl = Annotated[str | None, typer.Option(help=with_default("ClickHouse URL over HTTP.", "chDB in-process"))]


def _settings(**flags: object) -> Settings:
    """Flags win over the environment, the environment over defaults."""
    return load_settings(**flags)


@contextmanager
def one_sentence_on_startup_error() -> Iterator[None]:
    try:
        yield
    except StartupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"intake-service {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_show_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """intake-service: NeMo intake v2 experiments with exact rollups."""


def _say(message: str) -> None:
    typer.echo(message)


def _import_app() -> None:
    """The app's modules take a second or more to import: serve imports them while the embedded
    PostgreSQL starts."""
    for module in ("intake_service.app", "intake_service.server"):
        importlib.import_module(module)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help=with_default("Address to bind.", setting_default("host")))] = None,
    # Text, so that a bad value gets the settings' one sentence rather than typer's usage box.
    port: Annotated[str | None, typer.Option(help=with_default("Port to bind.", setting_default("port")))] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    clickhouse_url: ClickhouseUrl = None,
    log_level: Annotated[
        str | None,
        typer.Option(
            help=with_default("critical, error, warning, info, debug or trace.", setting_default("log_level"))
        ),
    ] = None,
    auth: Annotated[str | None, typer.Option(help=with_default("none or api-key.", setting_default("auth")))] = None,
    insecure_no_auth: Annotated[
        bool,
        typer.Option("--insecure-no-auth", help=with_default("Allow auth none on a non-loopback address.", "off")),
    ] = False,
) -> None:
    """Migrate the stores (starting embedded ones where no URL is set) and serve the API."""
    from intake_service.embedded.bootstrap import prepared_stores
    from intake_service.startup import listening_socket

    started = time.monotonic()
    limit_arenas()
    # Start-up creates a few hundred thousand objects that live as long as the process (modules,
    # routes, their pydantic schemas): the collector would walk them again and again, about a tenth
    # of the start-up's CPU. server.serve collects once and freezes them before serving.
    gc.disable()
    with one_sentence_on_startup_error():
        settings = _settings(
            host=host,
            port=port,
            data_dir=data_dir,
            database_url=database_url,
            clickhouse_url=clickhouse_url,
            log_level=log_level,
            auth=auth,
        )
        if settings.auth == "none" and settings.host not in LOOPBACK_HOSTS and not insecure_no_auth:
            raise StartupError(
                f"Refusing to serve on {settings.host} with auth off: set INTAKE_AUTH=api-key "
                "(or --auth api-key), or pass --insecure-no-auth."
            )
        # Bound before the stores start, so a busy port fails at once rather than after the start-up.
        sock = listening_socket(settings.host, settings.port)
    # uvicorn stops gracefully on SIGINT/SIGTERM and then re-raises the signal with the handlers it
    # found. A default SIGTERM handler would kill the process there, before the embedded PostgreSQL
    # is stopped; exiting through SystemExit runs prepared_stores' cleanup (a clean pg_ctl stop).
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _exit_cleanly)
    with sock, one_sentence_on_startup_error(), prepared_stores(settings, _say, _import_app) as ready:
        from intake_service import server
        from intake_service.app import create_app

        # One JSON line per request comes from the app's access logger; uvicorn's own is off.
        logging.basicConfig(level=ready.log_level.upper(), format="%(message)s")
        url = f"http://{ready.host}:{ready.port}"

        def say_ready() -> None:
            _say(f"Ready in {time.monotonic() - started:.1f} s on {url} (Swagger UI: {url}/docs).")

        service = create_app(ready)
        gc.enable()
        if not server.serve(service, ready, sock, say_ready):
            raise typer.Exit(3)


@app.command()
def migrate(data_dir: DataDir = None, database_url: DatabaseUrl = None, clickhouse_url: ClickhouseUrl = None) -> None:
    """Apply the PostgreSQL (Alembic) and ClickHouse migrations, then exit."""
    from intake_service.embedded.bootstrap import prepared_stores

    with one_sentence_on_startup_error():
        settings = _settings(data_dir=data_dir, database_url=database_url, clickhouse_url=clickhouse_url)
        with prepared_stores(settings, _say):
            typer.echo("Migrations applied.")


@app.command()
def ingest(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="NDJSON, JSON or ATIF trajectories.")],
    workspace: Annotated[str, typer.Option(help="The experiment's workspace.")],
    experiment: Annotated[str, typer.Option(help="The experiment's name; it must exist.")],
    url: Annotated[str, typer.Option(envvar="INTAKE_URL", help="The running server.")] = "http://127.0.0.1:8080",
    api_key: Annotated[
        str | None, typer.Option(envvar="INTAKE_API_KEY", help=with_default("Sent as X-API-Key.", "none"))
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=10_000, help="Sessions per request.")] = 1000,
) -> None:
    """Send sessions (and ATIF trajectories) from a file to a running server; a re-send replaces, never adds."""
    import httpx
    from rich.console import Console
    from rich.progress import Progress

    from intake_service.file_ingest import IngestAborted, send_file

    headers = {"X-API-Key": api_key} if api_key else {}
    console = Console(stderr=True)
    with (
        httpx.Client(base_url=url, headers=headers, timeout=120) as client,
        Progress(console=console, transient=True, disable=not console.is_terminal) as progress,
    ):
        task = progress.add_task(f"Sending {file.name}", total=None)
        try:
            summary = send_file(
                client,
                file,
                workspace,
                experiment,
                batch_size,
                advance=lambda n: progress.advance(task, n),
                total=lambda n: progress.update(task, total=n),
            )
        except IngestAborted as exc:
            progress.stop()
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from None
    typer.echo(f"Sent {summary.sent}, accepted {summary.accepted}, rejected {len(summary.rejected)}.")
    for where, reason in summary.rejected:
        typer.echo(f"  {where}: {reason}")
    if summary.rejected:
        raise typer.Exit(1)


def _run_keys(data_dir: Path | None, database_url: str | None, work):
    import asyncio

    from intake_service.embedded.bootstrap import prepared_postgres
    from intake_service.store.postgres.api_keys import ApiKeyRepository
    from intake_service.store.postgres.engine import run_in_transaction

    # Keys live in PostgreSQL only: ClickHouse is left alone (a running server may be using it).
    with one_sentence_on_startup_error():
        settings = _settings(data_dir=data_dir, database_url=database_url)
        if settings.embedded_postgres:
            make_data_dir(settings.data_dir)
    with prepared_postgres(settings) as ready:
        assert ready.database_url is not None
        return asyncio.run(run_in_transaction(ready.database_url, lambda s: work(ApiKeyRepository(s))))


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="A unique name; recorded as created_by on writes.")],
    scope: Annotated[
        list[str],
        typer.Option(
            help="intake:read, intake:write, intake:admin, ml-workbench:read, ml-workbench:write; repeat for several."
        ),
    ],
    workspace: Annotated[
        list[str] | None, typer.Option(help=with_default("A workspace it may touch; repeat; '*' for all.", "*"))
    ] = None,
    expires_in_days: Annotated[
        int | None, typer.Option(min=1, help=with_default("Days until it expires.", "never"))
    ] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a key and print its secret once: it is stored only as a hash."""
    from datetime import timedelta

    from intake_service.domain import auth

    expires_at = auth.now() + timedelta(days=expires_in_days) if expires_in_days else None
    try:
        _, secret = _run_keys(
            data_dir, database_url, lambda repo: auth.create_key(repo, name, scope, workspace or ["*"], expires_at)
        )
    except auth.DomainError as exc:
        typer.echo(exc.detail, err=True)
        raise typer.Exit(1) from None
    typer.echo(secret)


@keys_app.command("list")
def keys_list(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """One line per key: name, scopes, workspaces, expiry, last use, revoked."""
    rows = _run_keys(data_dir, database_url, lambda repo: repo.list_all())
    for row in rows:
        state = "revoked" if row.revoked_at else "active"
        typer.echo(
            f"{row.name}\t{','.join(row.scopes)}\t{','.join(row.workspaces)}\t"
            f"expires={row.expires_at or 'never'}\tlast_used={row.last_used_at or 'never'}\t{state}"
        )


@keys_app.command("revoke")
def keys_revoke(name: str, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Revoke a key at once; requests with it get 401."""
    from intake_service.domain import auth

    try:
        _run_keys(data_dir, database_url, lambda repo: auth.revoke_key(repo, name))
    except auth.DomainError as exc:
        typer.echo(exc.detail, err=True)
        raise typer.Exit(1) from None
    typer.echo(f"Revoked {name}.")
