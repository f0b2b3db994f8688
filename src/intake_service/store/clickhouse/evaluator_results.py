"""Evaluator results in ClickHouse: the row a result becomes; one page
with whitelisted sorts and parameter-bound filters, and one by id."""

import time
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from intake_service.models.generated import EvaluatorResult
from intake_service.store.clickhouse.values import datetime_text


def result_row(result: EvaluatorResult, experiment_id: str) -> dict[str, Any]:
    """The JSONEachRow row of the evaluator_results table; `experiment_id` is '' for a result naming no
    experiment. The replacement key is (session, span, name) within that experiment, if any."""
    return {
        **result.model_dump(mode="json", exclude={"ingested_at"}),  # read back as created_at
        "experiment_id": experiment_id,
        "created_at": datetime_text(result.created_at),
        "version": time.time_ns(),
        "scope": experiment_id,
    }


@dataclass(frozen=True)
class ResultFilters:
    """What a page of results is narrowed to; None is "not filtered"."""

    session_id: str | None = None
    span_id: str | None = None
    name: str | None = None
    data_type: str | None = None
    value_gte: float | None = None
    value_lte: float | None = None
    created_gte: datetime | None = None
    created_lte: datetime | None = None

    def params(self) -> dict[str, Any]:
        """The query parameters of _WHERE, times as ClickHouse text."""
        return {
            key: datetime_text(value) if isinstance(value, datetime) else value for key, value in asdict(self).items()
        }


_COLUMNS = """evaluator_result_id, workspace, session_id, span_id, name, data_type, value, string_value,
       comment, experiment_name, created_by, created_at, created_at AS ingested_at"""

# Every filter is a typed parameter; NULL means "not filtered".
_WHERE = """
    workspace = {workspace:String}
    AND ({session_id:Nullable(String)} IS NULL OR session_id = {session_id:Nullable(String)})
    AND ({span_id:Nullable(String)} IS NULL OR span_id = {span_id:Nullable(String)})
    AND ({name:Nullable(String)} IS NULL OR name = {name:Nullable(String)})
    AND ({data_type:Nullable(String)} IS NULL OR data_type = {data_type:Nullable(String)})
    AND ({value_gte:Nullable(Float64)} IS NULL OR value >= {value_gte:Nullable(Float64)})
    AND ({value_lte:Nullable(Float64)} IS NULL OR value <= {value_lte:Nullable(Float64)})
    AND ({created_gte:Nullable(DateTime64(6, 'UTC'))} IS NULL
         OR created_at >= {created_gte:Nullable(DateTime64(6, 'UTC'))})
    AND ({created_lte:Nullable(DateTime64(6, 'UTC'))} IS NULL
         OR created_at <= {created_lte:Nullable(DateTime64(6, 'UTC'))})
"""

COUNT_RESULTS = f"SELECT count() AS total FROM evaluator_results FINAL WHERE {_WHERE}"

# Sort columns come from this whitelist only; ties break by id. Missing values sort last.
RESULT_SORTS = {"created_at": "created_at", "value": "value", "name": "name", "session_id": "session_id"}
_LIST_RESULTS = f"""
SELECT {_COLUMNS}
FROM evaluator_results FINAL
WHERE {_WHERE}
ORDER BY {{order}} NULLS LAST, evaluator_result_id
LIMIT {{limit:UInt32}} OFFSET {{offset:UInt64}}
"""

GET_RESULT = f"""
SELECT {_COLUMNS}
FROM evaluator_results FINAL
WHERE workspace = {{workspace:String}} AND evaluator_result_id = {{evaluator_result_id:String}}
LIMIT 1
"""


def list_results_sql(sort: str, descending: bool) -> str:
    return _LIST_RESULTS.replace("{order}", f"{RESULT_SORTS[sort]} {'DESC' if descending else 'ASC'}")


# GET /spans/{span_id}/evaluator-results: a plain list, oldest first.
SPAN_RESULTS = f"""
SELECT {_COLUMNS}
FROM evaluator_results FINAL
WHERE workspace = {{workspace:String}} AND span_id = {{span_id:String}}
ORDER BY created_at, evaluator_result_id
"""
