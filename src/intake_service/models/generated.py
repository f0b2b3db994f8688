# Generated from openapi/intake-v2.yaml by scripts/generate-models.sh. Do not edit.

from __future__ import annotations

from pydantic import AnyUrl, AwareDatetime, BaseModel, ConfigDict, Field, RootModel
from typing import Annotated, Any, Literal
from intake_service.models.strict import JsonDatetime, SessionTime, StrictBody


class ErrorDetail(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"detail": "Experiment 'default/exp-a' not found."}]
        },
    )
    detail: str


class ValidationError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str
    input: Any | None = None
    ctx: dict[str, Any] | None = None


class HTTPValidationError(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "detail": [
                        {
                            "loc": ["body", "dataset_name"],
                            "msg": "Field required",
                            "type": "missing",
                            "input": {"name": "exp-a"},
                        }
                    ]
                }
            ]
        },
    )
    detail: list[ValidationError] | None = None


class ExperimentRequest(StrictBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "exp-a",
                    "dataset_name": "gsm8k",
                    "dataset_version": "2026-01",
                    "agent_name": "support-bot",
                    "agent_version": "1.4.0",
                    "description": "Baseline with the January prompt.",
                    "metadata": {"prompt": "v3", "temperature": 0.2},
                }
            ]
        },
    )
    name: Annotated[
        str,
        Field(
            description="Producer-supplied, workspace-unique experiment id.",
            max_length=255,
            min_length=1,
            pattern="^[^/\\x00-\\x1f\\x7f]+$",
        ),
    ]
    dataset_name: Annotated[str, Field(max_length=255, min_length=1)]
    agent_name: Annotated[
        str | None,
        Field(
            description="Name of the agent under test (original clients).",
            max_length=255,
        ),
    ] = None
    agent_version: Annotated[
        str | None,
        Field(
            description="Version of the agent under test (original clients).",
            max_length=255,
        ),
    ] = None
    experiment_group_id: Annotated[
        str | None,
        Field(
            description="Entity id of the owning ExperimentGroup; soft reference, not validated.",
            max_length=255,
        ),
    ] = None
    dataset_version: Annotated[str | None, Field(max_length=255)] = None
    source_link: AnyUrl | None = None
    metadata: Annotated[
        dict[str, Any] | None,
        Field(description="Free-form producer metadata, at most 64 KiB as JSON."),
    ] = None
    description: Annotated[str | None, Field(max_length=65536)] = None
    summary: Annotated[str | None, Field(max_length=65536)] = None


class EvaluatorAggregate(BaseModel):
    sum: float | None = None
    mean: float | None = None
    median: float | None = None
    p90: float | None = None
    p95: float | None = None
    p99: float | None = None
    count: int = 0


class ExperimentResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0b5f6e1c-3f0e-4a59-9d55-8f3c2d7b1a10",
                    "name": "exp-a",
                    "workspace": "default",
                    "experiment_group_id": None,
                    "agent_name": "support-bot",
                    "agent_version": "1.4.0",
                    "dataset_name": "gsm8k",
                    "dataset_version": "2026-01",
                    "source_link": None,
                    "metadata": {"prompt": "v3", "temperature": 0.2},
                    "description": "Baseline with the January prompt.",
                    "summary": None,
                    "created_by": "ci-key",
                    "created_at": "2026-01-05T08:55:00Z",
                    "updated_at": "2026-01-05T08:55:00Z",
                    "pinned_at": None,
                    "evaluator_names": ["accuracy"],
                    "model_names": ["gpt-4o-mini"],
                    "agent_names": ["support-bot"],
                    "agent_versions": ["1.4.0"],
                    "aggregate_scores": {
                        "accuracy": {
                            "sum": 41.0,
                            "mean": 0.82,
                            "median": 1.0,
                            "p90": 1.0,
                            "p95": 1.0,
                            "p99": 1.0,
                            "count": 50,
                        }
                    },
                    "run_count": 50,
                    "cost_usd": {
                        "sum": 0.55,
                        "mean": 0.011,
                        "median": 0.01,
                        "p90": 0.02,
                        "p95": 0.02,
                        "p99": 0.03,
                        "count": 50,
                    },
                    "latency_ms": {
                        "sum": 61000.0,
                        "mean": 1220.0,
                        "median": 1100.0,
                        "p90": 2000.0,
                        "p95": 2400.0,
                        "p99": 3100.0,
                        "count": 50,
                    },
                }
            ]
        },
    )
    id: str
    name: str
    workspace: str
    experiment_group_id: str | None
    agent_name: str | None
    agent_version: str | None
    dataset_name: str
    dataset_version: str | None
    source_link: str | None
    metadata: dict[str, Any]
    description: str | None
    summary: str | None
    created_by: str | None
    created_at: AwareDatetime
    updated_at: AwareDatetime
    pinned_at: AwareDatetime | None
    evaluator_names: list[str]
    model_names: list[str]
    agent_names: list[str]
    agent_versions: list[str]
    aggregate_scores: dict[str, EvaluatorAggregate]
    run_count: int
    cost_usd: EvaluatorAggregate | None
    latency_ms: EvaluatorAggregate | None


class PaginationData(BaseModel):
    page: Annotated[int, Field(description="The current page number.")]
    page_size: Annotated[int, Field(description="The page size used for the query.")]
    current_page_size: Annotated[
        int, Field(description="The size for the current page.")
    ]
    total_pages: Annotated[int, Field(description="The total number of pages.")]
    total_results: Annotated[int, Field(description="The total number of results.")]


class ExperimentResponsesPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "data": [
                        {
                            "id": "0b5f6e1c-3f0e-4a59-9d55-8f3c2d7b1a10",
                            "name": "exp-a",
                            "workspace": "default",
                            "experiment_group_id": None,
                            "agent_name": "support-bot",
                            "agent_version": "1.4.0",
                            "dataset_name": "gsm8k",
                            "dataset_version": "2026-01",
                            "source_link": None,
                            "metadata": {"prompt": "v3", "temperature": 0.2},
                            "description": "Baseline with the January prompt.",
                            "summary": None,
                            "created_by": "ci-key",
                            "created_at": "2026-01-05T08:55:00Z",
                            "updated_at": "2026-01-05T08:55:00Z",
                            "pinned_at": None,
                            "evaluator_names": ["accuracy"],
                            "model_names": ["gpt-4o-mini"],
                            "agent_names": ["support-bot"],
                            "agent_versions": ["1.4.0"],
                            "aggregate_scores": {
                                "accuracy": {
                                    "sum": 41.0,
                                    "mean": 0.82,
                                    "median": 1.0,
                                    "p90": 1.0,
                                    "p95": 1.0,
                                    "p99": 1.0,
                                    "count": 50,
                                }
                            },
                            "run_count": 50,
                            "cost_usd": {
                                "sum": 0.55,
                                "mean": 0.011,
                                "median": 0.01,
                                "p90": 0.02,
                                "p95": 0.02,
                                "p99": 0.03,
                                "count": 50,
                            },
                            "latency_ms": {
                                "sum": 61000.0,
                                "mean": 1220.0,
                                "median": 1100.0,
                                "p90": 2000.0,
                                "p95": 2400.0,
                                "p99": 3100.0,
                                "count": 50,
                            },
                        }
                    ],
                    "pagination": {
                        "page": 1,
                        "page_size": 100,
                        "current_page_size": 1,
                        "total_pages": 1,
                        "total_results": 1,
                    },
                    "sort": "-created_at",
                    "filter": {"dataset_name": "gsm8k"},
                }
            ]
        },
    )
    data: list[ExperimentResponse]
    pagination: PaginationData
    sort: str | None
    filter: dict[str, Any]


