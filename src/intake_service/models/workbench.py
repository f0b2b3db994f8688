"""Request and response models of the ML-workbench API (/api/v1/experiments, seed 003).

Written by hand (intake v2's models are generated from openapi/intake-v2.yaml). Field names are the
seed's: snake_case in request bodies (plus `modelType`; camelCase spellings are accepted too),
camelCase in experiment and run objects. Unknown request fields are ignored, as the seed's SDK and
AutoML trainer send more than the service reads. Values the rules check (names, tags, key/value
lists, paths, base64) are checked by domain.workbench, so every problem reads as one sentence.
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

Status = Literal["draft", "pending", "running", "completed", "failed"]
ArtifactType = Literal["file", "model", "dataset", "image"]
Seconds = Annotated[float, Field(ge=0, allow_inf_nan=False)]
KEY_VALUES_SCHEMA = {
    "anyOf": [
        {"type": "object", "additionalProperties": True},
        {
            "type": "array",
            "items": {"type": "object", "properties": {"key": {"type": "string"}, "value": {}}, "required": ["key", "value"]},
        },
    ]
}
KeyValuesIn = Annotated[Any, Field(json_schema_extra=KEY_VALUES_SCHEMA)]


def _either(snake: str, camel: str, **constraints: Any) -> Any:
    return Field(default=None, validation_alias=AliasChoices(snake, camel), **constraints)


class _Request(BaseModel):
    model_config = ConfigDict(extra="ignore")


class CreateRequest(_Request):
    name: str | None = None
    experiment_name: str | None = _either("experiment_name", "experimentName")
    run_name: str | None = _either("run_name", "runName")
    description: str | None = None
    tags: list[str] | None = None
    status: Status | None = None
    run_id: str | None = _either("run_id", "runId")
    parameters: KeyValuesIn = None
    final_metrics: KeyValuesIn = _either("final_metrics", "finalMetrics")
    model_type: str | None = _either("modelType", "model_type", max_length=255)
    problem_type: str | None = _either("problem_type", "problemType", max_length=255)
    framework: Annotated[str, Field(max_length=255)] | None = None
    parent_run_id: str | None = _either("parent_run_id", "parentRunId", max_length=255)
    system_info: dict[str, Any] | None = _either("system_info", "systemInfo")
    duration_seconds: Seconds | None = _either("duration_seconds", "durationSeconds")
    is_public: bool | None = _either("is_public", "isPublic")
    shared_with: list[str] | None = _either("shared_with", "sharedWith")


class UpdateRequest(_Request):
    name: str | None = None
    description: str | None = None
    tags: list[str] | None = None
    status: Status | None = None
    final_metrics: KeyValuesIn = _either("final_metrics", "finalMetrics")
    duration_seconds: Seconds | None = _either("duration_seconds", "durationSeconds")
    error_message: str | None = _either("error_message", "errorMessage")
    is_public: bool | None = _either("is_public", "isPublic")
    shared_with: list[str] | None = _either("shared_with", "sharedWith")


class TagsRequest(_Request):
    tags: list[str]


class RegisterRequest(_Request):
    name: str
    description: str | None = None
    tags: list[str] | None = None


class MetricPoint(_Request):
    key: Annotated[str, Field(min_length=1, max_length=255)]
    value: Annotated[float, Field(strict=True, allow_inf_nan=False)]
    step: Annotated[int, Field(ge=-(2**63), le=2**63 - 1)] | None = None
    timestamp: datetime | None = None


class MetricsRequest(_Request):
    metrics: Annotated[list[MetricPoint], Field(min_length=1, max_length=10_000)]


class ParamsRequest(_Request):
    params: KeyValuesIn


class ArtifactRequest(_Request):
    name: str
    path: str | None = None
    type: ArtifactType = "file"
    s3_key: str | None = _either("s3_key", "s3Key")
    content_base64: str | None = _either("content_base64", "contentBase64")
    size: Annotated[int, Field(ge=0)] | None = None
    content_type: str | None = _either("content_type", "contentType", min_length=1, max_length=255)


# --- responses -------------------------------------------------------------------------------------


class KeyValue(BaseModel):
    key: str
    value: Any


class Experiment(BaseModel):
    id: str
    name: str
    description: str | None
    status: Status
    owner: str
    organizationId: str
    tags: list[str]
    pinned: bool
    runCount: int
    bestRunId: str | None
    isPublic: bool
    sharedWith: list[str]
    createdAt: str
    updatedAt: str


class RunSummary(BaseModel):
    id: str
    name: str | None
    status: Status
    parentRunId: str | None
    finalMetrics: list[KeyValue]
    durationSeconds: float | None
    createdAt: str


class ExperimentDetail(Experiment):
    runs: list[RunSummary]


class Artifact(BaseModel):
    name: str
    path: str
    type: ArtifactType
    s3_key: str
    size: int | None
    content_type: str | None
    sha256: str | None
    created_at: str
    run_id: str


class Run(BaseModel):
    id: str
    experimentId: str
    name: str | None
    status: Status
    parameters: list[KeyValue]
    finalMetrics: list[KeyValue]
    modelType: str | None
    problemType: str | None
    framework: str | None
    parentRunId: str | None
    systemInfo: dict[str, Any] | None
    durationSeconds: float | None
    errorMessage: str | None
    latestMetrics: dict[str, float] | None = Field(
        description="The latest logged value of each step metric; null while the metric store is unavailable."
    )
    artifacts: list[Artifact]
    createdAt: str
    updatedAt: str


class ExperimentPage(BaseModel):
    count: int = Field(description="Experiments matching the query, over all pages.")
    limit: int
    offset: int
    experiments: list[Experiment]


class Created(BaseModel):
    id: str
    experiment_id: str
    run_id: str | None
    name: str
    status: Status
    createdAt: str


class PinResult(BaseModel):
    id: str
    pinned: bool
    message: str


class TagsResult(BaseModel):
    id: str
    tags: list[str]
    message: str


class ComparedExperiment(BaseModel):
    id: str
    name: str
    status: Status
    runCount: int
    bestRunId: str | None
    bestMetrics: dict[str, float]
    tags: list[str]
    createdAt: str


class Comparison(BaseModel):
    experiments: list[ComparedExperiment]
    parameterDiff: dict[str, list[Any]]


class Stats(BaseModel):
    total: int
    draft: int
    pending: int
    running: int
    completed: int
    failed: int
    pinned: int


class Registered(BaseModel):
    experiment_id: str
    name: str
    exists: bool


class Logged(BaseModel):
    logged: int


class MetricValue(BaseModel):
    key: str
    value: float
    step: int
    timestamp: str


class MetricHistory(BaseModel):
    runId: str | None
    experimentId: str
    key: str | None
    count: int
    limit: int
    offset: int
    metrics: list[MetricValue]


class ArtifactResult(BaseModel):
    artifact: Artifact


class ArtifactList(BaseModel):
    runId: str | None
    artifacts: list[Artifact]


class Error(BaseModel):
    detail: str
