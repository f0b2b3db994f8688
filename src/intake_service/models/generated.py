# Generated from openapi/intake-v2.yaml by scripts/generate-models.sh. Do not edit.

from __future__ import annotations

from pydantic import AnyUrl, AwareDatetime, BaseModel, ConfigDict, Field, RootModel
from typing import Annotated, Any, Literal


class ErrorDetail(BaseModel):
    detail: str


class ValidationError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str
    input: Any | None = None
    ctx: dict[str, Any] | None = None


class HTTPValidationError(BaseModel):
    detail: list[ValidationError] | None = None


class ExperimentRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
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
    count: int | None = 0


class ExperimentResponse(BaseModel):
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
    data: list[ExperimentResponse]
    pagination: PaginationData
    sort: str | None
    filter: dict[str, Any]


class SessionInput(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    session_id: Annotated[str, Field(max_length=255, min_length=1)]
    test_case_id: Annotated[str | None, Field(max_length=255)] = None
    started_at: AwareDatetime
    ended_at: AwareDatetime | None = None
    latency_ms: Annotated[float | None, Field(ge=0.0)] = None
    status: Literal["success", "error", "cancelled", "unknown"] | None = "unknown"
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
    scores: dict[str, bool | float | None] | None = None


class SessionsIngestRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    sessions: list[SessionInput]


class SessionsIngestResponse(BaseModel):
    accepted: int


class ExperimentSessionResponse(BaseModel):
    workspace: str
    experiment_name: str
    session_id: str
    test_case_id: str | None
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
    input: str | None
    evaluator_scores: dict[str, float]


class ExperimentSessionsPage(BaseModel):
    data: list[ExperimentSessionResponse]
    pagination: PaginationData
    sort: str | None
    filter: dict[str, Any]


class ExperimentId(RootModel[str]):
    root: Annotated[str, Field(max_length=255, min_length=1)]


class EvaluationRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
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
    )
    experiment_ids: list[ExperimentId] | None = None
    source_link: AnyUrl | None = None
    metadata: dict[str, str] | None = None
    description: Annotated[str | None, Field(max_length=65536)] = None
    parent_evaluation_id: Annotated[str | None, Field(max_length=64)] = None
    status: Annotated[str | None, Field(max_length=255)] = None
    root_cause: Annotated[str | None, Field(max_length=65536)] = None


class EvaluationResponse(BaseModel):
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
    data: list[EvaluationResponse]
    pagination: PaginationData
    sort: str | None
    filter: dict[str, Any]


class EvaluationSessionResponse(BaseModel):
    workspace: str
    evaluation_name: str
    experiment_name: str
    session_id: str
    test_case_id: str | None
    trace_id: str | None
    root_span_id: str | None
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
    data: list[EvaluationSessionResponse]
    pagination: PaginationData
    sort: str | None
    filter: dict[str, Any]


class EvaluatorResultInput(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    session_id: Annotated[str, Field(max_length=255, min_length=1)]
    span_id: Annotated[str | None, Field(max_length=255)] = ""
    name: Annotated[str, Field(max_length=255, min_length=1)]
    data_type: Literal["NUMERIC", "BOOLEAN", "CATEGORICAL", "TEXT"]
    value: float | None = None
    string_value: Annotated[str | None, Field(max_length=65536)] = None
    comment: Annotated[str | None, Field(max_length=65536)] = None
    experiment_name: Annotated[str | None, Field(max_length=255)] = None


class EvaluatorResult(BaseModel):
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


class Workspace(RootModel[str]):
    root: Annotated[str, Field(max_length=63, min_length=1)]


class ApiKeyRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
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
        list[Workspace] | None, Field(min_length=1, validate_default=True)
    ] = ["*"]
    expires_at: AwareDatetime | None = None


class ApiKeyResponse(BaseModel):
    id: str
    name: str
    scopes: list[str]
    workspaces: list[str]
    expires_at: AwareDatetime | None
    created_at: AwareDatetime
    last_used_at: AwareDatetime | None
    revoked_at: AwareDatetime | None


class ApiKeyCreatedResponse(BaseModel):
    key: ApiKeyResponse
    secret: Annotated[str, Field(description="The API key itself; shown once.")]


class EvaluatorResultsPage(BaseModel):
    data: list[EvaluatorResult]
    pagination: PaginationData
    sort: str | None
    filter: dict[str, Any]


class AtifIngestResponse(BaseModel):
    session_id: str


class ChatCompletionIngestResponse(BaseModel):
    session_id: str
    span_id: str


class OtlpSpanError(BaseModel):
    trace_id: Annotated[str, Field(description="Hex; empty when the span had none.")]
    span_id: Annotated[str, Field(description="Hex; empty when the span had none.")]
    detail: str


class OtlpExportResponse(BaseModel):
    errors: list[OtlpSpanError]
