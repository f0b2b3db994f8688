"""Command line: serve and migrate. Options parse here; the work happens in bootstrap and app."""

from pathlib import Path
from typing import Annotated

import typer

from intake_service.settings import Settings

app = typer.Typer(help="intake-service: NeMo intake v2 experiments with exact rollups.", no_args_is_help=True)


def _settings(**flags: object) -> Settings:
    """Flags win over the environment, the environment over defaults."""
    return Settings(**{k: v for k, v in flags.items() if v is not None})


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind [default: 127.0.0.1].")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind [default: 8080].")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Embedded stores live here [default: ./.intake-data].")] = None,
    database_url: Annotated[str | None, typer.Option(help="PostgreSQL URL; embedded when unset.")] = None,
    clickhouse_url: Annotated[str | None, typer.Option(help="ClickHouse URL; chDB in-process when unset.")] = None,
    log_level: Annotated[str | None, typer.Option(help="Log level [default: info].")] = None,
) -> None:
    """Migrate the stores (starting embedded ones where no URL is set) and serve the API."""
    import uvicorn

    from intake_service.app import create_app
    from intake_service.embedded.bootstrap import prepared_stores

    settings = _settings(
        host=host, port=port, data_dir=data_dir, database_url=database_url,
        clickhouse_url=clickhouse_url, log_level=log_level,
    )
    with prepared_stores(settings) as ready:
        typer.echo(f"intake-service on http://{ready.host}:{ready.port}  (Swagger UI: http://{ready.host}:{ready.port}/docs)")
        uvicorn.run(create_app(ready), host=ready.host, port=ready.port, log_level=ready.log_level)


@app.command()
def migrate(
    data_dir: Annotated[Path | None, typer.Option(help="Embedded stores live here [default: ./.intake-data].")] = None,
    database_url: Annotated[str | None, typer.Option(help="PostgreSQL URL; embedded when unset.")] = None,
    clickhouse_url: Annotated[str | None, typer.Option(help="ClickHouse URL; chDB in-process when unset.")] = None,
) -> None:
    """Apply the PostgreSQL (Alembic) and ClickHouse migrations, then exit."""
    from intake_service.embedded.bootstrap import prepared_stores

    with prepared_stores(_settings(data_dir=data_dir, database_url=database_url, clickhouse_url=clickhouse_url)):
        typer.echo("Migrations applied.")
