"""Issue 12, start-up: PostgreSQL starts and ClickHouse is opened and migrated while the app is
imported, a database already at head is recognised without Alembic, and a start-up that fails leaves
nothing running."""

import asyncio
import subprocess
import sys
import uuid
from pathlib import Path

import psutil
from alembic.config import Config
from alembic.script import ScriptDirectory
from test_evaluations_migration import _alembic, _execute

from intake_service.embedded.postgres import _initdb_with_syncfs
from intake_service.store.clickhouse.migrate import ddl_files
from intake_service.store.postgres.migrate import head_revision, migrations_dir, upgrade_postgres


def test_the_head_read_from_the_files_is_alembics() -> None:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    assert [head_revision()] == ScriptDirectory.from_config(config).get_heads()


def test_a_database_at_head_is_upgraded_without_alembic_and_one_behind_with_it(settings) -> None:
    check = (
        "import sys; from intake_service.store.postgres.migrate import upgrade_postgres; "
        f"upgrade_postgres({settings.database_url!r}); print('alembic.command' in sys.modules)"
    )
    at_head = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True)
    assert at_head.stdout.strip() == "False", at_head.stderr
    database = f"behind_{uuid.uuid4().hex[:10]}"
    asyncio.run(_execute(settings.database_url, f"CREATE DATABASE {database}", autocommit=True))
    url = settings.database_url.replace("/postgres?", f"/{database}?")
    _alembic(url, "upgrade", "0006")
    upgrade_postgres(url)
    assert asyncio.run(_execute(url, "SELECT version_num FROM alembic_version")) == [(head_revision(),)]


def test_a_new_database_goes_to_alembic_without_the_revision_query(settings, monkeypatch) -> None:
    from intake_service.store.postgres import migrate

    database = f"new_{uuid.uuid4().hex[:10]}"
    asyncio.run(_execute(settings.database_url, f"CREATE DATABASE {database}", autocommit=True))
    url = settings.database_url.replace("/postgres?", f"/{database}?")

    async def no_query(_: str) -> None:
        raise AssertionError("the revision of a new database was read")

    monkeypatch.setattr(migrate, "_current_revision", no_query)
    upgrade_postgres(url, new_database=True)
    assert asyncio.run(_execute(url, "SELECT version_num FROM alembic_version")) == [(head_revision(),)]


def test_only_a_start_on_a_new_data_directory_loads_alembic(tmp_path: Path) -> None:
    # prepared_stores tells a new database by the PG_VERSION initdb writes: were it looking in the
    # wrong place, every start would load Alembic (~0.4 s) and still work.
    start = (
        "import pathlib, sys; from intake_service.embedded.bootstrap import prepared_stores; "
        "from intake_service.settings import Settings; "
        f"settings = Settings(data_dir=pathlib.Path({str(tmp_path)!r}), database_url=None, clickhouse_url=None); "
        "ready = prepared_stores(settings); ready.__enter__(); loaded = 'alembic.command' in sys.modules; "
        "ready.__exit__(None, None, None); print(loaded)"
    )
    for loaded in ("True", "False"):  # the first start makes the database, the second finds it
        result = subprocess.run([sys.executable, "-c", start], capture_output=True, text=True, timeout=120)
        assert result.stdout.strip().splitlines()[-1:] == [loaded], result.stderr[-2000:]


def test_what_the_migration_needs_is_loaded_ahead() -> None:
    check = (
        "import sys; from intake_service.store.postgres.migrate import load_migration; load_migration({}); "
        "print('asyncpg' in sys.modules, 'alembic.command' in sys.modules)"
    )
    for new, loaded in ((False, "True False"), (True, "True True")):
        result = subprocess.run([sys.executable, "-c", check.format(new)], capture_output=True, text=True, check=True)
        assert result.stdout.strip() == loaded, result.stderr


def test_initdb_flushes_with_syncfs() -> None:
    calls = []
    _initdb_with_syncfs(lambda args, **options: calls.append((args, options)) or "")(["-U", "postgres"], pgdata="p")
    assert calls == [(["-U", "postgres", "--sync-method=syncfs"], {"pgdata": "p"})]


def postmaster_running(data_dir: Path) -> bool:
    pid_file = data_dir.resolve() / "postgres" / "postmaster.pid"
    return pid_file.exists() and psutil.pid_exists(int(pid_file.read_text().split()[0]))


# In a process of its own: chDB serves one data directory per process, and this one's is the suite's.
FAILING_START = """
import sys, threading, time
from pathlib import Path
from intake_service.embedded.bootstrap import prepared_stores
from intake_service.settings import Settings

data_dir = Path(sys.argv[1])

def meanwhile():
    # ClickHouse is opened and migrated by another thread meanwhile (here it is waited for: it
    # may also be done already); PostgreSQL is not migrated yet (it may still be starting).
    deadline = time.monotonic() + 60
    while not (data_dir / "clickhouse" / "store").is_dir() and time.monotonic() < deadline:
        time.sleep(0.01)
    print("clickhouse opened:", (data_dir / "clickhouse" / "store").is_dir())
    raise SystemExit("the app failed to import")

with prepared_stores(Settings(data_dir=data_dir, database_url=None, clickhouse_url=None), meanwhile=meanwhile):
    print("served")
"""


MIGRATED = """
import sys
from pathlib import Path
from intake_service.store.clickhouse.executor import ChdbExecutor
executor = ChdbExecutor(Path(sys.argv[1]) / "clickhouse")
print(" ".join(row["name"] for row in executor.query("SELECT name FROM intake_schema_migrations ORDER BY version")))
executor.close()
"""


def test_the_app_is_imported_while_postgres_starts_and_a_failure_there_stops_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    run = subprocess.run([sys.executable, "-c", FAILING_START, str(data_dir)], capture_output=True, text=True)
    assert run.returncode == 1 and "the app failed to import" in run.stderr, run.stderr
    assert run.stdout == "clickhouse opened: True\n"
    assert (data_dir / "postgres" / "PG_VERSION").exists() and not postmaster_running(data_dir)
    # The ClickHouse thread was waited for and its migrations finished: the next start finds them.
    migrated = subprocess.run(
        [sys.executable, "-c", MIGRATED, str(data_dir)], capture_output=True, text=True, check=True
    ).stdout.split()
    assert migrated == [name for _, name, _ in ddl_files()]
