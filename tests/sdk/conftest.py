"""The real NeMo SDKs, unchanged, against a server the tests start.

Each SDK version gets one venv (`python -m venv`, then `pip install --no-deps nemo-platform==X` and
the few packages its client needs: the wheel's declared dependencies pull in the whole platform),
kept in ~/.cache/intake-service-sdk-venvs/X (or $INTAKE_TEST_SDK_VENVS/X) and rebuilt only when
missing, so a rerun starts at once. A flow is a script in flows/, run with that venv's python
against the server's URL; it prints one JSON object that the test checks.
"""

import fcntl
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from support import Server, clean_env

FLOWS = Path(__file__).parent / "flows"
CLIENT_PACKAGES = ("httpx", "pydantic", "typing-extensions", "anyio", "distro", "sniffio")
READY_MARK = ".intake-sdk-ready"
INSTALL_TIMEOUT_S = 600
FLOW_TIMEOUT_S = 180
# A flow sees its venv only: nothing of the project's path (PYTHONPATH) or settings.
FLOW_ENV = {k: v for k, v in clean_env().items() if k != "PYTHONPATH"}


def venv_root() -> Path:
    configured = os.environ.get("INTAKE_TEST_SDK_VENVS")
    return Path(configured) if configured else Path.home() / ".cache" / "intake-service-sdk-venvs"


def _pip(python: Path, *args: str) -> None:
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *args],
        capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"pip install {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"


def sdk_python(version: str) -> Path:
    """The python of a venv holding nemo-platform==`version`, built unless a finished one is there."""
    root = venv_root()
    root.mkdir(parents=True, exist_ok=True)
    directory = root / version
    python = directory / "bin" / "python"
    mark = directory / READY_MARK
    expected = f"nemo-platform=={version} {' '.join(CLIENT_PACKAGES)}"
    # One builder at a time (parallel pytest runs share the cache); the mark is written last.
    with (root / f".{version}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if mark.exists() and mark.read_text() == expected and python.exists():
            return python
        shutil.rmtree(directory, ignore_errors=True)
        base = shutil.which("python3.11") or sys.executable  # these SDKs need Python >= 3.11
        subprocess.run([base, "-m", "venv", str(directory)], check=True, timeout=INSTALL_TIMEOUT_S)
        _pip(python, "--no-deps", f"nemo-platform=={version}")
        _pip(python, *CLIENT_PACKAGES)
        mark.write_text(expected)
    return python


@pytest.fixture(scope="session")
def sdk_venvs() -> Callable[[str], Path]:
    """`sdk_venvs(version)`: that version's python, each venv built (or found) once per session."""
    built: dict[str, Path] = {}

    def get(version: str) -> Path:
        if version not in built:
            built[version] = sdk_python(version)
        return built[version]

    return get


@pytest.fixture(scope="session")
def sdk_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One `intake-service serve` on its own stores for every SDK flow; workspaces keep flows apart."""
    server = Server(tmp_path_factory.mktemp("sdk") / "data")
    with server:
        yield server


@pytest.fixture
def sdk_workspace() -> str:
    return f"sdk-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def run_flow(sdk_venvs: Callable[[str], Path], sdk_server: Server, sdk_workspace: str) -> Callable[..., Any]:
    """`run_flow(version, "flow_name", **args)`: the JSON the flow printed, run with that SDK."""

    def run(version: str, flow: str, **args: Any) -> Any:
        python = sdk_venvs(version)
        config = {"base_url": sdk_server.url, "workspace": sdk_workspace, "sdk_version": version, **args}
        done = subprocess.run(
            [str(python), str(FLOWS / f"{flow}.py"), json.dumps(config)],
            capture_output=True, text=True, timeout=FLOW_TIMEOUT_S, check=False, env=FLOW_ENV,
        )  # fmt: skip
        assert done.returncode == 0, f"flow {flow} with SDK {version} failed:\n{done.stderr}\n{done.stdout}"
        return json.loads(done.stdout.strip().splitlines()[-1])

    return run