class ParetoConfig(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    x_metric: Annotated[
        str,
        Field(
            description="cost_usd, latency_ms or evaluators.<name>.",
            max_length=255,
            pattern="^(cost_usd|latency_ms|evaluators\\..+)$",
        ),
    ] = "cost_usd"
    y_metric: Annotated[
        str,
        Field(
            description="cost_usd, latency_ms or evaluators.<name>.",
            max_length=255,
            pattern="^(cost_usd|latency_ms|evaluators\\..+)$",
        ),
    ] = "latency_ms"


class ExperimentGroupRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "qa-agents",
                    "description": "Agents answering the QA set",
                    "metadata": {"team": "nlp"},
                    "default_sort": "-evaluators.accuracy.mean",
                }
            ]
        },
    )
    name: Annotated[
        str,
        Field(
            description="Workspace-unique group name.",
            max_length=255,
            min_length=1,
            pattern="^[^/\\x00-\\x1f\\x7f]+$",
        ),
    ]
    description: Annotated[str | None, Field(max_length=65536)] = None
    insight_id: Annotated[str | None, Field(max_length=255)] = None
    summary: Annotated[str | None, Field(max_length=65536)] = None
    metadata: Annotated[
        dict[str, str] | None,
        Field(
            description="Free-form producer metadata, string to string, at most 64 KiB as JSON."
        ),
    ] = None
    default_sort: Annotated[
        str,
        Field(
            description="The evaluations list sort this group suggests, comma-separated, '-' for descending: name, created_at, updated_at, pinned_at, run_count, test_case_count, cost_usd.<stat>, latency_ms.<stat>, tokens.<stat>, evaluators.<name>.<stat>.",
            max_length=1024,
        ),
    ] = "-created_at"
    pareto: Annotated[
        ParetoConfig | None,
        Field(
            description="Omitted on PUT keeps the stored axes; omitted on create is cost vs latency."
        ),
    ] = None


class OrderItem(RootModel[str]):
    root: Annotated[str, Field(max_length=1024)]


class HiddenItem(RootModel[str]):
    root: Annotated[str, Field(max_length=1024)]


class ColumnLayout(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "order": ["name", "evaluators.accuracy.mean", "cost_usd.mean"],
                    "hidden": ["latency_ms.p99"],
                }
            ]
        },
    )
    order: Annotated[
        list[OrderItem],
        Field(
            description="Column ids in display order; empty means the table's natural order.",
            max_length=1000,
            validate_default=True,
        ),
    ] = []
    hidden: Annotated[
        list[HiddenItem],
        Field(
            description="Column ids hidden from the table; any column not listed is shown.",
            max_length=1000,
            validate_default=True,
        ),
    ] = []


class ContainerRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "qa-agents",
                    "description": "Agents answering the QA set",
                    "metadata": {"team": "nlp"},
                    "is_favorite": True,
                    "column_layout": {"order": ["name", "cost_usd.mean"], "hidden": []},
                }
            ]
        },
    )
    name: Annotated[
        str,
        Field(
            description="Workspace-unique group name.",
            max_length=255,
            min_length=1,
            pattern="^[^/\\x00-\\x1f\\x7f]+$",
        ),
    ]
    description: Annotated[str | None, Field(max_length=65536)] = None
    insight_id: Annotated[str | None, Field(max_length=255)] = None
    summary: Annotated[str | None, Field(max_length=65536)] = None
    metadata: Annotated[
        dict[str, str] | None,
        Field(
            description="Free-form producer metadata, string to string, at most 64 KiB as JSON."
        ),
    ] = None
    default_sort: Annotated[
        str,
        Field(
            description="The evaluations list sort this group suggests, comma-separated, '-' for descending: name, created_at, updated_at, pinned_at, run_count, test_case_count, cost_usd.<stat>, latency_ms.<stat>, tokens.<stat>, evaluators.<name>.<stat>.",
            max_length=1024,
        ),
    ] = "-created_at"
    pareto: Annotated[
        ParetoConfig | None,
        Field(
            description="Omitted on PUT keeps the stored axes; omitted on create is cost vs latency."
        ),
    ] = None
    column_layout: Annotated[
        ColumnLayout | None,
        Field(
            description="The saved table layout; omitted or null saves none on create and keeps the stored one on PUT."
        ),
    ] = None
    is_favorite: Annotated[
        bool,
        Field(
            description="Marks the container as a favorite; false on create, kept on PUT when omitted."
        ),
    ] = False
    show_evaluations_over_time: Annotated[
        bool,
        Field(
            description="Show the evaluations' results over time; false on create, kept on PUT when omitted."
        ),
    ] = False


class ContainerUpdateRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "qa-agents",
                    "baseline_evaluation_name": "qa-run-7",
                    "is_favorite": True,
                }
            ]
        },
    )
    name: Annotated[
        str,
        Field(
            description="Workspace-unique group name.",
            max_length=255,
            min_length=1,
            pattern="^[^/\\x00-\\x1f\\x7f]+$",
        ),
    ]
    description: Annotated[str | None, Field(max_length=65536)] = None
    insight_id: Annotated[str | None, Field(max_length=255)] = None
    summary: Annotated[str | None, Field(max_length=65536)] = None
    metadata: Annotated[
        dict[str, str] | None,
        Field(
            description="Free-form producer metadata, string to string, at most 64 KiB as JSON."
        ),
    ] = None
    default_sort: Annotated[
        str,
        Field(
            description="The evaluations list sort this group suggests, comma-separated, '-' for descending: name, created_at, updated_at, pinned_at, run_count, test_case_count, cost_usd.<stat>, latency_ms.<stat>, tokens.<stat>, evaluators.<name>.<stat>.",
            max_length=1024,
        ),
    ] = "-created_at"
    pareto: Annotated[
        ParetoConfig | None,
        Field(
            description="Omitted on PUT keeps the stored axes; omitted on create is cost vs latency."
        ),
    ] = None
    column_layout: Annotated[
        ColumnLayout | None,
        Field(
            description="The saved table layout; omitted or null saves none on create and keeps the stored one on PUT."
        ),
    ] = None
    is_favorite: Annotated[
        bool,
        Field(
            description="Marks the container as a favorite; false on create, kept on PUT when omitted."
        ),
    ] = False
    show_evaluations_over_time: Annotated[
        bool,
        Field(
            description="Show the evaluations' results over time; false on create, kept on PUT when omitted."
        ),
    ] = False
    baseline_evaluation_name: Annotated[
        str | None,
        Field(
            description="A live evaluation that belongs to this container; null clears the baseline.",
            max_length=255,
        ),
    ] = None


