"""Settings refused at start (issue 11, finding 12): one sentence on stderr, a non-zero exit, and
nothing started."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from intake_service.settings import Settings


def test_jwt_secret_shorter_than_32_bytes_is_refused_at_start(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    result = subprocess.run(
        [sys.executable, "-m", "intake_service", "serve", "--port", "1", "--data-dir", str(tmp_path / "data")],
        env={**env, "INTAKE_JWT_SECRET": "s" * 31}, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1 and message.endswith("."), message
    assert "INTAKE_JWT_SECRET" in message and "32 bytes" in message
    assert not (tmp_path / "data").exists()


def test_jwt_secret_length_is_counted_in_bytes() -> None:
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        Settings(jwt_secret="é" * 15)  # 30 bytes in UTF-8
    assert Settings(jwt_secret="é" * 16).jwt_secret == "é" * 16
    assert Settings(jwt_secret="s" * 32).jwt_secret == "s" * 32
    assert Settings(jwt_secret="").jwt_secret is None
