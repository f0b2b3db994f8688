"""Opt-in: bench/differential.py, which sends one sequence of requests to this service and to NeMo's
own intake server and compares the answers, finds no unexpected difference (docs/DIFFERENTIAL.md).

Skipped unless INTAKE_TEST_NEMO_REFERENCE is set, since the reference takes about 2 minutes to
install: set it to the URL of a running reference server
(`../shared/tools/nemo-reference/start.sh 0.3.0 PORT`, then create no workspace: the script does),
or to `start` to have the script install (once) and start one itself."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REFERENCE = os.environ.get("INTAKE_TEST_NEMO_REFERENCE")
SCRIPT = Path(__file__).parents[1] / "bench" / "differential.py"


@pytest.mark.skipif(not REFERENCE, reason="INTAKE_TEST_NEMO_REFERENCE is not set (opt-in, ~2 min install)")
def test_no_unexpected_difference_from_nemo(tmp_path: Path) -> None:
    reference = [] if REFERENCE == "start" else ["--reference", str(REFERENCE)]
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *reference, "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=1200, check=False,
    )  # fmt: skip
    report = (tmp_path / "differential.md").read_text() if (tmp_path / "differential.md").exists() else ""
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}\n{report}"
