"""A plain (non-editable) `pip install .` must be able to `intake-service migrate` and `serve`:
the wheel carries the Alembic migrations (hatch force-include), the generated models, the ClickHouse
DDL and the console script."""

import importlib.util
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "intake_service"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-cache-dir", "-q", "-w", str(out), str(ROOT)]
    # hatchling comes with the [test] extra, so the build needs no network; without it pip fetches it.
    if importlib.util.find_spec("hatchling") is not None:
        command.insert(4, "--no-build-isolation")
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    (built,) = out.glob("intake_service-*.whl")
    with zipfile.ZipFile(built) as archive:
        yield archive


def names(archive: zipfile.ZipFile) -> set[str]:
    return set(archive.namelist())


def test_carries_the_alembic_migrations(wheel: zipfile.ZipFile) -> None:
    expected = {"intake_service/migrations/env.py", "intake_service/migrations/script.py.mako"}
    expected |= {
        f"intake_service/migrations/versions/{p.name}" for p in (ROOT / "migrations" / "versions").glob("*.py")
    }
    assert len(expected) > 2, "no Alembic revisions found in migrations/versions"
    assert expected <= names(wheel), sorted(expected - names(wheel))


def test_carries_every_package_file(wheel: zipfile.ZipFile) -> None:
    """The generated models, the ClickHouse DDL and every module of src/intake_service."""
    expected = {
        "intake_service/" + p.relative_to(PACKAGE).as_posix()
        for p in PACKAGE.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }
    assert "intake_service/models/generated.py" in expected
    assert expected <= names(wheel), sorted(expected - names(wheel))


def test_migrations_resolve_from_the_installed_layout(wheel: zipfile.ZipFile) -> None:
    """store/postgres/migrate.py looks for <package>/migrations first: the wheel puts them there."""
    assert "intake_service/store/postgres/migrate.py" in names(wheel)
    assert "intake_service/migrations/env.py" in names(wheel)


def test_declares_the_console_script(wheel: zipfile.ZipFile) -> None:
    (entry_points,) = [n for n in names(wheel) if n.endswith(".dist-info/entry_points.txt")]
    text = wheel.read(entry_points).decode()
    assert "intake-service = intake_service.cli:app" in text


def test_ships_no_checkout_clutter(wheel: zipfile.ZipFile) -> None:
    clutter = [n for n in names(wheel) if "__pycache__" in n or n.startswith(("tests/", ".venv/", "bench/"))]
    assert not clutter, clutter
