"""Rollup rows computed by reads (stale_rollups.py), stored afterwards, several at a time, in one
INSERT off the reads' path. A read from the table waits for the rows it needs to be stored first;
each round of the writer stores every row pending when it starts.
"""

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable

logger = logging.getLogger(__name__)
# How long computed rows wait to be stored together, unless a read from the table needs them sooner.
WRITE_DELAY = 0.5
# workspace → experiment id → its row as JSONEachRow
Rows = dict[str, dict[str, bytes]]


class RollupWriter:
    def __init__(self, insert: Callable[[Rows], None]) -> None:
        self._insert = insert
        self._unwritten: Rows = defaultdict(dict)
        self._task: asyncio.Task[None] | None = None
        self._round: asyncio.Future[None] | None = None  # done when the next round has stored its rows
        self._hurry = asyncio.Event()

    def add(self, workspace: str, rows: dict[str, bytes]) -> None:
        """Store these rows soon (and any a failed round left behind)."""
        self._unwritten[workspace].update(rows)
        if any(self._unwritten.values()):
            self._write_soon()

    async def stored(self, workspace: str, wanted: set[str] | None) -> None:
        """Wait until the workspace's rows among `wanted` (None: all of them) are stored."""
        unwritten = self._unwritten[workspace]
        pending = set(unwritten) if wanted is None else unwritten.keys() & wanted
        while not pending.isdisjoint(unwritten):
            self._hurry.set()
            self._write_soon()
            if self._round is None:
                self._round = asyncio.get_running_loop().create_future()
            await asyncio.shield(self._round)

    async def settle(self) -> None:
        """Let a write under way finish (at shutdown, before `flush` and closing chDB's connections,
        which is not allowed under a running INSERT); a failed one leaves its rows to `flush`."""
        if self._task is not None and not self._task.done():
            self._hurry.set()
            with contextlib.suppress(Exception):
                await self._task

    def flush(self) -> None:
        """Store every pending row now (at shutdown, when no request runs)."""
        unwritten = {workspace: dict(rows) for workspace, rows in self._unwritten.items() if rows}
        if unwritten:
            self._insert(unwritten)
            self._unwritten.clear()

    def _write_soon(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._write())
            self._task.add_done_callback(_log_failure)

    async def _write(self) -> None:
        """Store the pending rows, all at once, until none is left (a failed INSERT keeps them for the
        next attempt: a read from the table waits for it, and fails as the INSERT did)."""
        while any(self._unwritten.values()):
            if not self._hurry.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._hurry.wait(), WRITE_DELAY)
            self._hurry.clear()
            batch = {workspace: dict(rows) for workspace, rows in self._unwritten.items() if rows}
            round_, self._round = self._round, None  # its waiters wait for this round, not the next ones
            try:
                await asyncio.to_thread(self._insert, batch)
            except BaseException as exc:
                # Every reader waiting fails as the INSERT did, those who came during it too: no
                # writer is left to answer them.
                for waiting in (round_, self._round):
                    if waiting is not None and not waiting.done():
                        waiting.set_exception(exc)
                self._round = None
                raise
            for workspace, rows in batch.items():
                unwritten = self._unwritten[workspace]
                for experiment_id, row in rows.items():
                    if unwritten.get(experiment_id) is row:
                        del unwritten[experiment_id]
            if round_ is not None:
                round_.set_result(None)
        if self._round is not None:  # waiting for rows a round that began before it already stored
            self._round.set_result(None)
            self._round = None


def _log_failure(task: "asyncio.Task[None]") -> None:
    if not task.cancelled() and (exc := task.exception()) is not None:
        logger.warning("Computed rollup rows not stored yet: %s", exc)
