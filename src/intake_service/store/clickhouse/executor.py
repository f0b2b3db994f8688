"""The only module that talks to ClickHouse: chDB in-process, or a server through clickhouse-connect.

Both run the same SQL text with typed `{name:Type}` placeholders; values always travel as
parameters. Any driver failure becomes errors.TelemetryUnavailable.
"""

import asyncio
import logging
import math
import queue
import re
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

import orjson

from intake_service.errors import TelemetryUnavailable

Row = dict[str, Any]
logger = logging.getLogger(__name__)


class Executor(Protocol):
    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]: ...

    def query_columns(self, sql: str, params: Mapping[str, Any] | None = None) -> dict[str, list[Any]]: ...

    def insert_rows(self, table: str, rows: list[Row]) -> None: ...

    def insert_json(self, table: str, data: bytes) -> None: ...

    def command(self, sql: str, params: Mapping[str, Any] | None = None) -> None: ...

    def close(self) -> None: ...


def clean_value(value: Any) -> Any:
    """Maps arrive from Arrow as pairs; NaN (an aggregate over no values) means no value."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, list):
        if value and isinstance(value[0], tuple) and len(value[0]) == 2:
            return {k: clean_value(v) for k, v in value}
        return [clean_value(v) for v in value]
    if isinstance(value, dict):
        return {k: clean_value(v) for k, v in value.items()}
    return value


# Connections of the embedded chDB: more than the cores, so a short read need not wait for a long
# rollup recompute; each query itself runs on up to max_threads (the cores).
POOL_SIZE = 4
TABLE_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
# Batches go in as JSONEachRow, typed by the table itself on chDB as on a server: a row's keys are
# its columns' names. chDB has no request body to stream into, so the rows follow the statement in
# its text, as clickhouse-client sends inline data: the format's parser reads them, never the SQL
# parser. (As a parameter of `SELECT * FROM format(...)`, escaped and unescaped again, they cost
# twice as long.) One thread: chDB ran a small insert's pipeline on its pool of threads, whose hand-offs
# cost about 0.6 ms of a 5 ms INSERT of 100 rows; a 1,000-row one is not slower on one thread.
_INSERT_INLINE = "INSERT INTO {table} SETTINGS max_threads = 1 FORMAT JSONEachRow\n"


def json_each_row(rows: list[Row]) -> bytes:
    """The rows as one JSON array, which JSONEachRow reads as it reads one object per line: one
    orjson call for the batch costs a fifth of one call per row."""
    return orjson.dumps(rows)


def _unavailable(exc: Exception) -> TelemetryUnavailable:
    logger.warning("ClickHouse call failed: %s", exc)
    return TelemetryUnavailable()


def _tsv_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")


def _quoted(value: Any) -> str:
    if isinstance(value, str):
        return "'" + _tsv_escape(value).replace("'", "\\'") + "'"
    return "NULL" if value is None else str(value)


def _param_text(value: Any) -> Any:
    """A parameter in the escaped (TSV) text form ClickHouse parses query parameters from;
    chDB takes it as given, while clickhouse-connect does this itself for a server."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return _tsv_escape(value)
    if isinstance(value, list | tuple):
        # Arrays are read in their quoted text form, element escapes and all, not as TSV.
        return "[" + ",".join(_quoted(v) for v in value) + "]"
    return value


class _Rows:
    """Rows from columns: each driver reads columns (cheap for large reads); rows derive here. Rows go
    in as the JSONEachRow each driver inserts."""

    def query_columns(self, sql: str, params: Mapping[str, Any] | None = None) -> dict[str, list[Any]]:
        raise NotImplementedError

    def insert_json(self, table: str, data: bytes) -> None:
        raise NotImplementedError

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        columns = self.query_columns(sql, params)
        names = list(columns)
        rows = zip(*columns.values(), strict=True)
        return [{n: clean_value(v) for n, v in zip(names, values, strict=True)} for values in rows]

    def insert_rows(self, table: str, rows: list[Row]) -> None:
        self.insert_json(table, json_each_row(rows))


