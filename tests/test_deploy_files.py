"""Static checks of Dockerfile and docker-compose.yml (no Docker engine runs in CI): they parse,
point at each other, and name only commands, files and routes that exist in this package."""

import json
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
import yaml

from intake_service.cli import app as cli_app
from intake_service.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = (pending + stripped).strip()
        pending = ""
        if full:
            keyword, _, args = full.partition(" ")
            instructions.append((keyword.upper(), args.strip()))
    assert not pending, "Dockerfile ends inside a continued line"
    return instructions


def exec_form(args: str) -> list[str]:
    """A JSON-array (exec form) argument list; shell form is split like a shell would."""
    if args.startswith("["):
        value = json.loads(args)
        assert isinstance(value, list) and all(isinstance(v, str) for v in value)
        return value
    return shlex.split(args)


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def console_scripts() -> dict[str, str]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]


def health_paths(text: str) -> set[str]:
    return set(re.findall(r"https?://[^/'\" ]+(/health/[a-z]+)", text))


async def assert_probes_answer(client: httpx.AsyncClient, paths: set[str]) -> None:
    assert paths, "the health check probes no /health/... URL"
    for path in paths:
        response = await client.get(path)
        assert response.status_code == 200, f"{path} answers {response.status_code} on the real app"


class TestDockerfile:
    def test_base_image_is_slim_python_311(self) -> None:
        base = [args for keyword, args in dockerfile_instructions() if keyword == "FROM"]
        assert base and base[-1].split()[0] == "python:3.11-slim"

    def test_runs_as_a_non_root_user(self) -> None:
        users = [args.split(":")[0] for keyword, args in dockerfile_instructions() if keyword == "USER"]
        assert users, "the image runs as root: add a USER"
        assert users[-1] not in ("root", "0")

    def test_installs_the_package_non_editable(self) -> None:
        runs = " ".join(args for keyword, args in dockerfile_instructions() if keyword == "RUN")
        assert re.search(r"pip install \.(\s|$|&)", runs), runs
        assert "-e" not in shlex.split(runs.split("pip install", 1)[1])[:2]

    def test_copied_sources_exist_and_cover_the_build(self) -> None:
        copied: set[str] = set()
        for keyword, args in dockerfile_instructions():
            if keyword in ("COPY", "ADD"):
                parts = [p for p in exec_form(args) if not p.startswith("--")]
                for source in parts[:-1]:
                    assert (ROOT / source).exists(), f"COPY source {source} does not exist"
                    copied.add(source.rstrip("/"))
        # What hatchling needs to build the wheel: metadata, the readme, the package, the migrations.
        readme = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["readme"]
        assert {"pyproject.toml", readme, "src", "migrations"} <= copied

    def test_command_is_a_console_script_with_an_existing_subcommand(self) -> None:
        instructions = dict(dockerfile_instructions())  # the last CMD/ENTRYPOINT wins, as in Docker
        command = exec_form(instructions.get("ENTRYPOINT", "[]")) + exec_form(instructions.get("CMD", "[]"))
        assert command, "the Dockerfile has no CMD or ENTRYPOINT"
        assert command[0] in console_scripts(), f"{command[0]} is not in [project.scripts]"
        assert console_scripts()[command[0]] == "intake_service.cli:app"
        subcommands = typer.main.get_command(cli_app).commands  # type: ignore[attr-defined]
        assert command[1] in subcommands, f"{command[1]!r} is not an intake-service subcommand"
        # Every option passed must be one the subcommand declares.
        declared = {opt for param in subcommands[command[1]].params for opt in param.opts}
        for arg in command[2:]:
            if arg.startswith("--"):
                assert arg.split("=")[0] in declared, f"{arg} is not an option of {command[1]}"

    def test_binds_all_interfaces_inside_the_container(self) -> None:
        text = " ".join(args for keyword, args in dockerfile_instructions() if keyword in ("ENV", "CMD"))
        assert "INTAKE_HOST=0.0.0.0" in text or "--host 0.0.0.0" in " ".join(
            exec_form(dict(dockerfile_instructions())["CMD"])
        )

    async def test_healthcheck_probes_a_served_route(self, client: httpx.AsyncClient) -> None:
        checks = [args for keyword, args in dockerfile_instructions() if keyword == "HEALTHCHECK"]
        assert checks, "the Dockerfile has no HEALTHCHECK"
        await assert_probes_answer(client, health_paths(checks[-1]))


class TestCompose:
    SERVICES = ("postgres", "clickhouse", "intake-service")

    def test_has_the_three_services(self) -> None:
        assert set(self.SERVICES) <= set(compose()["services"])

    def test_images(self) -> None:
        services = compose()["services"]
        assert services["postgres"]["image"] == "postgres:17"
        assert services["clickhouse"]["image"].split(":")[0] == "clickhouse/clickhouse-server"

    def test_service_is_built_from_the_dockerfile(self) -> None:
        build = compose()["services"]["intake-service"]["build"]
        context = build if isinstance(build, str) else build.get("context", ".")
        dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
        assert (ROOT / context / dockerfile).resolve() == (ROOT / "Dockerfile").resolve()

    def test_service_points_at_both_servers(self) -> None:
        services = compose()["services"]
        env = services["intake-service"]["environment"]
        if isinstance(env, list):
            env = dict(item.split("=", 1) for item in env)
        database, clickhouse = env["DATABASE_URL"], env["CLICKHOUSE_URL"]
        # The URLs must pass the settings validators and name the compose services as hosts.
        settings = Settings(database_url=database, clickhouse_url=clickhouse)
        assert settings.database_url and "@postgres:" in settings.database_url
        assert settings.clickhouse_url and "@clickhouse:" in settings.clickhouse_url
        pg_env = services["postgres"]["environment"]
        assert f"{pg_env['POSTGRES_USER']}:{pg_env['POSTGRES_PASSWORD']}@" in database
        assert database.rsplit("/", 1)[1] == pg_env["POSTGRES_DB"]

    def test_service_waits_for_healthy_stores(self) -> None:
        depends = compose()["services"]["intake-service"]["depends_on"]
        for store in ("postgres", "clickhouse"):
            assert depends[store]["condition"] == "service_healthy"

    @pytest.mark.parametrize("service", SERVICES)
    def test_every_service_has_a_healthcheck(self, service: str) -> None:
        check = compose()["services"][service]["healthcheck"]
        test = check["test"]
        assert (isinstance(test, list) and test[0] in ("CMD", "CMD-SHELL") and len(test) > 1) or (
            isinstance(test, str) and test
        )

    async def test_service_healthcheck_probes_a_served_route(self, client: httpx.AsyncClient) -> None:
        test = compose()["services"]["intake-service"]["healthcheck"]["test"]
        await assert_probes_answer(client, health_paths(" ".join(test) if isinstance(test, list) else test))
