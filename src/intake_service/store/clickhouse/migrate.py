"""Applies ddl/NNNN_*.sql in order and records each applied number, once.

On a cluster (`INTAKE_CLICKHOUSE_CLUSTER`), the same files become `ON CLUSTER <name>` statements
with Replicated engines: configuration, not a second copy of the DDL. A file named `*.embedded.sql`
tunes the embedded chDB only, whose engine version the project pins: a ClickHouse server of another
version may not know its settings (an unknown one fails the ALTER), so a server skips it.
"""

from importlib import resources
from string import Template

from intake_service.store.clickhouse.executor import ChdbExecutor, Executor

EMBEDDED_ONLY = ".embedded.sql"

LEDGER_DDL = Template(
    "CREATE TABLE IF NOT EXISTS intake_schema_migrations ${on_cluster} "
    "(version UInt32, name String, applied_at DateTime DEFAULT now()) "
    "ENGINE = ${replicated}ReplacingMergeTree ORDER BY version"
)


def ddl_files() -> list[tuple[int, str, str]]:
    folder = resources.files("intake_service.store.clickhouse") / "ddl"
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    numbered = [(int(f.name.split("_", 1)[0]), f.name, f.read_text()) for f in files]
    seen: dict[int, str] = {}
    for version, name, _ in numbered:
        if version in seen:
            raise ValueError(f"Two ClickHouse migrations share number {version}: {seen[version]} and {name}.")
        seen[version] = name
    return numbered


def render(sql: str, cluster: str | None) -> str:
    substitutions = {
        "on_cluster": f"ON CLUSTER `{cluster}`" if cluster else "",
        "replicated": "Replicated" if cluster else "",
    }
    return Template(sql).substitute(substitutions)


def apply_migrations(executor: Executor, cluster: str | None = None) -> list[str]:
    """Apply what is missing; return the names applied now."""
    if cluster and "`" in cluster:
        raise ValueError("The ClickHouse cluster name may not contain a backtick.")
    executor.command(render(LEDGER_DDL.template, cluster))
    done = {row["version"] for row in executor.query("SELECT version FROM intake_schema_migrations")}
    applied = []
    embedded = isinstance(executor, ChdbExecutor)
    for version, name, sql in ddl_files():
        if version in done or (name.endswith(EMBEDDED_ONLY) and not embedded):
            continue
        executor.command(render(sql, cluster))
        executor.command(
            "INSERT INTO intake_schema_migrations (version, name) VALUES ({version:UInt32}, {name:String})",
            {"version": version, "name": name},
        )
        applied.append(name)
    return applied
