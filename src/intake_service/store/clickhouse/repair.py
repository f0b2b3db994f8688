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

from intake_service.store.clickhouse import rollups
from intake_service.store.clickhouse.executor import Executor

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
    """Every experiment's rollup row, rewritten from its sessions; returns how many were recomputed."""
    return rollups.recompute_all(executor)