class SessionInput(StrictBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "session_id": "run-0007",
                    "test_case_id": "case-7",
                    "started_at": "2026-01-05T09:00:00Z",
                    "ended_at": "2026-01-05T09:00:02Z",
                    "latency_ms": 1840,
                    "status": "success",
                    "model_name": "gpt-4o-mini",
                    "input_tokens": 420,
                    "output_tokens": 35,
                    "cost_usd": 0.00011,
                    "input": "Where is my order?",
                    "output": "It ships tomorrow.",
                    "scores": {"accuracy": 1, "polite": True},
                }
            ]
        },
    )
    session_id: Annotated[
        str, Field(max_length=255, min_length=1, pattern="^[^\\x00]+$")
    ]
    test_case_id: Annotated[
        str | None, Field(max_length=255, pattern="^[^\\x00]*$")
    ] = None
    started_at: SessionTime
    ended_at: SessionTime | None = None
    latency_ms: Annotated[float | None, Field(ge=0.0)] = None
    status: Literal["success", "error", "cancelled", "unknown"] = "unknown"
    model_name: Annotated[str | None, Field(max_length=255)] = None
    agent_name: Annotated[str | None, Field(max_length=255)] = None
    agent_version: Annotated[str | None, Field(max_length=255)] = None
    input_tokens: Annotated[int | None, Field(ge=0)] = None
    output_tokens: Annotated[int | None, Field(ge=0)] = None
    cached_tokens: Annotated[int | None, Field(ge=0)] = None
    cost_usd: Annotated[float | None, Field(ge=0.0)] = None
    input: str | None = None
    output: str | None = None
    metadata: dict[str, Any] | None = None
    scores: Annotated[
        dict[str, bool | float | None] | None,
        Field(description="Score name → value; a name must not contain NUL (U+0000)."),
    ] = None


class SessionsIngestRequest(StrictBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "sessions": [
                        {
                            "session_id": "run-0007",
                            "test_case_id": "case-7",
                            "started_at": "2026-01-05T09:00:00Z",
                            "ended_at": "2026-01-05T09:00:02Z",
                            "latency_ms": 1840,
                            "status": "success",
                            "model_name": "gpt-4o-mini",
                            "input_tokens": 420,
                            "output_tokens": 35,
                            "cost_usd": 0.00011,
                            "input": "Where is my order?",
                            "output": "It ships tomorrow.",
                            "scores": {"accuracy": 1, "polite": True},
                        }
                    ]
                }
            ]
        },
    )
    sessions: Annotated[list[SessionInput], Field(max_length=10000, min_length=1)]


class SessionsIngestResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"accepted": 1}]},
    )
    accepted: int


class ExperimentSessionResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "workspace": "default",
                    "experiment_name": "exp-a",
                    "session_id": "run-0007",
                    "test_case_id": "case-7",
                    "trace_id": "run-0007",
                    "root_span_id": "run-0007",
                    "started_at": "2026-01-05T09:00:00Z",
                    "ended_at": "2026-01-05T09:00:02Z",
                    "latency_ms": 1840,
                    "status": "success",
                    "model_name": "gpt-4o-mini",
                    "agent_name": "support-bot",
                    "agent_version": "1.4.0",
                    "input_tokens": 420,
                    "output_tokens": 35,
                    "cached_tokens": None,
                    "cost_usd": 0.00011,
                    "cost_total_usd": 0.00011,
                    "input": "Where is my order?",
                    "evaluator_scores": {"accuracy": 1, "polite": 1},
                }
            ]
        },
    )
    workspace: str
    experiment_name: str
    session_id: str
    test_case_id: str | None
    trace_id: str
    root_span_id: str
    started_at: AwareDatetime
    ended_at: AwareDatetime | None
    latency_ms: float | None
    status: Literal["success", "error", "cancelled", "unknown"]
    model_name: str | None
    agent_name: str | None
    agent_version: str | None
    input_tokens: int | None
    output_tokens: int | None
    cached_tokens: int | None
    cost_usd: float | None
    cost_total_usd: Annotated[
        float | None,
        Field(description="The same as cost_usd, under the name SDK 0.2.0 reads."),
    ]
    input: str | None
    evaluator_scores: dict[str, float]


class ExperimentSessionsPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "data": [
                        {
                            "workspace": "default",
                            "experiment_name": "exp-a",
                            "session_id": "run-0007",
                            "test_case_id": "case-7",
                            "trace_id": "run-0007",
                            "root_span_id": "run-0007",
                            "started_at": "2026-01-05T09:00:00Z",
                            "ended_at": "2026-01-05T09:00:02Z",
                            "latency_ms": 1840,
                            "status": "success",
                            "model_name": "gpt-4o-mini",
                            "agent_name": "support-bot",
                            "agent_version": "1.4.0",
                            "input_tokens": 420,
                            "output_tokens": 35,
                            "cached_tokens": None,
                            "cost_usd": 0.00011,
                            "cost_total_usd": 0.00011,
                            "input": "Where is my order?",
                            "evaluator_scores": {"accuracy": 1, "polite": 1},
                        }
                    ],
                    "pagination": {
                        "page": 1,
                        "page_size": 100,
                        "current_page_size": 1,
                        "total_pages": 1,
                        "total_results": 1,
                    },
                    "sort": "started_at",
                    "filter": {"status": "success"},
                }
            ]
        },
    )
    data: list[ExperimentSessionResponse]
    pagination: PaginationData
    sort: str | None
    filter: dict[str, Any]


class ExperimentId(RootModel[str]):
    root: Annotated[str, Field(max_length=255, min_length=1)]


class EvaluationRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "baseline",
                    "dataset_name": "qa-v1",
                    "experiment_ids": ["grp-01a212d7-c41a-759d-b325-cf27931288a0"],
                    "metadata": {"team": "nlp"},
                    "status": "completed",
                }
            ]
        },
    )
    name: Annotated[
        str, Field(max_length=255, min_length=1, pattern="^[^/\\x00-\\x1f\\x7f]+$")
    ]
    dataset_name: Annotated[str, Field(max_length=255, min_length=1)]
    dataset_version: Annotated[str | None, Field(max_length=255)] = None
    experiment_ids: Annotated[
        list[ExperimentId] | None,
        Field(
            description="Ids of the experiment groups this evaluation belongs to (at least one, each existing)."
        ),
    ] = None
    experiment_group_id: Annotated[
        str | None, Field(description="Deprecated single-group field.", max_length=255)
    ] = None
    source_link: AnyUrl | None = None
    metadata: Annotated[
        dict[str, str] | None,
        Field(
            description="Free-form producer metadata, string values only, at most 64 KiB as JSON."
        ),
    ] = None
    description: Annotated[str | None, Field(max_length=65536)] = None
    parent_evaluation_id: Annotated[str | None, Field(max_length=64)] = None
    parent_experiment_id: Annotated[
        str | None,
        Field(description="Deprecated alias of parent_evaluation_id.", max_length=64),
    ] = None
    status: Annotated[str | None, Field(max_length=255)] = None
    root_cause: Annotated[str | None, Field(max_length=65536)] = None


class EvaluationPatchRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "status": "failed",
                    "root_cause": "The retriever timed out on 12 test cases.",
                }
            ]
        },
    )
    experiment_ids: Annotated[
        list[ExperimentId] | None,
        Field(
            description="Replaces the membership (an evaluation belongs to at least one group); null keeps it, as when the field is absent.",
            min_length=1,
        ),
    ] = None
    source_link: AnyUrl | None = None
    metadata: dict[str, str] | None = None
    description: Annotated[str | None, Field(max_length=65536)] = None
    parent_evaluation_id: Annotated[str | None, Field(max_length=64)] = None
    status: Annotated[str | None, Field(max_length=255)] = None
    root_cause: Annotated[str | None, Field(max_length=65536)] = None


class EvaluationResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "exp-01a212d7-c476-79f6-aaed-06f256332106",
                    "name": "baseline",
                    "workspace": "default",
                    "experiment_ids": ["grp-01a212d7-c41a-759d-b325-cf27931288a0"],
                    "experiment_group_id": "grp-01a212d7-c41a-759d-b325-cf27931288a0",
                    "dataset_name": "qa-v1",
                    "dataset_version": None,
                    "source_link": None,
                    "metadata": {"team": "nlp"},
                    "description": None,
                    "parent_evaluation_id": None,
                    "parent_experiment_id": None,
                    "status": "completed",
                    "root_cause": None,
                    "created_by": "ci-key",
                    "created_at": "2026-01-05T09:00:00Z",
                    "updated_at": "2026-01-05T09:00:00Z",
                    "pinned_at": None,
                    "evaluator_names": ["accuracy"],
                    "model_names": ["gpt-4o"],
                    "agent_names": ["rag-agent"],
                    "agent_versions": ["2.1"],
                    "run_count": 2,
                    "test_case_count": 2,
                    "cost_usd": {
                        "sum": 0.01,
                        "mean": 0.005,
                        "median": 0.005,
                        "p90": 0.0058,
                        "p95": 0.0059,
                        "p99": 0.00598,
                        "count": 2,
                    },
                    "latency_ms": {
                        "sum": 4200.0,
                        "mean": 2100.0,
                        "median": 2100.0,
                        "p90": 2340.0,
                        "p95": 2370.0,
                        "p99": 2394.0,
                        "count": 2,
                    },
                    "tokens": {
                        "sum": 1816,
                        "mean": 908,
                        "median": 908,
                        "p90": 908,
                        "p95": 908,
                        "p99": 908,
                        "count": 2,
                    },
                    "aggregate_scores": {
                        "accuracy": {
                            "sum": 1.5,
                            "mean": 0.75,
                            "median": 0.75,
                            "p90": 0.95,
                            "p95": 0.975,
                            "p99": 0.995,
                            "count": 2,
                        }
                    },
                }
            ]
        },
    )
    id: str
    name: str
    workspace: str
    experiment_ids: list[str]
    experiment_group_id: str | None
    dataset_name: str
    dataset_version: str | None
    source_link: str | None
    metadata: dict[str, str]
    description: str | None
    parent_evaluation_id: str | None
    parent_experiment_id: str | None
    status: str | None
    root_cause: str | None
    created_by: str | None
    created_at: AwareDatetime
    updated_at: AwareDatetime
    pinned_at: AwareDatetime | None
    evaluator_names: list[str]
    model_names: list[str]
    agent_names: list[str]
    agent_versions: list[str]
    run_count: Annotated[int, Field(description="Distinct sessions.")]
    test_case_count: Annotated[
        int,
        Field(
            description="Distinct non-empty test case ids; sessions without one count toward no rollup below."
        ),
    ]
    cost_usd: Annotated[
        EvaluatorAggregate | None,
        Field(
            description="Per test case, the mean over its sessions with a cost; statistics across test cases."
        ),
    ]
    latency_ms: Annotated[
        EvaluatorAggregate | None,
        Field(
            description="Per test case, the mean over its sessions with a latency; statistics across test cases."
        ),
    ]
    tokens: Annotated[
        EvaluatorAggregate | None,
        Field(
            description="Input + output tokens, per test case the mean over its sessions; statistics across test cases."
        ),
    ]
    aggregate_scores: Annotated[
        dict[str, EvaluatorAggregate],
        Field(
            description="Per evaluator: per test case the sum of its sessions' mean scores over its session count (an unscored session counts 0); statistics across test cases."
        ),
    ]


class EvaluationResponsesPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "data": [
                        {
                            "id": "exp-01a212d7-c476-79f6-aaed-06f256332106",
                            "name": "baseline",
                            "workspace": "default",
                            "experiment_ids": [
                                "grp-01a212d7-c41a-759d-b325-cf27931288a0"
                            ],
                            "experiment_group_id": "grp-01a212d7-c41a-759d-b325-cf27931288a0",
                            "dataset_name": "qa-v1",
                            "dataset_version": None,
                            "source_link": None,
                            "metadata": {"team": "nlp"},
                            "description": None,
                            "parent_evaluation_id": None,
                            "parent_experiment_id": None,
                            "status": "completed",
                            "root_cause": None,
                            "created_by": "ci-key",
                            "created_at": "2026-01-05T09:00:00Z",
                            "updated_at": "2026-01-05T09:00:00Z",
                            "pinned_at": None,
                            "evaluator_names": ["accuracy"],
                            "model_names": ["gpt-4o"],
                            "agent_names": ["rag-agent"],
                            "agent_versions": ["2.1"],
                            "run_count": 2,
                            "test_case_count": 2,
                            "cost_usd": {
                                "sum": 0.01,
                                "mean": 0.005,
                                "median": 0.005,
                                "p90": 0.0058,
                                "p95": 0.0059,
                                "p99": 0.00598,
                                "count": 2,
                            },
                            "latency_ms": {
                                "sum": 4200.0,
                                "mean": 2100.0,
                                "median": 2100.0,
                                "p90": 2340.0,
                                "p95": 2370.0,
                                "p99": 2394.0,
                                "count": 2,
                            },
                            "tokens": {
                                "sum": 1816,
                                "mean": 908,
                                "median": 908,
                                "p90": 908,
                                "p95": 908,
                                "p99": 908,
                                "count": 2,
                            },
                            "aggregate_scores": {
                                "accuracy": {
                                    "sum": 1.5,
                                    "mean": 0.75,
                                    "median": 0.75,
                                    "p90": 0.95,
                                    "p95": 0.975,
                                    "p99": 0.995,
                                    "count": 2,
                                }
                            },
                        }
                    ],
                    "pagination": {
                        "page": 1,
                        "page_size": 100,
                        "current_page_size": 1,
                        "total_pages": 1,
                        "total_results": 1,
                    },
                    "sort": "-created_at",
                    "filter": {},
                }
            ]
        },
    )
    data: list[EvaluationResponse]
    pagination: PaginationData
    sort: str | None
    filter: dict[str, Any]


class EvaluationSessionResponse(BaseModel):
    workspace: str
    evaluation_name: str
    experiment_name: str
    session_id: str
    test_case_name: Annotated[
        str | None,
        Field(
            description="The session's test case (SDK 0.4+ spelling); null when the producer set none."
        ),
    ]
    test_case_id: Annotated[
        str | None, Field(description="The same test case, as SDK 0.3.0 names it.")
    ]
    trace_id: str
    root_span_id: str
    started_at: AwareDatetime
    ended_at: AwareDatetime | None
    latency_ms: float | None
    status: Literal["success", "error", "cancelled", "unknown"]
    input: str | None
    output: str | None
    input_tokens: int | None
    output_tokens: int | None
    cached_tokens: int | None
    cost_total_usd: float | None
    evaluator_scores: dict[str, float]


class EvaluationSessionsPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "data": [
                        {
                            "workspace": "default",
                            "evaluation_name": "baseline",
                            "experiment_name": "baseline",
                            "session_id": "run-0007",
                            "test_case_name": "q-17",
                            "test_case_id": "q-17",
                            "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
                            "root_span_id": "00f067aa0ba902b7",
                            "started_at": "2026-01-05T09:00:00Z",
                            "ended_at": "2026-01-05T09:00:02.5Z",
                            "latency_ms": 2500.0,
                            "status": "success",
                            "input": "What is 17 * 23?",
                            "output": "391",
                            "input_tokens": 812,
                            "output_tokens": 96,
                            "cached_tokens": 0,
                            "cost_total_usd": 0.0042,
                            "evaluator_scores": {"accuracy": 1.0},
                        }
                    ],
                    "pagination": {
                        "page": 1,
                        "page_size": 100,
                        "current_page_size": 1,
                        "total_pages": 1,
                        "total_results": 1,
                    },
                    "sort": "started_at",
                    "filter": {},
                }
            ]
        },
    )
    data: list[EvaluationSessionResponse]
    pagination: PaginationData
    sort: str | None
    filter: dict[str, Any]


