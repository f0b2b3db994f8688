"""The real NeMo SDKs, unchanged, against a server the tests start.

Each SDK version gets one venv (`python -m venv`, then `pip install --no-deps nemo-platform==X` and
the few packages its client needs: the wheel's declared dependencies pull in the whole platform),
kept in ~/.cache/intake-service-sdk-venvs/X (or $INTAKE_TEST_SDK_VENVS/X) and rebuilt only when
missing or built on another interpreter, so a rerun starts at once. SDKs before 0.4.0 take Python
3.11; 0.4.0 and later require 3.12 or 3.13, found under pyenv (or on PATH). A flow is a script in
flows/, run with that venv's python against the server's URL; it prints one JSON object that the
test checks.
"""

import fcntl
import json
import os
import re
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
# The first SDK of the current generation: its wheel requires Python >= 3.12 (and < 3.14), and it is
# served under /nemo-0.4, where /experiments is the container of evaluations.
FIRST_312_SDK = (0, 4, 0)
NEMO_04_MOUNT = "/nemo-0.4"
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


def _release(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text))


def _python_312_or_313() -> str:
    """A Python 3.12 (the newest; else the newest 3.13) under pyenv ($PYENV_ROOT or ~/.pyenv), else one on
    PATH; the test fails with a plain message when there is none: the newer SDKs cannot install without."""
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    found = [path for path in pyenv.glob("3.1[23].*/bin/python3") if re.fullmatch(r"3\.1[23]\.\d+", path.parts[-3])]
    if found:
        return str(max(found, key=lambda path: (path.parts[-3].startswith("3.12."), _release(path.parts[-3]))))
    on_path = shutil.which("python3.12") or shutil.which("python3.13")
    if on_path:
        return on_path
    pytest.fail(
        f"nemo-platform {'.'.join(map(str, FIRST_312_SDK))} and later need Python 3.12 or 3.13: none found "
        f"under {pyenv}/3.12.*, {pyenv}/3.13.* or on PATH (python3.12, python3.13)"
    )


def base_python(version: str) -> str:
    """The interpreter an SDK version's venv is built on."""
    if _release(version) >= FIRST_312_SDK:
        return _python_312_or_313()
    return shutil.which("python3.11") or sys.executable  # these SDKs need Python >= 3.11


def sdk_python(version: str) -> Path:
    """The python of a venv holding nemo-platform==`version`, built unless a finished one is there."""
    root = venv_root()
    root.mkdir(parents=True, exist_ok=True)
    directory = root / version
    python = directory / "bin" / "python"
    mark = directory / READY_MARK
    base = base_python(version)
    expected = f"nemo-platform=={version} {' '.join(CLIENT_PACKAGES)}"
    if _release(version) >= FIRST_312_SDK:  # rebuilt when pyenv's 3.12 changes (older marks kept as they were)
        expected += f" on {base}"
    # One builder at a time (parallel pytest runs share the cache); the mark is written last.
    with (root / f".{version}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if mark.exists() and mark.read_text() == expected and python.exists():
            return python
        shutil.rmtree(directory, ignore_errors=True)
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


def new_workspace() -> str:
    return f"sdk-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def sdk_workspace() -> str:
    return new_workspace()


@pytest.fixture(scope="session")
def flow_runner(sdk_venvs: Callable[[str], Path], sdk_server: Server) -> Callable[..., Any]:
    """`flow_runner(version, "flow_name", workspace, **args)`: the JSON the flow printed, run with that SDK
    at the mount of its generation (the root before 0.4.0, /nemo-0.4 from then on)."""

    def run(version: str, flow: str, workspace: str, **args: Any) -> Any:
        python = sdk_venvs(version)
        mount = NEMO_04_MOUNT if _release(version) >= FIRST_312_SDK else ""
        config = {"base_url": sdk_server.url + mount, "workspace": workspace, "sdk_version": version, **args}
        done = subprocess.run(
            [str(python), str(FLOWS / f"{flow}.py"), json.dumps(config)],
            capture_output=True, text=True, timeout=FLOW_TIMEOUT_S, check=False, env=FLOW_ENV,
        )  # fmt: skip
        assert done.returncode == 0, f"flow {flow} with SDK {version} failed:\n{done.stderr}\n{done.stdout}"
        return json.loads(done.stdout.strip().splitlines()[-1])

    return run


@pytest.fixture
def run_flow(flow_runner: Callable[..., Any], sdk_workspace: str) -> Callable[..., Any]:
    """`run_flow(version, "flow_name", **args)`: the JSON the flow printed, in this test's workspace."""

    def run(version: str, flow: str, **args: Any) -> Any:
        return flow_runner(version, flow, sdk_workspace, **args)

    return run


NEMO_04_SDKS = ("0.4.0", "0.5.1", "0.6.0")


@pytest.fixture(scope="session", params=NEMO_04_SDKS)
def nemo04_flow(request: pytest.FixtureRequest, flow_runner: Callable[..., Any]) -> dict[str, Any]:
    """flows/nemo04.py run once per current-generation SDK, in a workspace of its own: what every step
    answered, with the version, workspace and the days it was given under "sdk" (the tests read it)."""
    from nemo04_data import flow_data  # beside this file: the data the flow ingests

    workspace, data = new_workspace(), flow_data()
    out = flow_runner(request.param, "nemo04", workspace, **data)
    sdk = {"version": request.param, "workspace": workspace, "day0": data["day0"], "day1": data["day1"]}
    return {**out, "sdk": sdk}
