"""Rollups after a crash: recompute them all when the last process did not shut down cleanly.

An ingest inserts its sessions (one block: all or nothing) and then rewrites the experiment's row
in `experiment_rollups`. A process killed between the two (SIGKILL, OOM, power) keeps the sessions
but not the rewrite, and nothing would correct the row until the next ingest into that experiment:
run_count, the statistics and the leaderboard order would disagree with the sessions. Timestamps
cannot tell which rows are missing (an ingest's `version` is taken before it waits for the store,
so a concurrent rewrite may be newer and still not include it), so after an unclean shutdown every
experiment that has sessions or a non-empty rollup row is recomputed from the sessions, in batches.
"""

from intake_service.store.clickhouse import rollups
from intake_service.store.clickhouse.executor import Executor


def recompute_all_rollups(executor: Executor) -> int:
    """Every experiment's rollup row, rewritten from its sessions; returns how many were recomputed."""
    return rollups.recompute_all(executor)
