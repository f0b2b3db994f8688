"""When the embedded store rewrites an experiment's rollup row: once before the next read that needs
it, not on every ingest. An ingest marks its experiments stale after its insert and before it
answers; a read of rollups first refreshes the stale ones it reads, so a burst of 1,000 ingests into
one experiment costs one recompute and every read still sees every acknowledged session.

The same process keeps the rollup rows it has read (up to CACHED), until it marks them stale: a read
of one experiment or a page of them then needs no ClickHouse statement at all. It keeps a few metric
columns too (a metric's value for every experiment of a workspace, what a rollup sort or filter reads:
100,000 pairs in a large workspace); when rows of the workspace change, the next read of a column
reads the values of those experiments only and patches it.

Marks and cached rows live in this process, which is right only while this process is the only
writer: the embedded chDB is (one process per data directory). With a ClickHouse server, several processes may
serve the same store, so each ingest refreshes at once, as before. A process killed with marks
pending leaves stale rows behind, which the unclean-shutdown repair recomputes on the next start
(embedded/bootstrap.py); a clean shutdown refreshes them first (`flush`).
"""

import asyncio
from collections import OrderedDict, defaultdict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Protocol, Self, TypeVar

from intake_service.store.clickhouse import rollups as rollup_sql
from intake_service.store.clickhouse.executor import Executor

Rollups = dict[str, Any]


class Patchable(Protocol):
    def patched(self, changed: list[str], part: Self) -> Self:
        """This column with the values of the `changed` experiments taken from `part` (read for them)."""
        ...


Column = TypeVar("Column", bound=Patchable)
# Rollup rows kept in memory (a few KB each): beyond this, the oldest go.
CACHED = 20_000
# Metric columns kept in memory (about 10 MB for 100,000 experiments): beyond this, the least used go.
COLUMNS_CACHED = 8
# The kinds of rollups `read` keeps: the seeds' (experiment_rollups rows) and SDK 0.3.0's evaluation rollups.
KINDS = ("", "evaluation")
# Changed experiments a cached column is patched for; after more changes, it is read whole again.
PATCHED = 1_000