class CompareBootstrap(BaseModel):
    resamples: Annotated[int, Field(description="Bootstrap resamples per metric.")]
    seed: Annotated[int, Field(description="Seed of the random generator.")]
    confidence: Annotated[
        float, Field(description="Confidence level of the intervals (0.95).")
    ]
    method: Annotated[
        str | None,
        Field(
            description="percentile: the interval is the 2.5th and 97.5th percentiles of the resampled mean differences."
        ),
    ] = None


class ComparePairing(BaseModel):
    n_common: Annotated[int, Field(description="Test cases both runs have.")]
    n_pairs: Annotated[
        int | None,
        Field(
            description="Pairs compared: sessions in order (in_order) or test cases (per_test_case_mean)."
        ),
    ] = None
    unpaired_evaluation: Annotated[
        list[str], Field(description="Test cases only the evaluation has.")
    ]
    unpaired_baseline: Annotated[
        list[str], Field(description="Test cases only the baseline has.")
    ]
    method: Literal["in_order", "per_test_case_mean"]


class ComparePassFail(BaseModel):
    both_pass: int
    both_fail: int
    improved: int
    regressed: int
    p_value: float
    pass_rate_difference: float
    ci_low: float
    ci_high: float


class CompareMover(BaseModel):
    test_case_id: str
    repeat: Annotated[
        int | None,
        Field(
            description="The repeat's index in start order (0 when means are paired)."
        ),
    ] = None
    evaluation: float
    baseline: float
    difference: Annotated[float, Field(description="evaluation minus baseline.")]


class CompareMetric(BaseModel):
    metric: Annotated[
        str, Field(description="evaluators.<name>, cost_usd, latency_ms or tokens.")
    ]
    kind: Literal["continuous", "pass_fail"]
    higher_is_better: bool
    n_common: Annotated[int, Field(description="Pairs where both sides have a value.")]
    evaluation_mean: float | None
    baseline_mean: float | None
    mean_difference: float | None
    ci_low: Annotated[
        float | None,
        Field(
            description="Lower end of the 95 % bootstrap interval of mean_difference."
        ),
    ]
    ci_high: Annotated[
        float | None,
        Field(
            description="Upper end of the 95 % bootstrap interval of mean_difference."
        ),
    ]
    p_value: Annotated[
        float | None,
        Field(
            description="Wilcoxon signed-rank (continuous) or McNemar exact (pass_fail); 1 when no pair moved."
        ),
    ]
    p_value_holm: Annotated[
        float | None,
        Field(description="Holm-adjusted across every metric of the comparison."),
    ]
    test: Literal["wilcoxon_signed_rank", "mcnemar_exact"] | None = None
    improved: int
    regressed: int
    unchanged: int
    pass_fail: ComparePassFail | None
    top_movers: list[CompareMover]
    verdict: Literal["improved", "regressed", "no significant change"]


class CompareResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "evaluation": "nightly-2026-01-05",
                    "baseline": "nightly-2026-01-04",
                    "bootstrap": {
                        "resamples": 2000,
                        "seed": 0,
                        "confidence": 0.95,
                        "method": "percentile",
                    },
                    "pairing": {
                        "n_common": 120,
                        "n_pairs": 120,
                        "unpaired_evaluation": ["q-121"],
                        "unpaired_baseline": [],
                        "method": "in_order",
                    },
                    "significance": 0.05,
                    "metrics": [
                        {
                            "metric": "evaluators.accuracy",
                            "kind": "pass_fail",
                            "higher_is_better": True,
                            "n_common": 120,
                            "evaluation_mean": 0.8,
                            "baseline_mean": 0.7,
                            "mean_difference": 0.1,
                            "ci_low": 0.0417,
                            "ci_high": 0.1583,
                            "p_value": 0.0026,
                            "p_value_holm": 0.0104,
                            "test": "mcnemar_exact",
                            "improved": 14,
                            "regressed": 2,
                            "unchanged": 104,
                            "pass_fail": {
                                "both_pass": 82,
                                "both_fail": 22,
                                "improved": 14,
                                "regressed": 2,
                                "p_value": 0.0026,
                                "pass_rate_difference": 0.1,
                                "ci_low": 0.0417,
                                "ci_high": 0.1583,
                            },
                            "top_movers": [
                                {
                                    "test_case_id": "q-17",
                                    "repeat": 0,
                                    "evaluation": 1.0,
                                    "baseline": 0.0,
                                    "difference": 1.0,
                                }
                            ],
                            "verdict": "improved",
                        },
                        {
                            "metric": "cost_usd",
                            "kind": "continuous",
                            "higher_is_better": False,
                            "n_common": 120,
                            "evaluation_mean": 0.0042,
                            "baseline_mean": 0.004,
                            "mean_difference": 0.0002,
                            "ci_low": -0.0001,
                            "ci_high": 0.0005,
                            "p_value": 0.21,
                            "p_value_holm": 0.42,
                            "test": "wilcoxon_signed_rank",
                            "improved": 50,
                            "regressed": 61,
                            "unchanged": 9,
                            "pass_fail": None,
                            "top_movers": [
                                {
                                    "test_case_id": "q-3",
                                    "repeat": 0,
                                    "evaluation": 0.011,
                                    "baseline": 0.004,
                                    "difference": 0.007,
                                }
                            ],
                            "verdict": "no significant change",
                        },
                    ],
                    "verdict": "improved",
                }
            ]
        },
    )
    evaluation: Annotated[str, Field(description="The run compared.")]
    baseline: Annotated[str, Field(description="The run it is compared against.")]
    bootstrap: CompareBootstrap
    pairing: ComparePairing
    significance: Annotated[
        float | None, Field(description="The level the verdicts use (0.05).")
    ] = None
    metrics: list[CompareMetric]
    verdict: Annotated[
        Literal["improved", "regressed", "mixed", "no significant change"],
        Field(
            description="improved when some metric improved and none regressed, regressed the other way round, mixed when both happened, else no significant change."
        ),
    ]


class PivotCell(BaseModel):
    row: Annotated[
        str | None,
        Field(
            description="The row dimension's value (null when the sessions have none)."
        ),
    ]
    column: Annotated[
        str | None,
        Field(description="The column dimension's value (null without columns)."),
    ]
    value: Annotated[
        float | None, Field(description="The metric over the cell's sessions.")
    ]
    evaluations: Annotated[
        int, Field(description="Evaluations with sessions in the cell.")
    ]
    sessions: Annotated[int, Field(description="Sessions in the cell.")]
    test_cases: Annotated[int, Field(description="Distinct test case ids in the cell.")]


class PivotResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "rows": "agent_version",
                    "columns": "dataset_name",
                    "metric": "evaluators.accuracy.mean",
                    "row_values": ["v1", "v2"],
                    "column_values": ["gsm8k", "tickets"],
                    "cells": [
                        {
                            "row": "v1",
                            "column": "gsm8k",
                            "value": 0.71,
                            "evaluations": 2,
                            "sessions": 240,
                            "test_cases": 120,
                        },
                        {
                            "row": "v1",
                            "column": "tickets",
                            "value": 0.64,
                            "evaluations": 1,
                            "sessions": 80,
                            "test_cases": 80,
                        },
                        {
                            "row": "v2",
                            "column": "gsm8k",
                            "value": 0.78,
                            "evaluations": 1,
                            "sessions": 120,
                            "test_cases": 120,
                        },
                    ],
                    "evaluations": 4,
                    "filter": {},
                }
            ]
        },
    )
    rows: str
    columns: str | None
    metric: str
    row_values: Annotated[
        list[str | None], Field(description="The rows in order (null last).")
    ]
    column_values: Annotated[
        list[str | None], Field(description="The columns in order (null last).")
    ]
    cells: Annotated[
        list[PivotCell],
        Field(
            description="The cells that have sessions, by row then column; a missing cell has none."
        ),
    ]
    evaluations: Annotated[int, Field(description="Evaluations the filter selected.")]
    filter: Annotated[dict[str, Any], Field(description="The filter, as understood.")]


