"""Every batch insert's rows name the columns of their table as the DDL makes it: JSONEachRow rows
go in keyed by column name (on chDB as on a server), so a key the table lacks would be dropped and
a column no row names would take its default.

The tables come from the DDL files themselves, applied to a fresh chDB and read back with DESCRIBE
TABLE (in a subprocess: chDB allows one engine per process, and this one's serves the app)."""

import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from intake_service.models.generated import EvaluatorResult, SessionInput
from intake_service.store.clickhouse import evaluator_results, session_rebuild, sessions, spans

SESSION = SessionInput(session_id="s", started_at=datetime(2026, 1, 1, tzinfo=UTC))
EXAMPLE_RESULT = EvaluatorResult.model_validate(EvaluatorResult.model_config["json_schema_extra"]["examples"][0])
ROWS = {
    "sessions": sessions.session_rows("w", "e", [sessions.SessionRecord(SESSION, None, {}, "{}")])[0],
    "evaluator_results": evaluator_results.result_row(EXAMPLE_RESULT, "e"),
    "spans": spans.Span(session_id="s", span_id="a", source="otlp", start_ns=1).row("w", 1),
    "span_sessions": spans.binding_rows("w", {"s": "e"}, 1)[0],
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


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[list[str]]]:
    path = tmp_path_factory.mktemp("ddl") / "clickhouse"
    done = subprocess.run(
        [sys.executable, "-c", DESCRIBE, str(path), *ROWS],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("table", sorted(ROWS))
def test_a_row_names_every_column_of_its_table(tables, table) -> None:
    assert sorted(ROWS[table]) == sorted(name for name, _ in tables[table])


def test_rebuilt_sessions_name_every_column_of_the_table(tables) -> None:
    """The sessions rebuilt from spans go in as rows of their own making."""
    columns: dict[str, list[object]] = {
        "session_id": ["s"], "is_root": [True], "source": ["otlp"], "start_ns": [1], "end_ns": [None],
        "root_status": ["success"], "root_test_case_id": [None], "model_name": [None], "agent_name": [None],
        "agent_version": [None], "input_tokens": [None], "output_tokens": [None], "cached_tokens": [None],
        "cost_usd": [None], "root_input": [None], "root_output": [None], "version": [1],
    }  # fmt: skip
    [row] = session_rebuild.session_rows("w", {"s": "e"}, columns)
    assert sorted(row) == sorted(name for name, _ in tables["sessions"])
