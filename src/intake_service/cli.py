"""Command line: serve and migrate. Options parse here; the work happens in bootstrap and app."""

import logging
import signal
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from intake_service.cli_rollups import rollups_app
from intake_service.settings import Settings

app = typer.Typer(help="intake-service: NeMo intake v2 experiments with exact rollups.", no_args_is_help=True)
keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(rollups_app, name="rollups")
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
DataDir = Annotated[Path | None, typer.Option(help="Embedded stores live here [default: ./.intake-data].")]
DatabaseUrl = Annotated[str | None, typer.Option(help="PostgreSQL URL; embedded when unset.")]


def _settings(**flags: object) -> Settings:
    """Flags win over the environment, the environment over defaults. A bad setting is one sentence
    and exit code 2, before anything starts."""
    try:
        return Settings(**{k: v for k, v in flags.items() if v is not None})
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ").rstrip(".")
        typer.echo(f"Invalid setting {where}: {message}.", err=True)
        raise typer.Exit(2) from None


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind [default: 127.0.0.1].")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind [default: 8080].")] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    clickhouse_url: Annotated[str | None, typer.Option(help="ClickHouse URL; chDB in-process when unset.")] = None,
    log_level: Annotated[str | None, typer.Option(help="Log level [default: info].")] = None,
    auth: Annotated[str | None, typer.Option(help="none or api-key [default: none].")] = None,
    insecure_no_auth: Annotated[
        bool, typer.Option("--insecure-no-auth", help="Allow auth none on a non-loopback address.")
    ] = False,
) -> None:
    """Migrate the stores (starting embedded ones where no URL is set) and serve the API."""
    from intake_service import server
    from intake_service.app import create_app
    from intake_service.embedded.bootstrap import prepared_stores

    settings = _settings(
        host=host, port=port, data_dir=data_dir, database_url=database_url,
        clickhouse_url=clickhouse_url, log_level=log_level, auth=auth,
    )
    if settings.auth == "none" and settings.host not in LOOPBACK_HOSTS and not insecure_no_auth:
        typer.echo(
            f"Refusing to serve on {settings.host} with auth off: set INTAKE_AUTH=api-key "
            "(or --auth api-key), or pass --insecure-no-auth.",
            err=True,
        )
        raise typer.Exit(2)
    # uvicorn stops gracefully on SIGINT/SIGTERM and then re-raises the signal with the handlers it
    # found. A default SIGTERM handler would kill the process there, before the embedded PostgreSQL
    # is stopped; exiting through SystemExit runs prepared_stores' cleanup (a clean pg_ctl stop).
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _exit_cleanly)
    with prepared_stores(settings) as ready:
        typer.echo(f"intake-service on http://{ready.host}:{ready.port}  (Swagger UI: http://{ready.host}:{ready.port}/docs)")
        # One JSON line per request comes from the app's access logger; uvicorn's own is off.
        logging.basicConfig(level=ready.log_level.upper(), format="%(message)s")
        server.serve(create_app(ready), ready)


@app.command()
def migrate(
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    clickhouse_url: Annotated[str | None, typer.Option(help="ClickHouse URL; chDB in-process when unset.")] = None,
) -> None:
    """Apply the PostgreSQL (Alembic) and ClickHouse migrations, then exit."""
    from intake_service.embedded.bootstrap import prepared_stores

    with prepared_stores(_settings(data_dir=data_dir, database_url=database_url, clickhouse_url=clickhouse_url)):
        typer.echo("Migrations applied.")


def _run_keys(data_dir: Path | None, database_url: str | None, work):
    import asyncio

    from intake_service.embedded.bootstrap import prepared_postgres
    from intake_service.store.postgres.api_keys import ApiKeyRepository
    from intake_service.store.postgres.engine import run_in_transaction

    # Keys live in PostgreSQL only: ClickHouse is left alone (a running server may be using it).
    with prepared_postgres(_settings(data_dir=data_dir, database_url=database_url)) as ready:
        assert ready.database_url is not None
        return asyncio.run(run_in_transaction(ready.database_url, lambda s: work(ApiKeyRepository(s))))


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="A unique name; recorded as created_by on writes.")],
    scope: Annotated[list[str], typer.Option(help="intake:read, intake:write, intake:admin, ml-workbench:read, ml-workbench:write; repeat for several.")],
    workspace: Annotated[list[str] | None, typer.Option(help="A workspace it may touch; repeat; '*' for all [default: *].")] = None,
    expires_in_days: Annotated[int | None, typer.Option(min=1, help="Days until it expires [default: never].")] = None,
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