class EvaluatorResultInput(StrictBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "session_id": "run-0007",
                    "name": "accuracy",
                    "data_type": "NUMERIC",
                    "value": 1,
                    "comment": "Matches the reference answer.",
                    "experiment_name": "exp-a",
                }
            ]
        },
    )
    session_id: Annotated[
        str, Field(max_length=255, min_length=1, pattern="^[^\\x00]+$")
    ]
    span_id: Annotated[str, Field(max_length=255, pattern="^[^\\x00]*$")] = ""
    name: Annotated[str, Field(max_length=255, min_length=1, pattern="^[^\\x00]+$")]
    data_type: Literal["NUMERIC", "BOOLEAN", "CATEGORICAL", "TEXT"]
    value: float | None = None
    string_value: Annotated[str | None, Field(max_length=65536)] = None
    comment: Annotated[str | None, Field(max_length=65536)] = None
    experiment_name: Annotated[str | None, Field(max_length=255)] = None


class EvaluatorResult(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "evaluator_result_id": "7f1c2b9e5d6a4e3f8b0a1c2d3e4f5a6b",
                    "workspace": "default",
                    "session_id": "run-0007",
                    "span_id": "",
                    "name": "accuracy",
                    "data_type": "NUMERIC",
                    "value": 1,
                    "string_value": None,
                    "comment": "Matches the reference answer.",
                    "experiment_name": "exp-a",
                    "created_by": "ci-key",
                    "created_at": "2026-01-05T09:00:05Z",
                    "ingested_at": "2026-01-05T09:00:05Z",
                }
            ]
        },
    )
    evaluator_result_id: str
    workspace: str
    session_id: str
    span_id: str
    name: str
    data_type: Literal["NUMERIC", "BOOLEAN", "CATEGORICAL", "TEXT"]
    value: float | None
    string_value: str | None
    comment: str | None
    experiment_name: str | None
    created_by: str | None
    created_at: AwareDatetime
    ingested_at: Annotated[
        AwareDatetime,
        Field(
            description="When the server stored the result; the SDKs require it. The server stamps created_at at that moment too, so the two are equal."
        ),
    ]


class TelemetryEvaluationContext(BaseModel):
    evaluation_name: str | None = None
    test_case_name: str | None = None
    evaluation_id: str | None = None
    test_case_id: str | None = None


class TelemetryExperimentContext(BaseModel):
    experiment_id: str | None = None
    test_case_id: str | None = None


class IntakeSession(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "run-0007",
                    "workspace": "default",
                    "started_at": "2026-01-05T09:00:00Z",
                    "ended_at": "2026-01-05T09:00:02.5Z",
                    "duration_ms": 2500.0,
                    "status": "success",
                    "input_tokens": 812,
                    "output_tokens": 96,
                    "total_tokens": 908,
                    "cost_usd": 0.0042,
                    "trace_count": 1,
                    "span_count": 4,
                }
            ]
        },
    )
    id: str
    workspace: str
    started_at: AwareDatetime
    ended_at: AwareDatetime | None = None
    duration_ms: float | None = None
    status: Literal["success", "error", "cancelled", "unknown"]
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_tokens: int | None = None
    total_tokens: int | None = None
    cost_usd: float | None = None
    cost_input_usd: float | None = None
    cost_output_usd: float | None = None
    trace_count: int
    span_count: int


class TokenRollup(BaseModel):
    sum: Annotated[int | None, Field(ge=0)] = None
    mean: float | None = None
    p90: float | None = None
    p99: float | None = None


class CostRollup(BaseModel):
    sum: float | None = None
    mean: float | None = None
    p90: float | None = None
    p99: float | None = None


class LatencyRollup(BaseModel):
    mean: float | None = None
    p50: float | None = None
    p90: float | None = None
    p95: float | None = None
    p99: float | None = None


class TraceMetricPoint(BaseModel):
    bucket_start: Annotated[
        AwareDatetime | None,
        Field(
            description="The bucket's start, with the offset of the requested time zone; absent for bucket=total."
        ),
    ] = None
    run_count: Annotated[
        int, Field(description="Traces whose root started in the bucket.", ge=0)
    ]
    failed_run_count: Annotated[
        int, Field(description="Those whose root span ended in error.", ge=0)
    ]
    input_tokens: TokenRollup
    output_tokens: TokenRollup
    cached_tokens: TokenRollup
    total_tokens: TokenRollup
    cost_usd: CostRollup
    latency_ms: LatencyRollup


class TraceMetrics(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "bucket": "day",
                    "timezone": "America/Los_Angeles",
                    "data": [
                        {
                            "bucket_start": "2026-01-05T00:00:00-08:00",
                            "run_count": 2,
                            "failed_run_count": 1,
                            "input_tokens": {
                                "sum": 1240,
                                "mean": 620.0,
                                "p90": 760.8,
                                "p99": 792.48,
                            },
                            "output_tokens": {
                                "sum": 131,
                                "mean": 65.5,
                                "p90": 77.9,
                                "p99": 80.69,
                            },
                            "cached_tokens": {},
                            "total_tokens": {
                                "sum": 1371,
                                "mean": 685.5,
                                "p90": 838.7,
                                "p99": 873.17,
                            },
                            "cost_usd": {
                                "sum": 0.0063,
                                "mean": 0.00315,
                                "p90": 0.00399,
                                "p99": 0.004179,
                            },
                            "latency_ms": {
                                "mean": 2250.0,
                                "p50": 2250.0,
                                "p90": 2450.0,
                                "p95": 2475.0,
                                "p99": 2495.0,
                            },
                        }
                    ],
                }
            ]
        },
    )
    bucket: Literal["total", "hour", "day", "week", "month"]
    timezone: str
    data: list[TraceMetricPoint]


class Trace(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "4bf92f3577b34da6a3ce929d0e0e4736",
                    "root_span_id": "00f067aa0ba902b7",
                    "session_id": "run-0007",
                    "workspace": "default",
                    "name": "agent-run",
                    "input": "What is 17 * 23?",
                    "output": "391",
                    "evaluation_context": {
                        "evaluation_name": "baseline",
                        "test_case_name": "q-17",
                        "evaluation_id": "baseline",
                        "test_case_id": "q-17",
                    },
                    "started_at": "2026-01-05T09:00:00Z",
                    "ended_at": "2026-01-05T09:00:02.5Z",
                    "duration_ms": 2500.0,
                    "status": "success",
                    "input_tokens": 812,
                    "output_tokens": 96,
                    "total_tokens": 908,
                    "cost_usd": 0.0042,
                    "span_count": 4,
                    "error_count": 0,
                }
            ]
        },
    )
    id: str
    root_span_id: str | None = None
    session_id: str
    workspace: str
    name: str | None = None
    input: str | None = None
    output: str | None = None
    evaluation_context: TelemetryEvaluationContext | None = None
    experiment_context: TelemetryExperimentContext | None = None
    started_at: AwareDatetime
    ended_at: AwareDatetime | None = None
    duration_ms: float | None = None
    status: Literal["success", "error", "cancelled", "unknown"]
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_tokens: int | None = None
    total_tokens: int | None = None
    cost_usd: float | None = None
    cost_input_usd: float | None = None
    cost_output_usd: float | None = None
    span_count: int | None = None
    error_count: int | None = None


class TracesPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "data": [
                        {
                            "id": "4bf92f3577b34da6a3ce929d0e0e4736",
                            "root_span_id": "00f067aa0ba902b7",
                            "session_id": "run-0007",
                            "workspace": "default",
                            "name": "agent-run",
                            "input": "What is 17 * 23?",
                            "output": "391",
                            "evaluation_context": {
                                "evaluation_name": "baseline",
                                "test_case_name": "q-17",
                                "evaluation_id": "baseline",
                                "test_case_id": "q-17",
                            },
                            "started_at": "2026-01-05T09:00:00Z",
                            "ended_at": "2026-01-05T09:00:02.5Z",
                            "duration_ms": 2500.0,
                            "status": "success",
                            "input_tokens": 812,
                            "output_tokens": 96,
                            "total_tokens": 908,
                            "cost_usd": 0.0042,
                            "span_count": 4,
                            "error_count": 0,
                        }
                    ],
                    "pagination": {
                        "page": 1,
                        "page_size": 100,
                        "current_page_size": 1,
                        "total_pages": 1,
                        "total_results": 1,
                    },
                    "sort": "-started_at",
                    "filter": {"session_id": "run-0007"},
                }
            ]
        },
    )
    data: list[Trace]
    pagination: PaginationData
    sort: str | None
    filter: dict[str, Any]


class Span(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "span_id": "00f067aa0ba902b7",
                    "session_id": "run-0007",
                    "workspace": "default",
                    "evaluation_context": {
                        "evaluation_name": "baseline",
                        "test_case_name": "q-17",
                        "evaluation_id": "baseline",
                        "test_case_id": "q-17",
                    },
                    "kind": "LLM",
                    "name": "chat gpt-4o",
                    "source": "otel",
                    "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
                    "started_at": "2026-01-05T09:00:00Z",
                    "ended_at": "2026-01-05T09:00:01.2Z",
                    "status": "success",
                    "model": "gpt-4o",
                    "input_tokens": 812,
                    "output_tokens": 96,
                    "total_tokens": 908,
                    "cost_total_usd": 0.0042,
                    "input": "What is 17 * 23?",
                    "output": "391",
                    "ingested_at": "2026-01-05T09:00:03Z",
                }
            ]
        },
    )
    span_id: str
    session_id: str
    workspace: str
    evaluation_context: TelemetryEvaluationContext | None = None
    parent_span_id: str | None = None
    kind: Literal[
        "LLM",
        "CHAIN",
        "TOOL",
        "RETRIEVER",
        "EMBEDDING",
        "AGENT",
        "RERANKER",
        "EVALUATOR",
        "GUARDRAIL",
        "UNKNOWN",
    ]
    name: str | None = None
    source: Annotated[
        str,
        Field(
            description="otel, atif or chat_completions: the ingest route the span came through."
        ),
    ]
    trace_id: str | None = None
    started_at: AwareDatetime
    ended_at: AwareDatetime | None = None
    status: Literal["success", "error", "cancelled", "unknown"]
    model: str | None = None
    agent_name: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_tokens: int | None = None
    total_tokens: int | None = None
    cost_total_usd: float | None = None
    input: str | None = None
    output: str | None = None
    raw_attributes: Annotated[
        str | None,
        Field(description="The span's attributes as JSON text; detailed mode only."),
    ] = None
    ingested_at: AwareDatetime


class SpansPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "data": [
                        {
                            "span_id": "00f067aa0ba902b7",
                            "session_id": "run-0007",
                            "workspace": "default",
                            "evaluation_context": {
                                "evaluation_name": "baseline",
                                "test_case_name": "q-17",
                                "evaluation_id": "baseline",
                                "test_case_id": "q-17",
                            },
                            "kind": "LLM",
                            "name": "chat gpt-4o",
                            "source": "otel",
                            "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
                            "started_at": "2026-01-05T09:00:00Z",
                            "ended_at": "2026-01-05T09:00:01.2Z",
                            "status": "success",
                            "model": "gpt-4o",
                            "input_tokens": 812,
                            "output_tokens": 96,
                            "total_tokens": 908,
                            "cost_total_usd": 0.0042,
                            "input": "What is 17 * 23?",
                            "output": "391",
                            "ingested_at": "2026-01-05T09:00:03Z",
                        }
                    ],
                    "pagination": {
                        "page": 1,
                        "page_size": 100,
                        "current_page_size": 1,
                        "total_pages": 1,
                        "total_results": 1,
                    },
                    "sort": "-started_at",
                    "filter": {"session_id": "run-0007"},
                }
            ]
        },
    )
    data: list[Span]
    pagination: PaginationData
    sort: str | None
    filter: dict[str, Any]


class SpanGroup(BaseModel):
    group: dict[str, str]
    span_count: int


class SpanGroupsPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "grouped_by": ["session_id"],
                    "data": [{"group": {"session_id": "run-0007"}, "span_count": 4}],
                    "pagination": {
                        "page": 1,
                        "page_size": 100,
                        "current_page_size": 1,
                        "total_pages": 1,
                        "total_results": 1,
                    },
                    "sort": "-span_count",
                    "filter": {},
                }
            ]
        },
    )
    grouped_by: list[Literal["trace_id", "session_id"]]
    data: list[SpanGroup]
    pagination: PaginationData
    sort: str | None
    filter: dict[str, Any]


class AnnotationInput(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"kind": "feedback", "session_id": "run-0007", "value": "positive"}
            ]
        },
    )
    kind: Literal["feedback", "note", "metadata", "label"]
    session_id: Annotated[str, Field(min_length=1)]
    span_id: str | None = None
    value: str | float | None = None
    text: str | None = None
    metadata: dict[str, Any] | None = None
    value_type: Literal["text", "numeric"] | None = None
    name: Annotated[str | None, Field(max_length=256)] = None


class Annotation(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "annotation_id": "ann-5f2c9a1e",
                    "workspace": "default",
                    "kind": "feedback",
                    "session_id": "run-0007",
                    "value": "positive",
                    "created_by": "reviewer",
                    "created_at": "2026-01-05T10:00:00Z",
                    "ingested_at": "2026-01-05T10:00:00Z",
                }
            ]
        },
    )
    annotation_id: str
    workspace: str
    kind: Literal["feedback", "note", "metadata", "label"]
    session_id: str
    span_id: str | None = None
    value: str | float | None = None
    text: str | None = None
    metadata: dict[str, Any] | None = None
    value_type: Literal["text", "numeric"] | None = None
    name: str | None = None
    created_by: str | None = None
    created_at: AwareDatetime
    ingested_at: AwareDatetime


class AnnotationsPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "data": [
                        {
                            "annotation_id": "ann-5f2c9a1e",
                            "workspace": "default",
                            "kind": "feedback",
                            "session_id": "run-0007",
                            "value": "positive",
                            "created_by": "reviewer",
                            "created_at": "2026-01-05T10:00:00Z",
                            "ingested_at": "2026-01-05T10:00:00Z",
                        }
                    ],
                    "pagination": {
                        "page": 1,
                        "page_size": 100,
                        "current_page_size": 1,
                        "total_pages": 1,
                        "total_results": 1,
                    },
                    "sort": "-created_at",
                    "filter": {},
                }
            ]
        },
    )
    data: list[Annotation]
    pagination: PaginationData
    sort: str | None
    filter: dict[str, Any]


