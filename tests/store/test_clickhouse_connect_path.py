"""The server executor (clickhouse-connect) runs the same migrations, inserts and rollup SQL.

No ClickHouse server installs here, so the test points HttpExecutor at clickhouse-connect's own
chDB backend (`chdb:///path`): the client-side code that a server would see — parameter binding
of strings, NULL and arrays, the JSONEachRow request-body insert, Map/Tuple result decoding — is
clickhouse-connect's, not ours. It runs in a subprocess because chDB allows one engine per process.
"""

import json
import subprocess
import sys

SCRIPT = r"""
import json, sys
from intake_service.domain.ingest import validate_sessions
from intake_service.store.clickhouse import rollups as R, sessions as S
from intake_service.store.clickhouse.executor import HttpExecutor
from intake_service.store.clickhouse.migrate import apply_migrations

executor = HttpExecutor("chdb://" + sys.argv[1])
applied = apply_migrations(executor)
tricky = "q'\"\\\n\t é"
sessions = [
    {"session_id": f"s{i}", "started_at": "2026-01-01T00:00:00Z", "cost_usd": i * 0.5,
     "scores": {"acc": i / 10, "ok": i % 2 == 0}, "input": tricky}
    for i in range(5)
]
rows = S.session_rows("w", "e1", validate_sessions(sessions))
executor.insert_rows("sessions", rows)
executor.command(R.RECOMPUTE_ROLLUPS, {"workspace": "w", "experiment_ids": ["e1"]})
rollups = R.to_rollups(executor.query(R.READ_ROLLUPS, {"workspace": "w", "experiment_ids": ["e1"]})[0])
echo = executor.query(
    "SELECT input, {n:Nullable(String)} IS NULL AS none, {a:Array(String)} AS a FROM sessions "
    "WHERE workspace = {w:String} AND session_id = {s:String}",
    {"w": "w", "s": "s1", "n": None, "a": [tricky, "x"]},
)[0]
print(json.dumps({"applied": applied, "rollups": rollups, "echo": echo, "tricky": tricky}))
"""


def test_server_executor_runs_the_same_sql(tmp_path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "ch")], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["applied"][0] == "0001_sessions.sql"
    assert not [name for name in result["applied"] if name.endswith(".embedded.sql")]  # the embedded chDB's tuning
    rollups = result["rollups"]
    assert rollups["run_count"] == 5
    assert rollups["cost_usd"]["sum"] == 5.0
    assert abs(rollups["cost_usd"]["p90"] - 1.8) < 1e-12
    assert abs(rollups["aggregate_scores"]["acc"]["mean"] - 0.2) < 1e-12
    assert rollups["aggregate_scores"]["ok"]["sum"] == 3.0
    assert rollups["evaluator_names"] == ["acc", "ok"]
    echo = result["echo"]
    assert echo["input"] == result["tricky"]
    assert echo["none"] == 1
    assert echo["a"] == [result["tricky"], "x"]
