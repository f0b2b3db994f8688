import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from support import Server


@contextmanager
def scratch_dir() -> Iterator[Path]:
    # Outside pytest's numbered temp dirs: a concurrent pytest run prunes those, even while in use.
    root = Path(tempfile.mkdtemp(prefix="intake-cli-"))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A fresh directory for one test."""
    with scratch_dir() as root:
        yield root


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    """One `intake-service serve` for the command-line tests that need a running server."""
    with scratch_dir() as root:
        process = Server(root / "data")
        try:
            yield process.start()
        finally:
            process.stop()