class Workspace(RootModel[str]):
    root: Annotated[
        str, Field(max_length=63, min_length=1, pattern="^(\\*|[a-z0-9][a-z0-9._-]*)$")
    ]


class ApiKeyRequest(StrictBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "ci-key",
                    "scopes": ["intake:read", "intake:write"],
                    "workspaces": ["default"],
                    "expires_at": "2027-01-01T00:00:00Z",
                }
            ]
        },
    )
    name: Annotated[
        str, Field(max_length=255, min_length=1, pattern="^[A-Za-z0-9][A-Za-z0-9._-]*$")
    ]
    scopes: Annotated[
        list[
            Literal[
                "intake:read",
                "intake:write",
                "intake:admin",
                "ml-workbench:read",
                "ml-workbench:write",
            ]
        ],
        Field(min_length=1),
    ]
    workspaces: Annotated[
        list[Workspace], Field(min_length=1, validate_default=True)
    ] = ["*"]
    expires_at: JsonDatetime | None = None


class ApiKeyResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "3d8a0c4e-1b2f-4c6d-8e9f-0a1b2c3d4e5f",
                    "name": "ci-key",
                    "scopes": ["intake:read", "intake:write"],
                    "workspaces": ["default"],
                    "expires_at": "2027-01-01T00:00:00Z",
                    "created_at": "2026-01-05T08:50:00Z",
                    "last_used_at": None,
                    "revoked_at": None,
                }
            ]
        },
    )
    id: str
    name: str
    scopes: list[str]
    workspaces: list[str]
    expires_at: AwareDatetime | None
    created_at: AwareDatetime
    last_used_at: AwareDatetime | None
    revoked_at: AwareDatetime | None


class ApiKeyCreatedResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "key": {
                        "id": "3d8a0c4e-1b2f-4c6d-8e9f-0a1b2c3d4e5f",
                        "name": "ci-key",
                        "scopes": ["intake:read", "intake:write"],
                        "workspaces": ["default"],
                        "expires_at": "2027-01-01T00:00:00Z",
                        "created_at": "2026-01-05T08:50:00Z",
                        "last_used_at": None,
                        "revoked_at": None,
                    },
                    "secret": "ik_live_2b6c1f0e9d8a7b6c5d4e3f2a1b0c9d8e",
                }
            ]
        },
    )
    key: ApiKeyResponse
    secret: Annotated[str, Field(description="The API key itself; shown once.")]


class EvaluatorResultsPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "data": [
                        {
                            "evaluator_result_id": "7f1c2b9e5d6a4e3f8b0a1c2d3e4f5a6b",
                            "workspace": "default",
                            "session_id": "run-0007",
                            "span_id": "",
                            "name": "accuracy",
                            "data_type": "NUMERIC",
                            "value": 1,
                            "string_value": None,
                            "comment": "Matches the reference answer.",
                            "experiment_name": "exp-a",
                            "created_by": "ci-key",
                            "created_at": "2026-01-05T09:00:05Z",
                            "ingested_at": "2026-01-05T09:00:05Z",
                        }
                    ],
                    "pagination": {
                        "page": 1,
                        "page_size": 100,
                        "current_page_size": 1,
                        "total_pages": 1,
                        "total_results": 1,
                    },
                    "sort": "-created_at",
                    "filter": {"name": "accuracy"},
                }
            ]
        },
    )
    data: list[EvaluatorResult]
    pagination: PaginationData
    sort: str | None
    filter: dict[str, Any]


class AtifIngestResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"session_id": "run-0007"}]},
    )
    session_id: str


class ChatCompletionIngestResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"session_id": "run-0007", "span_id": "4f2a9c1e7b3d5a60"}]
        },
    )
    session_id: str
    span_id: str


class OtlpSpanError(BaseModel):
    trace_id: Annotated[str, Field(description="Hex; empty when the span had none.")]
    span_id: Annotated[str, Field(description="Hex; empty when the span had none.")]
    detail: str


class OtlpExportResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "errors": [
                        {
                            "trace_id": "5b8efff798038103d269b633813fc60c",
                            "span_id": "eee19b7ec3c1b174",
                            "detail": "endTimeUnixNano is before startTimeUnixNano.",
                        }
                    ]
                }
            ]
        },
    )
    errors: list[OtlpSpanError]


class ExperimentGroupResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "grp-01a212d7-c41a-759d-b325-cf27931288a0",
                    "name": "qa-agents",
                    "workspace": "default",
                    "description": "Agents answering the QA set",
                    "insight_id": None,
                    "summary": None,
                    "metadata": {"team": "nlp"},
                    "default_sort": "-evaluators.accuracy.mean",
                    "pareto": {"x_metric": "cost_usd", "y_metric": "latency_ms"},
                    "column_layout": None,
                    "is_favorite": False,
                    "show_evaluations_over_time": False,
                    "baseline_evaluation_name": None,
                    "created_at": "2026-01-05T09:00:00Z",
                    "updated_at": "2026-01-05T09:00:00Z",
                    "evaluation_count": 3,
                    "experiment_count": 3,
                }
            ]
        },
    )
    id: str
    name: str
    workspace: str
    description: str | None
    insight_id: str | None
    summary: str | None
    metadata: dict[str, str] | None
    default_sort: str
    pareto: ParetoConfig
    column_layout: Annotated[
        ColumnLayout | None,
        Field(
            description="The saved layout of the container's evaluations table (SDK 0.6.0); null when none is saved."
        ),
    ]
    is_favorite: Annotated[
        bool,
        Field(description="Whether the container is marked as a favorite (SDK 0.4+)."),
    ]
    show_evaluations_over_time: Annotated[
        bool,
        Field(
            description="Whether a UI shows the container's evaluation results over time (SDK 0.4+)."
        ),
    ]
    baseline_evaluation_name: Annotated[
        str | None,
        Field(
            description="The container's baseline, a live evaluation that belongs to it (SDK 0.4+)."
        ),
    ]
    created_at: AwareDatetime
    updated_at: AwareDatetime
    evaluation_count: Annotated[
        int,
        Field(
            description="Live evaluations whose experiment_ids hold this group's id."
        ),
    ]
    experiment_count: Annotated[
        int, Field(description="Deprecated alias of evaluation_count.")
    ]


class ExperimentGroupResponsesPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "data": [
                        {
                            "id": "grp-01a212d7-c41a-759d-b325-cf27931288a0",
                            "name": "qa-agents",
                            "workspace": "default",
                            "description": "Agents answering the QA set",
                            "insight_id": None,
                            "summary": None,
                            "metadata": {"team": "nlp"},
                            "default_sort": "-evaluators.accuracy.mean",
                            "pareto": {
                                "x_metric": "cost_usd",
                                "y_metric": "latency_ms",
                            },
                            "column_layout": None,
                            "is_favorite": False,
                            "show_evaluations_over_time": False,
                            "baseline_evaluation_name": None,
                            "created_at": "2026-01-05T09:00:00Z",
                            "updated_at": "2026-01-05T09:00:00Z",
                            "evaluation_count": 3,
                            "experiment_count": 3,
                        }
                    ],
                    "pagination": {
                        "page": 1,
                        "page_size": 100,
                        "current_page_size": 1,
                        "total_pages": 1,
                        "total_results": 1,
                    },
                    "sort": "-created_at",
                    "filter": {},
                }
            ]
        },
    )
    data: list[ExperimentGroupResponse]
    pagination: PaginationData
    sort: str | None
    filter: dict[str, Any]
