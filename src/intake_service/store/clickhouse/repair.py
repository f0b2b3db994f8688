"""Rollups after a crash: recompute them all when the last process did not shut down cleanly.

An ingest inserts its sessions (one block: all or nothing) and then rewrites the experiment's row
in `experiment_rollups`. A process killed between the two (SIGKILL, OOM, power) keeps the sessions
but not the rewrite, and nothing would correct the row until the next ingest into that experiment:
run_count, the statistics and the leaderboard order would disagree with the sessions. Timestamps
cannot tell which rows are missing (an ingest's `version` is taken before it waits for the store,
so a concurrent rewrite may be newer and still not include it), so after an unclean shutdown every
experiment that has sessions or a non-empty rollup row is recomputed from the sessions, in batches.
"""

import logging
from collections import defaultdict

from intake_service.store.clickhouse import rollups as rollup_sql
from intake_service.store.clickhouse.executor import Executor
from intake_service.store.clickhouse.spans import RESET_EMPTY_ROLLUPS

logger = logging.getLogger(__name__)
BATCH = 500

ROLLUP_TARGETS = """
SELECT DISTINCT workspace, experiment_id FROM (
    SELECT workspace, experiment_id FROM sessions
    UNION ALL
    SELECT workspace, experiment_id FROM experiment_rollups FINAL WHERE run_count > 0
)
ORDER BY workspace, experiment_id
"""


def recompute_all_rollups(executor: Executor) -> int:
    """Rewrite the rollup row of every experiment with sessions, and zero the rows of experiments
    that have none left; returns how many experiments were recomputed."""
    targets: dict[str, list[str]] = defaultdict(list)
    for row in executor.query(ROLLUP_TARGETS):
        targets[row["workspace"]].append(row["experiment_id"])
    for workspace, experiment_ids in targets.items():
        has_results = executor.query(rollup_sql.HAS_EVALUATOR_RESULTS, {"workspace": workspace})[0]["n"]
        sql = rollup_sql.RECOMPUTE_ROLLUPS_WITH_RESULTS if has_results else rollup_sql.RECOMPUTE_ROLLUPS
        for start in range(0, len(experiment_ids), BATCH):
            params = {"workspace": workspace, "experiment_ids": experiment_ids[start : start + BATCH]}
            executor.command(sql, params)
            executor.command(RESET_EMPTY_ROLLUPS, params)
    return sum(len(ids) for ids in targets.values())
