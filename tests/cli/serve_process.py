"""Runs the installed command line as a user would: `intake-service …` in a subprocess."""

import subprocess
from pathlib import Path

from support import cli

REPO = Path(__file__).resolve().parents[2]


def run(*args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    return cli(*args, env=env, timeout=timeout)
