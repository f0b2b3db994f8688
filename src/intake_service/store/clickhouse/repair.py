"""Sessions and rollups after a crash, when the last process did not shut down cleanly.

A span ingest stores its spans and then rebuilds their sessions from them. A process killed in
between keeps spans that no session shows (or shows without them): STALE_SPAN_SESSIONS finds every
span set whose session row, in the experiment it is bound to, is missing or older than its newest
span, and domain/spans.rebuild_stale_sessions rebuilds those before the rollups are recomputed.

An ingest inserts its sessions (one block: all or nothing) and marks the experiment's row in
`experiment_rollups` stale; the row is rewritten before the next read (store/clickhouse/stale_rollups.py).
A process killed in between (SIGKILL, OOM, power) keeps the sessions but not the rewrite, and
nothing would correct the row until the next ingest into that experiment:
run_count, the statistics and the leaderboard order would disagree with the sessions. Timestamps
cannot tell which rows are missing (an ingest's `version` is taken before it waits for the store,
so a concurrent rewrite may be newer and still not include it), so after an unclean shutdown every
experiment that has sessions or a non-empty rollup row is recomputed from the sessions, in batches.
"""

import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from intake_service.store.clickhouse import rollups
from intake_service.store.clickhouse.executor import Executor

# Workspaces `recompute_all_rollups` computes side by side, each on a connection of its own: 200 of
# them took 3.2 s on one thread, 2.1 s on two and 1.7 s on four (2 cores, embedded).
RECOMPUTE_THREADS = 4

# Every experiment with sessions or a non-empty rollup row ('' is a span session bound to none).
ROLLUP_TARGETS = """
SELECT DISTINCT workspace, experiment_id FROM (
    SELECT workspace, experiment_id FROM sessions
    UNION ALL
    SELECT workspace, experiment_id FROM experiment_rollups FINAL WHERE run_count > 0
)
WHERE experiment_id != '' AND ({workspace:Nullable(String)} IS NULL OR workspace = {workspace:Nullable(String)})
ORDER BY workspace, experiment_id
"""

# Per span set: its newest span's version, and the experiment tag of its earliest tagged root (the
# binding an ingest would have written, for a set that has no binding row). A session row is
# rebuilt with a version taken after its spans were stored, so an older (or missing: 0) row misses
# some of them.
STALE_SPAN_SESSIONS = """
SELECT sp.workspace AS workspace, sp.session_id AS session_id, sp.tag AS tag
FROM (
    SELECT workspace, session_id, max(version) AS span_version,
           argMinIf(experiment_name, start_time, parent_span_id = '' AND experiment_name IS NOT NULL) AS tag
    FROM spans FINAL
    GROUP BY workspace, session_id
) AS sp
LEFT JOIN (SELECT workspace, session_id, experiment_id FROM span_sessions FINAL) AS b
    ON b.workspace = sp.workspace AND b.session_id = sp.session_id
LEFT JOIN (
    SELECT workspace, experiment_id, session_id, max(version) AS session_version
    FROM sessions
    GROUP BY workspace, experiment_id, session_id
) AS s ON s.workspace = sp.workspace AND s.session_id = sp.session_id AND s.experiment_id = b.experiment_id
WHERE s.session_version < sp.span_version
ORDER BY workspace, session_id
SETTINGS join_use_nulls = 0
"""


def recompute_all_rollups(executor: Executor, workspace: str | None = None) -> int:
    """Rewrite the rollup row of every experiment (of `workspace`, or of all) that has sessions, and
    reset the rows of experiments that have none left; returns how many experiments were recomputed.
    The rows are computed as a read computes them (`rollups.computed_rows`), RECOMPUTE_THREADS
    workspaces at a time, and stored BATCH rows per INSERT, across workspaces, not by a recompute
    statement per workspace (twice the cost of a computation) one after another."""
    targets: dict[str, list[str]] = defaultdict(list)
    for row in executor.query(ROLLUP_TARGETS, {"workspace": workspace}):
        targets[row["workspace"]].append(row["experiment_id"])
    unstored = _Unstored(executor)
    with ThreadPoolExecutor(RECOMPUTE_THREADS, thread_name_prefix="recompute") as pool:
        # list(): a failure in any workspace fails the repair (its marks stay for the next start).
        list(pool.map(partial(_recompute, executor, unstored=unstored), targets.keys(), targets.values()))
    unstored.flush()
    return sum(len(ids) for ids in targets.values())


def _recompute(executor: Executor, workspace: str, experiment_ids: list[str], unstored: "_Unstored") -> None:
    """Compute the rows of the workspace's experiments that have sessions and reset the others'."""
    has_results = rollups.has_evaluator_results(executor, workspace)
    computed = set()
    for row, stored in rollups.computed_rows(executor, workspace, experiment_ids, has_results):
        computed.add(row["experiment_id"])
        unstored.add(stored)
    rollups.reset_empty(executor, workspace, [e for e in experiment_ids if e not in computed])


class _Unstored:
    """Computed rows as JSONEachRow, stored BATCH at a time by the thread that fills a batch: memory
    holds a batch, not a workspace of 100,000 rows."""

    def __init__(self, executor: Executor) -> None:
        self._executor = executor
        self._rows: list[bytes] = []
        self._lock = threading.Lock()

    def add(self, row: bytes) -> None:
        with self._lock:
            self._rows.append(row)
            if len(self._rows) < rollups.BATCH:
                return
            batch, self._rows = self._rows, []
        rollups.insert_rows(self._executor, batch)

    def flush(self) -> None:
        if self._rows:
            rollups.insert_rows(self._executor, self._rows)
            self._rows = []
