"""Runs the Alembic migrations that ship with the package (or sit in the checkout)."""

import asyncio
import importlib
import re
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

_PACKAGE_DIR = Path(__file__).resolve().parents[2]
# A revision file's own id and its parent, as Alembic's template writes them.
_REVISION = re.compile(r"^revision(?:\s*:\s*str)?\s*=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision\b[^=]*=\s*(.+)$", re.MULTILINE)


def migrations_dir() -> Path:
    # A wheel carries them inside the package; an editable install reads the checkout's top level.
    for candidate in (_PACKAGE_DIR / "migrations", _PACKAGE_DIR.parents[1] / "migrations"):
        if (candidate / "env.py").exists():
            return candidate
    raise FileNotFoundError("The Alembic migrations directory was not found.")


def head_revision() -> str | None:
    """The one head of the revision files, read from their text; None when that is not plain (no
    file, several heads, a parent that is not one quoted id), and Alembic decides then."""
    revisions, parents = set(), set()
    for path in (migrations_dir() / "versions").glob("*.py"):
        source = path.read_text()
        revision, down = _REVISION.search(source), _DOWN_REVISION.search(source)
        if revision is None or down is None:
            return None
        revisions.add(revision.group(1))
        parent = down.group(1).strip()
        if parent != "None":
            quoted = re.fullmatch(r"['\"]([^'\"]+)['\"]", parent)
            if quoted is None:
                return None
            parents.add(quoted.group(1))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


async def _current_revision(database_url: str) -> str | None:
    from intake_service.store.postgres.engine import create_engine

    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    except ProgrammingError:  # no alembic_version table: a new database
        return None
    finally:
        await engine.dispose()
    return rows[0] if len(rows) == 1 else None


def load_migration(new_database: bool) -> None:
    """Imports what upgrade_postgres will need: the driver (loaded by the first connection) and, for
    a new database, Alembic (together 0.05-0.15 s). Called while the embedded PostgreSQL starts."""
    for module in ("asyncpg", *(("alembic.command", "alembic.config") if new_database else ())):
        importlib.import_module(module)


def upgrade_postgres(database_url: str, new_database: bool = False) -> None:
    """Upgrades to head. A database already there (every start but the first after an upgrade) is
    recognised with one query, without loading Alembic and the revision modules (about 0.4 s); a
    database known to be new (initdb has just made it) goes to Alembic without that query."""
    head = head_revision()
    if not new_database and head is not None and asyncio.run(_current_revision(database_url)) == head:
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["database_url"] = database_url
    command.upgrade(config, "head")
