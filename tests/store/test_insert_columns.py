"""Every batch insert's column list is its table as the DDL makes it: the same columns, in the same
order, of the same types. chDB inserts `SELECT * FROM format(JSONEachRow, <structure>, ...)`, so
the structure string maps onto the table by position; a column added to the DDL but not here (or in
another place) would shift every value after it.

The tables come from the DDL files themselves, applied to a fresh chDB and read back with DESCRIBE
TABLE (in a subprocess: chDB allows one engine per process, and this one's serves the app)."""

import json
import re
import subprocess
import sys

import pytest

from intake_service.store.clickhouse import evaluator_results, metrics, sessions, spans

STRUCTURES = {
    "sessions": sessions.SESSION_COLUMNS,
    "evaluator_results": evaluator_results.EVALUATOR_RESULT_COLUMNS,
    "spans": spans.SPAN_COLUMNS,
    "span_sessions": spans.BINDING_COLUMNS,
    "workbench_metrics": metrics.METRIC_COLUMNS,
}

DESCRIBE = r"""
import json, sys
from pathlib import Path
from intake_service.store.clickhouse.executor import ChdbExecutor
from intake_service.store.clickhouse.migrate import apply_migrations

executor = ChdbExecutor(Path(sys.argv[1]))
apply_migrations(executor)
tables = {
    table: [[row["name"], row["type"]] for row in executor.query(f"DESCRIBE TABLE {table}")]
    for table in sys.argv[2:]
}
executor.close()
print(json.dumps(tables))
"""


def columns(structure: str) -> list[list[str]]:
    """[name, type] pairs of a structure string; commas inside a type's parentheses are the type's."""
    pairs, depth, start = [], 0, 0
    for index, char in enumerate(structure + ","):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            name, type_ = structure[start:index].strip().split(" ", 1)
            pairs.append([name, type_])
            start = index + 1
    return pairs


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[list[str]]]:
    path = tmp_path_factory.mktemp("ddl") / "clickhouse"
    done = subprocess.run(
        [sys.executable, "-c", DESCRIBE, str(path), *STRUCTURES],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("table", sorted(STRUCTURES))
def test_insert_structure_is_the_table(tables, table) -> None:
    assert columns(STRUCTURES[table]) == tables[table]


def test_rebuilt_sessions_name_every_column_of_the_table(tables) -> None:
    """The span-built sessions go in with a named column list: it must name each column once."""
    listed = re.search(r"INSERT INTO sessions\s*\(([^)]*)\)", spans.REBUILD_SESSIONS)
    assert listed is not None
    assert [name.strip() for name in listed.group(1).split(",")] == [name for name, _ in tables["sessions"]]


def test_the_column_parser_keeps_parenthesised_commas() -> None:
    assert columns("a DateTime64(6, 'UTC'), b Map(String, Float64), c UInt64") == [
        ["a", "DateTime64(6, 'UTC')"], ["b", "Map(String, Float64)"], ["c", "UInt64"],
    ]  # fmt: skip
