"""`intake-service rollups …`: upkeep of the precomputed experiment rollups (cli.py registers it)."""

from pathlib import Path
from typing import Annotated

import typer

rollups_app = typer.Typer(help="Maintain the precomputed per-experiment rollups.", no_args_is_help=True)


@rollups_app.command("recompute")
def recompute(
    workspace: Annotated[str | None, typer.Option(help="Only this workspace (default: every workspace).")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Embedded stores live here (default: ./.intake-data).")] = None,
    clickhouse_url: Annotated[str | None, typer.Option(help="ClickHouse URL; chDB in-process when unset.")] = None,
) -> None:
    """Apply the ClickHouse migrations, then rewrite every experiment's rollups from its sessions.

    Run it after a migration that changes the rollups' shape; stop the server first if ClickHouse is embedded.
    """
    from intake_service.cli import _settings  # imported here: cli.py imports this module
    from intake_service.store.clickhouse.executor import create_executor
    from intake_service.store.clickhouse.repair import recompute_all_rollups
    from intake_service.store.clickhouse.telemetry import migrate_telemetry

    settings = _settings(data_dir=data_dir, clickhouse_url=clickhouse_url)
    migrate_telemetry(settings)
    executor = create_executor(settings.clickhouse_url, settings.data_dir)
    try:
        count = recompute_all_rollups(executor, workspace)
    finally:
        executor.close()
    typer.echo(f"Recomputed the rollups of {count} experiment(s).")
