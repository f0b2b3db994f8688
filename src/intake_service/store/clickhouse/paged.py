"""One page of a read: count the matches, then read the page (skipped past the end)."""

from collections.abc import Mapping
from typing import Any

from intake_service.store.clickhouse.executor import AsyncExecutor, Row


async def read_page(
    ch: AsyncExecutor, count_sql: str, page_sql: str, params: Mapping[str, Any], *, limit: int, offset: int
) -> tuple[list[Row], int]:
    total = int((await ch.query(count_sql, params))[0]["total"])
    if offset >= total:
        # A page past the end is empty; skipping the read also keeps a huge offset out of UInt64.
        return [], total
    return await ch.query(page_sql, {**params, "limit": limit, "offset": offset}), total