class StaleRollups:
    def __init__(self, executor: Executor, *, deferred: bool) -> None:
        self._executor = executor
        self.deferred = deferred
        # workspace → experiment id → whether it may have lost its last session (its row then resets)
        self._stale: dict[str, dict[str, bool]] = defaultdict(dict)
        # workspace → experiment ids a refresh is rewriting now: a reader of those waits for it
        self._refreshing: dict[str, set[str]] = defaultdict(set)
        # One refresh at a time: the next reader of the same rows waits and then finds them fresh.
        self._lock = asyncio.Lock()
        # (workspace, experiment id, kind) → its rollups as last read, None for none; deferred mode only
        self._cached: dict[tuple[str, str, str], Rollups | None] = {}
        # workspace → bumped whenever one of its rows changes: a read of rows or of a column that started
        # before keeps its answer out of memory
        self._changes: dict[str, int] = defaultdict(int)
        # workspace → experiment id → the workspace's _changes when it last changed, oldest first (up to
        # PATCHED), and the last _changes of those no longer listed
        self._changed: dict[str, dict[str, int]] = defaultdict(dict)
        self._unlisted: dict[str, int] = defaultdict(int)
        # (workspace, key) → (its workspace's _changes when read, the column); deferred mode only
        self._columns: OrderedDict[tuple[str, Hashable], tuple[int, Any]] = OrderedDict()

    async def read(
        self,
        workspace: str,
        experiment_ids: list[str],
        fetch: Callable[[list[str]], Awaitable[dict[str, Rollups]]],
        kind: str = "",
    ) -> dict[str, Rollups]:
        """experiment id → rollups, fresh: stale rows are rewritten first, the rest come from memory or
        from `fetch` (the store's read of those ids). `kind` names rollups of another definition
        computed from the same rows (the SDK 0.3.0 evaluation rollups), kept beside them."""
        await self.refresh(workspace, experiment_ids)
        if not self.deferred:
            return await fetch(experiment_ids)
        found: dict[str, Rollups] = {}
        missing = []
        for experiment_id in experiment_ids:
            key = (workspace, experiment_id, kind)
            if key not in self._cached:
                missing.append(experiment_id)
            elif (rollups := self._cached[key]) is not None:
                found[experiment_id] = rollups
        if missing:
            changes = self._changes[workspace]
            fetched = await fetch(missing)
            if changes == self._changes[workspace]:
                for experiment_id in missing:
                    self._remember((workspace, experiment_id, kind), fetched.get(experiment_id))
            found.update(fetched)
        return found

    async def read_column(
        self, workspace: str, key: Hashable, fetch: Callable[[list[str] | None], Awaitable[Column]]
    ) -> Column:
        """A column over all the workspace's rollup rows, fresh: every stale row of the workspace is
        rewritten first. `fetch(None)` reads it whole, `fetch(ids)` for those experiments only."""
        await self.refresh(workspace)
        if not self.deferred:
            return await fetch(None)
        changes = self._changes[workspace]
        cached = self._columns.get((workspace, key))
        if cached is not None and cached[0] == changes:
            self._columns.move_to_end((workspace, key))
            hit: Column = cached[1]
            return hit
        if cached is not None and cached[0] >= self._unlisted[workspace]:
            since = [e for e, change in self._changed[workspace].items() if change > cached[0]]
            column = cached[1].patched(since, await fetch(since)) if since else cached[1]
        else:
            column = await fetch(None)
        if changes == self._changes[workspace]:
            self._columns[(workspace, key)] = (changes, column)
            self._columns.move_to_end((workspace, key))
            if len(self._columns) > COLUMNS_CACHED:
                self._columns.popitem(last=False)
        return column

    def forget(self, workspace: str, experiment_ids: list[str]) -> None:
        """Drop these rows from memory (call on the event loop, after they changed or will change)."""
        self._changes[workspace] += 1
        changed = self._changed[workspace]
        for experiment_id in experiment_ids:
            changed.pop(experiment_id, None)  # listed again as the newest
            changed[experiment_id] = self._changes[workspace]
        while len(changed) > PATCHED:
            oldest = next(iter(changed))
            self._unlisted[workspace] = changed.pop(oldest)
        for experiment_id in experiment_ids:
            for kind in KINDS:
                self._cached.pop((workspace, experiment_id, kind), None)

    def _remember(self, key: tuple[str, str, str], rollups: Rollups | None) -> None:
        self._cached[key] = rollups
        if len(self._cached) > CACHED:
            del self._cached[next(iter(self._cached))]

    async def mark(self, workspace: str, experiment_ids: list[str], *, may_be_empty: bool = False) -> None:
        """Call after the write is stored: an earlier mark could be refreshed away before it lands."""
        marked = self._stale[workspace]
        for experiment_id in experiment_ids:
            marked[experiment_id] = marked.get(experiment_id, False) or may_be_empty
        self.forget(workspace, experiment_ids)
        if not self.deferred:
            await self.refresh(workspace, experiment_ids)

    async def refresh(self, workspace: str, experiment_ids: list[str] | None = None) -> None:
        """Rewrite the stale rows among `experiment_ids` (None: all of the workspace's) before a read."""
        if not self._pending(workspace, experiment_ids):
            return
        async with self._lock:
            marked = self._stale[workspace]
            wanted = list(marked) if experiment_ids is None else [e for e in experiment_ids if e in marked]
            taken = {experiment_id: marked.pop(experiment_id) for experiment_id in wanted}
            if not taken:
                return
            self._refreshing[workspace].update(taken)
            try:
                await asyncio.to_thread(self._rewrite, workspace, taken)
            except BaseException:
                for experiment_id, may_be_empty in taken.items():  # still stale
                    marked[experiment_id] = marked.get(experiment_id, False) or may_be_empty
                raise
            finally:
                self._refreshing[workspace].difference_update(taken)
                self.forget(workspace, list(taken))

    def flush(self) -> None:
        """Rewrite every stale row now (at shutdown, when no request runs)."""
        for workspace, marked in self._stale.items():
            self._rewrite(workspace, marked)
            marked.clear()

    def _pending(self, workspace: str, experiment_ids: list[str] | None) -> bool:
        busy = self._stale.get(workspace, {}).keys() | self._refreshing.get(workspace, set())
        return bool(busy) if experiment_ids is None else not busy.isdisjoint(experiment_ids)

    def _rewrite(self, workspace: str, taken: dict[str, bool]) -> None:
        experiment_ids = sorted(taken)
        for start in range(0, len(experiment_ids), rollup_sql.BATCH):
            batch = experiment_ids[start : start + rollup_sql.BATCH]
            rollup_sql.recompute(self._executor, workspace, batch)
            rollup_sql.reset_empty(self._executor, workspace, [e for e in batch if taken[e]])
