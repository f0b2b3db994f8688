"""Runs the installed command line as a user would: `intake-service …` in a subprocess."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

STARTUP_TIMEOUT_S = 120
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without this machine's store URLs and INTAKE_* settings; wide, so Rich never wraps."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CLICKHOUSE_URL", "ARTIFACT_STORE_URL")}
    env = {k: v for k, v in env.items() if not k.startswith("INTAKE_")}
    return {**env, "COLUMNS": "250", **extra}


def command() -> list[str]:
    script = Path(sys.executable).with_name("intake-service")
    return [str(script)] if script.exists() else [sys.executable, "-m", "intake_service"]


def run(*args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*command(), *args], check=False, capture_output=True, text=True, timeout=timeout, env=clean_env(**env), cwd=REPO
    )


class ServeProcess:
    """`intake-service serve` on a free port and a data directory, its output in a log file."""

    def __init__(self, data_dir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir.parent / f"serve-{self.port}.log"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [*command(), "serve", "--port", str(self.port), "--data-dir", str(data_dir)],
                stdout=log, stderr=subprocess.STDOUT, env=clean_env(),
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self) -> "ServeProcess":
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/health/ready", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"serve did not answer within {STARTUP_TIMEOUT_S} s:\n{self.log()}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()
