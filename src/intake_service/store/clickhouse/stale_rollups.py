"""When the embedded store rewrites an experiment's rollup row: once before the next read that needs
it, not on every ingest. An ingest marks its experiments stale after its insert and before it
answers; a read of rollups first computes the stale ones it reads, so a burst of 1,000 ingests into
one experiment costs one recompute and every read still sees every acknowledged session.

A read of rows computes them with a SELECT of their aggregates, assembled in Python into the rows
as the table's read back (rollups.computed_row), and answers from that;
the rows are stored afterwards, several at a time, in one JSONEachRow INSERT, off the read's path. A
read from the table (a metric column, a page past the rows kept in memory) waits for those to be
stored first. Concurrent readers of a row being computed wait for that computation, not for another.

The same process keeps the rollup rows it has read (up to CACHED), until it marks them stale: a read
of one experiment or a page of them then needs no ClickHouse statement at all. It keeps a few metric
columns too (a metric's value for every experiment of a workspace, what a rollup sort or filter reads:
100,000 pairs in a large workspace); when rows of the workspace change, the next read of a column
reads the values of those experiments only and patches it.

Marks, cached and unstored rows live in this process, which is right only while this process is the
only writer: the embedded chDB is (one process per data directory). With a ClickHouse server, several
processes may serve the same store, so each ingest refreshes at once, as before. A process killed
with marks or rows pending leaves stale rows behind, which the unclean-shutdown repair recomputes on
the next start (embedded/bootstrap.py); a clean shutdown computes and stores them first (`settle`;
`flush` rewrites any a failure left).
"""

import asyncio
import logging
from collections import OrderedDict, defaultdict
from collections.abc import Awaitable, Callable, Hashable
from itertools import islice
from typing import Any, Protocol, Self, TypeVar

from intake_service.errors import TelemetryUnavailable
from intake_service.store.clickhouse import rollups as rollup_sql
from intake_service.store.clickhouse.executor import Executor
from intake_service.store.clickhouse.presence import Presence
from intake_service.store.clickhouse.rollup_writer import RollupWriter

Rollups = dict[str, Any]
logger = logging.getLogger(__name__)


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
# Other stale rows of the workspace a read starts computing beside its own, in one statement.
WIDEN = 32
# Parts of stale rows a clean stop computes side by side (on the pool's connections).
SETTLING = 4


