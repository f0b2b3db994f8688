"""The first minutes of a new user: start-up mistakes answer with one sentence and a non-zero exit
(no traceback, nothing started), --version, --help with every default, start-up progress and a
quiet stop."""

import re
import socket
from pathlib import Path

import httpx
import pytest

from cli.serve_process import run
from intake_service import __version__

from support import Server, free_port


def assert_one_sentence(result, *words: str) -> str:
    """A non-zero exit whose whole output is one sentence (one line, one full stop at its end)."""
    output = (result.stdout + result.stderr).strip()
    assert result.returncode != 0, output
    assert "Traceback" not in output
    assert "\n" not in output and output.endswith("."), output
    assert not re.search(r"\.\s+[A-Z]", output), f"more than one sentence: {output}"
    for word in words:
        assert word in output, output
    return output


@pytest.mark.parametrize(
    ("args", "env", "names"),
    [
        (["--auth", "foo"], {}, ["--auth", "'foo'"]),
        ([], {"INTAKE_PORT": "abc"}, ["INTAKE_PORT", "'abc'"]),
        (["--port", "abc"], {}, ["--port", "'abc'"]),
        (["--log-level", "verbose"], {}, ["--log-level", "'verbose'"]),
        ([], {"INTAKE_LOG_LEVEL": "loud"}, ["INTAKE_LOG_LEVEL", "'loud'"]),
    ],
)
def test_an_invalid_setting_is_one_sentence_before_anything_starts(scratch: Path, args, env, names):
    data_dir = scratch / "data"
    # A flag would win over the variable.
    port = [] if "INTAKE_PORT" in env or "--port" in args else ["--port", str(free_port())]
    result = run("serve", *port, "--data-dir", str(data_dir), *args, timeout=30, **env)
    assert_one_sentence(result, *names)
    assert not data_dir.exists(), "the stores started before the settings were checked"


def test_a_busy_port_names_the_port_option(scratch: Path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run("serve", "--port", str(port), "--data-dir", str(scratch / "data"), timeout=30)
    assert_one_sentence(result, str(port), "--port")
    assert not (scratch / "data" / "postgres").exists()


def test_a_data_directory_that_cannot_be_written(scratch: Path):
    blocker = scratch / "a-file"
    blocker.write_text("not a directory")
    result = run("serve", "--port", str(free_port()), "--data-dir", str(blocker / "data"), timeout=30)
    assert_one_sentence(result, str(blocker / "data"), "--data-dir")


@pytest.mark.parametrize("command", [["migrate"], ["keys", "list"]])
def test_other_commands_answer_a_bad_data_directory_the_same_way(scratch: Path, command):
    blocker = scratch / "a-file"
    blocker.write_text("")
    assert_one_sentence(run(*command, "--data-dir", str(blocker / "data"), timeout=30), "--data-dir")


def test_version():
    result = run("--version", timeout=30)
    assert result.returncode == 0
    assert result.stdout.strip() == f"intake-service {__version__}"


@pytest.mark.parametrize("command", [["serve"], ["migrate"], ["ingest"], ["keys", "create"], ["keys", "list"]])
def test_help_shows_every_options_default(command):
    result = run(*command, "--help", timeout=30)
    assert result.returncode == 0, result.stderr
    options = [line for line in result.stdout.splitlines() if re.match(r"^│ +(\* +)?--", line)]
    assert options, result.stdout
    for line in options:
        if "--help" not in line:
            assert "[default: " in line or "[required]" in line, line
    if command == ["serve"]:
        for default in ("[default: 127.0.0.1]", "[default: 8080]", "[default: ./.intake-data]", "[default: info]"):
            assert default in result.stdout


def test_start_up_progress_a_second_server_and_a_quiet_stop(scratch: Path):
    data_dir = scratch / "data"
    first = Server(data_dir)
    try:
        first.start()
        second = run("serve", "--port", str(free_port()), "--data-dir", str(data_dir), timeout=60)
        assert_one_sentence(second, "Another intake-service", str(data_dir), "--data-dir")
        assert httpx.get(f"{first.url}/health/ready", timeout=10).status_code == 200
    finally:
        assert first.stop() == 0
    log = first.output()
    # ClickHouse is opened and migrated while PostgreSQL starts, and PostgreSQL migrated once it answers.
    steps = ["Starting PostgreSQL", "Starting ClickHouse", "Migrating PostgreSQL", "Ready in", "Stopping PostgreSQL"]
    positions = [log.find(step) for step in steps]
    assert -1 not in positions and positions == sorted(positions), log
    assert re.search(r"Ready in \d+\.\d s on http://127\.0\.0\.1:\d+", log), log
    assert "remaining pids" not in log and "pg_ctl" not in log, log
