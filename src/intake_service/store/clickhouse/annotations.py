"""Annotation SQL: flat rows (the kind says which value columns are set), deleted by tombstone rows."""

from collections.abc import Mapping
from typing import Any

from intake_service.store.clickhouse.executor import AsyncExecutor, Row
from intake_service.store.clickhouse.paged import read_page

_COLUMNS = """annotation_id, workspace, session_id, span_id, kind, name, value_text, value_numeric, text, metadata,
       created_by, created_at, ingested_at"""

# Every filter is a typed parameter; NULL means "not filtered". Tombstones never match.
_WHERE = """
    workspace = {workspace:String} AND is_deleted = 0
    AND ({span_id:Nullable(String)} IS NULL OR span_id = {span_id:Nullable(String)})
    AND ({session_id:Nullable(String)} IS NULL OR session_id = {session_id:Nullable(String)})
    AND ({kind:Nullable(String)} IS NULL OR kind = {kind:Nullable(String)})
    AND ({name:Nullable(String)} IS NULL OR name = {name:Nullable(String)})
    AND ({value_text:Nullable(String)} IS NULL OR value_text = {value_text:Nullable(String)})
    AND ({value_gte:Nullable(Float64)} IS NULL OR value_numeric >= {value_gte:Nullable(Float64)})
    AND ({value_lte:Nullable(Float64)} IS NULL OR value_numeric <= {value_lte:Nullable(Float64)})
    AND ({created_by:Nullable(String)} IS NULL OR created_by = {created_by:Nullable(String)})
    AND ({created_gte:Nullable(DateTime64(6, 'UTC'))} IS NULL
         OR created_at >= {created_gte:Nullable(DateTime64(6, 'UTC'))})
    AND ({created_lte:Nullable(DateTime64(6, 'UTC'))} IS NULL
         OR created_at <= {created_lte:Nullable(DateTime64(6, 'UTC'))})
"""
FILTER_PARAMS = (
    "span_id",
    "session_id",
    "kind",
    "name",
    "value_text",
    "value_gte",
    "value_lte",
    "created_by",
    "created_gte",
    "created_lte",
)
COUNT_ANNOTATIONS = f"SELECT count() AS total FROM annotations FINAL WHERE {_WHERE}"
_LIST_ANNOTATIONS = f"""
SELECT {_COLUMNS} FROM annotations FINAL WHERE {_WHERE}
ORDER BY created_at {{direction}}, annotation_id
LIMIT {{limit:UInt32}} OFFSET {{offset:UInt64}}
"""
GET_ANNOTATION = f"""
SELECT {_COLUMNS}, version FROM annotations FINAL
WHERE workspace = {{workspace:String}} AND annotation_id = {{annotation_id:String}} AND is_deleted = 0
"""


def list_annotations_sql(descending: bool) -> str:
    return _LIST_ANNOTATIONS.replace("{direction}", "DESC" if descending else "ASC")


class AnnotationStore:
    def __init__(self, ch: AsyncExecutor) -> None:
        self._ch = ch

    async def insert(self, row: Row) -> None:
        await self._ch.insert_rows("annotations", [row])

    async def get(self, workspace: str, annotation_id: str) -> Row | None:
        rows = await self._ch.query(GET_ANNOTATION, {"workspace": workspace, "annotation_id": annotation_id})
        return rows[0] if rows else None

    async def page(
        self, workspace: str, filters: Mapping[str, Any], *, descending: bool, limit: int, offset: int
    ) -> tuple[list[Row], int]:
        params = {"workspace": workspace, **{k: filters.get(k) for k in FILTER_PARAMS}}
        page_sql = list_annotations_sql(descending)
        return await read_page(self._ch, COUNT_ANNOTATIONS, page_sql, params, limit=limit, offset=offset)