class StaleRollups:
    def __init__(self, executor: Executor, *, deferred: bool, presence: Presence | None = None) -> None:
        self._executor = executor
        self._presence = presence or Presence(executor, only_writer=False)
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
        # Deferred mode: (workspace, experiment id) → the computation of its row under way; the writer
        # of computed rows.
        self._computing: dict[tuple[str, str], asyncio.Task[dict[str, Rollups]]] = {}
        self._writer = RollupWriter(self._insert)

    async def read(
        self,
        workspace: str,
        experiment_ids: list[str],
        fetch: Callable[[list[str]], Awaitable[dict[str, Rollups]]],
        kind: str = "",
    ) -> dict[str, Rollups]:
        """experiment id → rollups, fresh: stale rows are computed first, the rest come from memory or
        from `fetch` (the store's read of those ids). `kind` names rollups of another definition
        computed from the same rows (the SDK 0.3.0 evaluation rollups, which `fetch` reads from the
        sessions themselves), kept beside them."""
        if not self.deferred:
            await self.refresh(workspace, experiment_ids)
            return await fetch(experiment_ids)
        # The rows in memory now, before any wait: each is fresh as of now (a mark drops it at once).
        # A mark that lands while this read waits for a computation is of a write answered after it
        # began, which it need not see: no read from the table for it.
        found: dict[str, Rollups] = {}
        missing, computing = [], []
        for experiment_id in experiment_ids:
            key = (workspace, experiment_id, kind)
            if not kind and self._is_unsettled(workspace, experiment_id):
                computing.append(experiment_id)
            elif key not in self._cached:
                missing.append(experiment_id)
            elif (rollups := self._cached[key]) is not None:
                found[experiment_id] = rollups
        if computing:
            computed = await self._computed(workspace, computing)
            found.update(computed)
            # Computed without a row (no sessions left): as stored, from the table.
            missing += [experiment_id for experiment_id in computing if experiment_id not in computed]
        if missing:
            if not kind:
                await self._stored(workspace, missing)
            changes = self._changes[workspace]
            fetched = await fetch(missing)
            for experiment_id in missing:  # unless it changed meanwhile
                if not self._changed_since(workspace, experiment_id, changes):
                    self._remember((workspace, experiment_id, kind), fetched.get(experiment_id))
            found.update(fetched)
        return found

    async def read_column(
        self,
        workspace: str,
        key: Hashable,
        fetch: Callable[[list[str] | None], Awaitable[Column]],
        from_rows: Callable[[dict[str, Rollups]], Column] | None = None,
    ) -> Column:
        """A column over all the workspace's rollup rows, fresh: every stale row of the workspace is
        computed first. `fetch(None)` reads it whole, `fetch(ids)` for those experiments only;
        `from_rows` makes the part of those experiments from their rows when all are in memory."""
        if not self.deferred:
            await self.refresh(workspace)
            return await fetch(None)
        cached = self._columns.get((workspace, key))
        if cached is None or cached[0] < self._unlisted[workspace]:
            await self._computed(workspace, self._unsettled(workspace))
            changes = self._changes[workspace]
            await self.refresh(workspace)
            column = await fetch(None)
            if changes == self._changes[workspace]:
                self._keep(workspace, key, changes, column)
            return column
        # The column as of now: the rows that changed since it was kept, each fresh as of now. A row in
        # memory is (a mark drops it at once); a stale one is computed, one being computed is waited
        # for (it was taken after its last mark). Marks that land meanwhile are of writes answered
        # after this read began: the next read patches those, this one does not wait for them.
        changes = self._changes[workspace]
        if cached[0] == changes:
            self._keep(workspace, key, changes, cached[1])
            hit: Column = cached[1]
            return hit
        since = [e for e, change in self._changed[workspace].items() if change > cached[0]]
        unsettled = {e for e in since if self._is_unsettled(workspace, e)}
        rows: dict[str, Rollups | None] = {}
        for experiment_id in since:
            if experiment_id not in unsettled and (row_key := (workspace, experiment_id, "")) in self._cached:
                rows[experiment_id] = self._cached[row_key]
        if from_rows is None:
            await self.refresh(workspace)
            column = cached[1].patched(since, await fetch(since))
        else:
            rows.update(await self._computed(workspace, [e for e in since if e in unsettled]))
            column = cached[1].patched(list(rows), from_rows({e: r for e, r in rows.items() if r is not None}))
            # Rows neither in memory nor computed (pushed out of memory, an experiment that may have
            # lost its last session): read from the table.
            if unread := [e for e in since if e not in rows]:
                await self.refresh(workspace, unread)
                column = column.patched(unread, await fetch(unread))
        self._keep(workspace, key, changes, column)
        return column

    def _keep(self, workspace: str, key: Hashable, changes: int, column: Any) -> None:
        """Keep the column as of the workspace's _changes `changes` (every row that changed after is
        listed in _changed: the next read patches it), unless one as of a later count is kept."""
        kept = self._columns.get((workspace, key))
        if kept is None or kept[0] <= changes:
            self._columns[(workspace, key)] = (changes, column)
            self._columns.move_to_end((workspace, key))
            if len(self._columns) > COLUMNS_CACHED:
                self._columns.popitem(last=False)

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

    def _changed_since(self, workspace: str, experiment_id: str, changes: int) -> bool:
        """Whether the row changed after the workspace's _changes was `changes` (maybe, if no longer listed)."""
        return self._changed[workspace].get(experiment_id, self._unlisted[workspace]) > changes

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
        """Bring the stored rows among `experiment_ids` (None: all of the workspace's) up to date
        before a read of them from ClickHouse."""
        if self.deferred:
            await self._computed(workspace, self._unsettled(workspace) if experiment_ids is None else experiment_ids)
            await self._stored(workspace, experiment_ids)
            return
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
                self._mark_again(workspace, taken)
                raise
            finally:
                self._refreshing[workspace].difference_update(taken)
                self.forget(workspace, list(taken))

    async def settle(self) -> None:
        """Compute every stale row and store it (at shutdown, before `flush`): computed as a read
        computes them, SETTLING parts of up to BATCH rows side by side, they cost half of what the
        recompute statements of `flush` do (~12 against ~24 ms a workspace); rows are stored every
        BATCH or so, so memory holds a few batches, not a large workspace. A failed computation has
        marked its rows stale again, which `flush` rewrites."""
        await asyncio.gather(*set(self._computing.values()), return_exceptions=True)
        parts: list[tuple[str, list[str]]] = []
        for workspace, marked in self._stale.items():
            ids = list(marked)
            parts += [(workspace, ids[i : i + rollup_sql.BATCH]) for i in range(0, len(ids), rollup_sql.BATCH)]
        unwritten = 0
        for start in range(0, len(parts), SETTLING):
            computations = []
            for workspace, experiment_ids in parts[start : start + SETTLING]:
                marked = self._stale[workspace]
                # Popped only now: a part not begun stays marked, for `flush`, if this is cut short.
                if taken := {e: marked.pop(e) for e in experiment_ids if e in marked}:
                    computations.append(self._start(workspace, taken))
                    unwritten += len(taken)
            await asyncio.gather(*computations, return_exceptions=True)
            if unwritten >= rollup_sql.BATCH:
                await self._writer.settle()
                unwritten = 0
        await self._writer.settle()

    def flush(self) -> None:
        """Store every computed row and rewrite every stale one now (at shutdown, when no request runs)."""
        self._writer.flush()
        for workspace, marked in self._stale.items():
            self._rewrite(workspace, marked)
            marked.clear()

    def _unsettled(self, workspace: str) -> list[str]:
        """The workspace's experiments marked stale or being computed."""
        computing = [e for (w, e) in self._computing if w == workspace]
        return [*self._stale.get(workspace, {}), *computing]

    def _is_unsettled(self, workspace: str, experiment_id: str) -> bool:
        return experiment_id in self._stale.get(workspace, {}) or (workspace, experiment_id) in self._computing

    def _mark_again(self, workspace: str, taken: dict[str, bool]) -> None:
        marked = self._stale[workspace]
        for experiment_id, may_be_empty in taken.items():
            marked[experiment_id] = marked.get(experiment_id, False) or may_be_empty

    async def _computed(self, workspace: str, experiment_ids: list[str]) -> dict[str, Rollups]:
        """The rollups of the stale experiments among these that have sessions, computed now, or by a
        computation under way that took them after their last mark (an experiment marked again since is
        stale again: its reader takes it anew). Up to WIDEN other stale ones of the workspace are
        computed beside, in a statement of their own that this read does not wait for."""
        marked = self._stale.get(workspace, {})
        taken: dict[str, bool] = {}
        # Each experiment's row comes from the computation it is taken by now: another one this read
        # waits for may hold an older row of it (taken before a later mark).
        by: dict[str, asyncio.Task[dict[str, Rollups]]] = {}
        for experiment_id in experiment_ids:
            if experiment_id in marked:
                taken[experiment_id] = marked.pop(experiment_id)
            elif (task := self._computing.get((workspace, experiment_id))) is not None:
                by[experiment_id] = task
        if taken:
            task = self._start(workspace, taken)
            by.update(dict.fromkeys(taken, task))
            # The workspace's other stale rows go too, in one statement (it costs about as much for 1 as
            # for 20 experiments, ~9 ms, mostly planning), so their next readers find them computed.
            # Apart from this read's: a large experiment among them neither delays it nor fails it. Not
            # those that may have lost their last session, which cost statements of their own.
            others = [e for e, may_be_empty in islice(marked.items(), 2 * WIDEN) if not may_be_empty][:WIDEN]
            if others:
                self._start(workspace, {e: marked.pop(e) for e in others}).add_done_callback(_retrieved)
        results = {task: await asyncio.shield(task) for task in set(by.values())}
        return {e: results[task][e] for e, task in by.items() if e in results[task]}

    def _start(self, workspace: str, taken: dict[str, bool]) -> asyncio.Task[dict[str, Rollups]]:
        task = asyncio.ensure_future(self._compute(workspace, taken, self._changes[workspace]))
        for experiment_id in taken:
            self._computing[(workspace, experiment_id)] = task
        return task

    async def _compute(self, workspace: str, taken: dict[str, bool], seen: int) -> dict[str, Rollups]:
        """Compute the rows taken when the workspace's _changes was `seen`; keep and store those not
        marked again since (a later computation has those), and answer every waiting reader with all."""
        this = asyncio.current_task()
        try:
            with_results = await self._presence.has("evaluator_results", workspace)
            computed = await asyncio.to_thread(self._compute_rows, workspace, taken, with_results)
        except BaseException:
            self._mark_again(workspace, taken)
            raise
        finally:
            for experiment_id in taken:
                if self._computing.get((workspace, experiment_id)) is this:
                    del self._computing[(workspace, experiment_id)]
        superseded = {e for e in taken if self._changed_since(workspace, e, seen)}
        self.forget(workspace, list(taken))
        found: dict[str, Rollups] = {}
        to_store: dict[str, bytes] = {}
        for experiment_id, (rollups, row) in computed.items():
            found[experiment_id] = rollups
            if experiment_id in superseded:
                if (workspace, experiment_id) not in self._computing:
                    self._stale[workspace].setdefault(experiment_id, False)
                continue
            self._remember((workspace, experiment_id, ""), rollups)
            to_store[experiment_id] = row
        self._writer.add(workspace, to_store)
        return found

    def _compute_rows(
        self, workspace: str, taken: dict[str, bool], with_results: bool
    ) -> dict[str, tuple[Rollups, bytes]]:
        """experiment id → its rollups and its row as JSONEachRow. Rows that may reset (an experiment
        that lost its last session, rare) are rewritten by the statements at once."""
        emptied = {experiment_id: True for experiment_id, may_be_empty in taken.items() if may_be_empty}
        if emptied:
            self._rewrite(workspace, emptied)
        experiment_ids = sorted(e for e in taken if e not in emptied)
        return {
            row["experiment_id"]: (rollup_sql.to_rollups(row), stored)
            for row, stored in rollup_sql.computed_rows(self._executor, workspace, experiment_ids, with_results)
        }

    async def _stored(self, workspace: str, experiment_ids: list[str] | None = None) -> None:
        """Wait until the rows computed for these experiments (None: the workspace's) are stored."""
        wanted = None if experiment_ids is None else set(experiment_ids)
        # Only the computations under way now: later ones took later marks (waiting for them too could
        # go on for as long as ingests keep coming).
        tasks = {t for (w, e), t in self._computing.items() if w == workspace and (wanted is None or e in wanted)}
        await asyncio.gather(*(asyncio.shield(task) for task in tasks))  # a failed one fails the read
        await self._writer.stored(workspace, wanted)

    def _insert(self, batch: dict[str, dict[str, bytes]]) -> None:
        try:
            rollup_sql.insert_rows(self._executor, (row for rows in batch.values() for row in rows.values()))
        except TelemetryUnavailable:
            # Refused (logged): the statement rewrites the rows from their sessions; if ClickHouse is
            # down, that fails too and the rows wait for the next attempt.
            for workspace, unwritten in batch.items():
                self._rewrite(workspace, dict.fromkeys(unwritten, False))

    def _pending(self, workspace: str, experiment_ids: list[str] | None) -> bool:
        busy = self._stale.get(workspace, {}).keys() | self._refreshing.get(workspace, set())
        return bool(busy) if experiment_ids is None else not busy.isdisjoint(experiment_ids)

    def _rewrite(self, workspace: str, taken: dict[str, bool]) -> None:
        experiment_ids = sorted(taken)
        for start in range(0, len(experiment_ids), rollup_sql.BATCH):
            batch = experiment_ids[start : start + rollup_sql.BATCH]
            rollup_sql.recompute(self._executor, workspace, batch)
            rollup_sql.reset_empty(self._executor, workspace, [e for e in batch if taken[e]])


def _retrieved(task: asyncio.Task[Any]) -> None:
    """A computation no reader waits for: a failure has marked its rows stale again, for their next
    reader; it is logged here, as no reader reports it."""
    if not task.cancelled() and (exc := task.exception()) is not None:
        logger.warning("Computing stale rollup rows beside a read failed: %r", exc)
