"""Sessions and rollups after a crash, when the last process did not shut down cleanly.

A span ingest stores its spans and then rebuilds their sessions from them. A process killed in
between keeps spans that no session shows (or shows without them): STALE_SPAN_SESSIONS finds every
span set whose session row, in the experiment it is bound to, is missing or older than its newest
span, and domain/spans.rebuild_stale_sessions rebuilds those before the rollups are recomputed.

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
