import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.serve_process import ServeProcess


@pytest.fixture(scope="session")
def server() -> Iterator[ServeProcess]:
    """One `intake-service serve` for the command-line tests that need a running server."""
    # Outside pytest's numbered temp dirs: a concurrent pytest run prunes those, even while in use.
    root = Path(tempfile.mkdtemp(prefix="intake-cli-"))
    process = ServeProcess(root / "data")
    try:
        yield process.wait_ready()
    finally:
        process.stop()
        shutil.rmtree(root, ignore_errors=True)
