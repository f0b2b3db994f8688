"""Prepares the stores: starts the embedded ones where no URL is set, then migrates both."""

from contextlib import contextmanager
from collections.abc import Iterator

from intake_service.embedded.postgres import EmbeddedPostgres
from intake_service.settings import Settings
from intake_service.store.clickhouse.telemetry import migrate_telemetry
from intake_service.store.postgres.migrate import upgrade_postgres


@contextmanager
def prepared_stores(settings: Settings) -> Iterator[Settings]:
    """Settings with a DATABASE_URL that answers, migrated; the embedded server stops on exit."""
    embedded = None
    if settings.database_url is None:
        embedded = EmbeddedPostgres(settings.data_dir)
        settings = settings.model_copy(update={"database_url": embedded.url})
    try:
        assert settings.database_url is not None
        upgrade_postgres(settings.database_url)
        migrate_telemetry(settings)
        yield settings
    finally:
        if embedded is not None:
            embedded.stop()
