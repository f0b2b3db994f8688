"""Runs the Alembic migrations that ship with the package (or sit in the checkout)."""

from pathlib import Path

from alembic import command
from alembic.config import Config

_PACKAGE_DIR = Path(__file__).resolve().parents[2]


def migrations_dir() -> Path:
    # A wheel carries them inside the package; an editable install reads the checkout's top level.
    for candidate in (_PACKAGE_DIR / "migrations", _PACKAGE_DIR.parents[1] / "migrations"):
        if (candidate / "env.py").exists():
            return candidate
    raise FileNotFoundError("The Alembic migrations directory was not found.")


def upgrade_postgres(database_url: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["database_url"] = database_url
    command.upgrade(config, "head")