class ChdbExecutor(_Rows):
    """chDB in the data directory through a pool of connections: chDB serves any number of
    connections to one path in one process and runs their queries in parallel, each connection one
    query at a time. A connection is opened when every open one is busy, up to `size`."""

    def __init__(self, path: Path, size: int = POOL_SIZE) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.size = size
        self._lock = threading.Lock()
        self._idle: queue.LifoQueue[Any] = queue.LifoQueue()
        self._opened: list[Any] = []

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        try:
            connection = self._idle.get_nowait()
        except queue.Empty:
            connection = self._open_or_wait()
        try:
            yield connection
        finally:
            self._idle.put(connection)

    def _open_or_wait(self) -> Any:
        with self._lock:
            if len(self._opened) < self.size:
                import chdb

                connection = chdb.connect(str(self.path))
                self._opened.append(connection)
                return connection
        return self._idle.get()

    def _params(self, params: Mapping[str, Any] | None) -> dict[str, Any]:
        return {k: _param_text(v) for k, v in (params or {}).items()}

    def query_columns(self, sql: str, params: Mapping[str, Any] | None = None) -> dict[str, list[Any]]:
        with self._connection() as connection:
            try:
                result = connection.query(sql, "Arrow", params=self._params(params))
            except Exception as exc:
                raise _unavailable(exc) from exc
        # Read here rather than through chDB's "ArrowTable", which imports pandas for nothing (+47 MB
        # resident, 0.2 s of start-up). A statement without output has no Arrow stream at all.
        if len(result) == 0:
            return {}
        # Imported by the first query (pyarrow and numpy: 0.15 s), which at start-up runs in the
        # thread that opens chDB while the app is imported (embedded/bootstrap.py).
        import pyarrow.ipc

        return pyarrow.ipc.open_file(result.get_memview().view()).read_all().to_pydict()

    def command(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        with self._connection() as connection:
            try:
                connection.query(sql, "CSV", params=self._params(params))
            except Exception as exc:
                raise _unavailable(exc) from exc

    def insert_json(self, table: str, data: bytes) -> None:
        """One INSERT of JSONEachRow `data`, one block: all rows or none."""
        assert TABLE_NAME.match(table), table
        sql = _INSERT_INLINE.format(table=table)
        with self._connection() as connection:
            try:
                connection.query(sql + data.decode(), "CSV")
            except Exception as exc:
                raise _unavailable(exc) from exc

    def release_memory(self) -> None:
        """chDB's allocator (jemalloc) keeps the pages of large statements (an insert of 10,000
        sessions, a merge) for reuse: about 100 MB after a bulk ingest. This hands them back to the
        operating system (about 1 ms); the caches (marks, primary index) stay."""
        self.command("SYSTEM JEMALLOC PURGE")

    def close(self) -> None:
        """Closes every connection (call it when no query runs); the next query opens afresh."""
        with self._lock:
            for connection in self._opened:
                connection.close()
            self._opened.clear()
            self._idle = queue.LifoQueue()


class HttpExecutor(_Rows):
    """A ClickHouse server through clickhouse-connect; reconnects by itself after an outage."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._client: Any = None
        self._lock = threading.Lock()

    def _get_client(self) -> Any:
        with self._lock:
            if self._client is None:
                import clickhouse_connect

                parsed = urlparse(self.url)
                self._client = clickhouse_connect.get_client(
                    dsn=self.url if parsed.scheme != "clickhouse" else self.url.replace("clickhouse://", "http://", 1),
                    autogenerate_session_id=False,
                    connect_timeout=3,
                    send_receive_timeout=60,
                )
            return self._client

    def query_columns(self, sql: str, params: Mapping[str, Any] | None = None) -> dict[str, list[Any]]:
        try:
            result = self._get_client().query(sql, parameters=dict(params or {}))
        except Exception as exc:
            self._forget(exc)
            raise _unavailable(exc) from exc
        return {name: list(column) for name, column in zip(result.column_names, result.result_columns, strict=True)}

    def command(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        try:
            self._get_client().command(sql, parameters=dict(params or {}))
        except Exception as exc:
            self._forget(exc)
            raise _unavailable(exc) from exc

    def insert_json(self, table: str, data: bytes) -> None:
        """One INSERT with JSONEachRow `data` as the request body: a batch of any size stays out of
        the URL, where query parameters travel."""
        assert TABLE_NAME.match(table), table
        try:
            self._get_client().raw_insert(table, insert_block=data, fmt="JSONEachRow")
        except Exception as exc:
            self._forget(exc)
            raise _unavailable(exc) from exc

    def _forget(self, exc: Exception) -> None:
        """After a connection failure, close the client so the next call connects afresh (the server
        may be back); a statement the server refused leaves the connection as it is."""
        from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError

        if isinstance(exc, OperationalError) or not isinstance(exc, DatabaseError):
            self.close()

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


# Rows of inserts into one table waiting together go in as one INSERT up to this size.
GROUP_BYTES = 16 * 1024 * 1024


class InsertGroups:
    """Inserts into one table that arrive while one is running wait for it, then go in together as
    one INSERT: ClickHouse writes a new part per INSERT (about 10 ms of CPU whatever its size), so 4
    concurrent bulk requests of 1,000 sessions cost 40 % less as one. Each caller returns only once
    its own rows are written; a failed group is retried one insert at a time, so each caller gets its
    own outcome. Alone, an insert starts at once."""

    def __init__(self, insert: Callable[[str, bytes], None]) -> None:
        self._insert = insert
        self._waiting: dict[str, list[tuple[bytes, asyncio.Future[None]]]] = defaultdict(list)
        self._locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._writing: dict[str, asyncio.Future[None]] = {}  # the table's group being written

    async def insert(self, table: str, data: bytes) -> None:
        """`data`: a JSON array of rows (json_each_row)."""
        entry: tuple[bytes, asyncio.Future[None]] = (data, asyncio.get_running_loop().create_future())
        self._waiting[table].append(entry)
        try:
            async with self._locks[table]:
                while not entry[1].done():
                    # Nothing to take: this caller's rows are in the group a caller that went away
                    # started, which is awaited instead.
                    if group := self._take(table):
                        self._writing[table] = asyncio.ensure_future(self._write(table, group))
                    # Shielded: if this caller goes away, the others' rows are still written and answered.
                    await asyncio.shield(self._writing[table])
        except asyncio.CancelledError:
            if entry in self._waiting[table]:  # not taken yet: its rows are not written
                self._waiting[table].remove(entry)
            raise
        entry[1].result()

    def _take(self, table: str) -> list[tuple[bytes, asyncio.Future[None]]]:
        waiting, size, count = self._waiting[table], 0, 0
        while count < len(waiting) and (count == 0 or size + len(waiting[count][0]) <= GROUP_BYTES):
            size, count = size + len(waiting[count][0]), count + 1
        group, waiting[:count] = waiting[:count], []
        return group

    async def _write(self, table: str, group: list[tuple[bytes, asyncio.Future[None]]]) -> None:
        if len(group) > 1:
            rows = b"[" + b",".join(data[1:-1] for data, _ in group if len(data) > 2) + b"]"
            try:
                await asyncio.to_thread(self._insert, table, rows)
            except Exception:  # noqa: BLE001 - each insert alone below gives each caller its own outcome
                pass
            else:
                for _, done in group:
                    done.set_result(None)
                return
        for data, done in group:
            try:
                await asyncio.to_thread(self._insert, table, data)
            except Exception as exc:  # noqa: BLE001 - the caller raises it
                done.set_exception(exc)
            else:
                done.set_result(None)


class AsyncExecutor:
    """Runs the blocking drivers off the event loop."""

    def __init__(self, executor: Executor) -> None:
        self.sync = executor
        self._groups = InsertGroups(executor.insert_json)

    async def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        return await asyncio.to_thread(self.sync.query, sql, params)

    async def query_columns(self, sql: str, params: Mapping[str, Any] | None = None) -> dict[str, list[Any]]:
        return await asyncio.to_thread(self.sync.query_columns, sql, params)

    async def command(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        await asyncio.to_thread(self.sync.command, sql, params)

    async def insert_rows(self, table: str, rows: list[Row]) -> None:
        await asyncio.to_thread(self.sync.insert_rows, table, rows)

    async def insert_json(self, table: str, data: bytes) -> None:
        """One INSERT of `data`, a JSON array of rows, or one with other inserts into the table that wait."""
        await self._groups.insert(table, data)


def create_executor(clickhouse_url: str | None, data_dir: Path) -> Executor:
    if clickhouse_url:
        return HttpExecutor(clickhouse_url)
    return ChdbExecutor(data_dir.resolve() / "clickhouse")
