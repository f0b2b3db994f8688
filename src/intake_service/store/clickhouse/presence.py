"""Whether a workspace has any rows in a table, asked once: a sessions page skips the statements that
read evaluator results and spans for a workspace that has none (most ingest sessions in bulk, with
their scores inline), and a rollup recompute skips the join with evaluator results.

Known only while this process is the only writer (the embedded chDB): each write says so before its
INSERT, so a read that starts after the write was acknowledged sees it. With a ClickHouse server,
other processes may write, and every answer is "yes" (the statements run, as before).
"""

import asyncio

from intake_service.store.clickhouse.executor import Executor

# Table names are this module's callers' constants, never a request's text.
ANY_ROW = "SELECT count() AS n FROM (SELECT 1 FROM {table} WHERE workspace = {{workspace:String}} LIMIT 1)"


class Presence:
    def __init__(self, executor: Executor, *, only_writer: bool) -> None:
        self._executor = executor
        self._only_writer = only_writer
        self._known: dict[tuple[str, str], bool] = {}

    def stored(self, table: str, workspace: str) -> None:
        """Call before the INSERT of rows of `workspace` into `table`."""
        self._known[(table, workspace)] = True

    async def has(self, table: str, workspace: str) -> bool:
        if not self._only_writer:
            return True
        key = (table, workspace)
        if key not in self._known:
            rows = await asyncio.to_thread(self._executor.query, ANY_ROW.format(table=table), {"workspace": workspace})
            self._known.setdefault(key, bool(rows[0]["n"]))  # a write meanwhile has said "yes" first
        return self._known[key]
