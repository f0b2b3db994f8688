"""Request and response models of the ML-workbench API (/api/v1/experiments, seed 003).

Written by hand (intake v2's models are generated from openapi/intake-v2.yaml). Field names are the
seed's: snake_case in request bodies (plus `modelType`; camelCase spellings are accepted too),
camelCase in experiment and run objects. Unknown request fields are ignored, as the seed's SDK and
AutoML trainer send more than the service reads. Values the rules check (names, tags, key/value
lists, paths, base64) are checked by domain.workbench, so every problem reads as one sentence.
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, Strict, WithJsonSchema

from intake_service.models.strict import YEARS_1900_TO_2261

Status = Literal["draft", "pending", "running", "completed", "failed"]
ArtifactType = Literal["file", "model", "dataset", "image"]
Seconds = Annotated[float, Field(ge=0, allow_inf_nan=False)]
KEY = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[^\\x00-\\x1f\\x7f]*$"}


def _key_values(value: dict[str, Any]) -> list[dict[str, Any]]:
    """What domain.workbench.values.key_values reads: an object, or a list of {key, value} objects."""
    pair = {"key": KEY, "value": value}
    return [
        {"type": "object", "additionalProperties": value, "propertyNames": KEY},
        {"type": "array", "items": {"type": "object", "properties": pair, "required": ["key", "value"],
                                    "additionalProperties": False}},
    ]  # fmt: skip


# Optional in a create or an update (null: none given); required in a params request; numbers in metrics.
KeyValuesIn = Annotated[Any, Field(json_schema_extra={"anyOf": [*_key_values({}), {"type": "null"}]})]
KeyValuesRequired = Annotated[Any, Field(json_schema_extra={"anyOf": _key_values({})})]
MetricValuesIn = Annotated[
    Any, Field(json_schema_extra={"anyOf": [*_key_values({"type": "number"}), {"type": "null"}]})
]
# What domain.workbench.values checks (with its own sentences), stated in the document: a tag or a
# name is trimmed, then must hold 1-64 (255) characters and no control character.
_TEXT = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
Tags = Annotated[
    list[str], WithJsonSchema({"type": "array", "items": {"type": "string", "maxLength": 64, "pattern": _TEXT}})
]
NAME = {"type": "string", "maxLength": 255, "pattern": _TEXT}
# An update may leave the name out, but not blank it.
NewName = Annotated[str | None, WithJsonSchema(NAME)]
Principals = Annotated[list[str], WithJsonSchema({"type": "array", "items": NAME})]
# RFC 3339 text or Unix time, both as the SDK sends them, from 1900 to before 2262 (the range
# domain.workbench.tracking keeps). pydantic reads a number up to 2e10 in magnitude as seconds and a
# larger one as milliseconds, so the document gives each its range.
_SECONDS_1900, _SECONDS_END = -2_208_988_800, 9_214_646_400
MetricTime = Annotated[
    datetime,
    Strict(False),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date-time", "pattern": YEARS_1900_TO_2261},
                {"type": "number", "minimum": _SECONDS_1900, "exclusiveMaximum": _SECONDS_END},
                {"type": "number", "exclusiveMinimum": 2e10, "exclusiveMaximum": _SECONDS_END * 1000},
                {"type": "number", "minimum": _SECONDS_1900 * 1000, "exclusiveMaximum": -2e10},
            ]
        }
    ),
]


def _example(example: dict[str, Any]) -> ConfigDict:
    """One real-looking body for the docs (Swagger UI shows it instead of "string")."""
    return ConfigDict(json_schema_extra={"examples": [example]})


EXPERIMENT_ID = "exp_0192f1c4a6b87c3d9e0f1a2b3c4d5e6f"
RUN_ID = "run_0192f1c4b1d27e4f8a9b0c1d2e3f4a5b"
KEY_VALUES = [{"key": "learning_rate", "value": 0.001}, {"key": "epochs", "value": 10}]
CREATED_AT = "2026-01-05T09:00:00Z"


# A caller-chosen run id (domain/workbench/values.py checks it, so the error names the field).
RUN_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,254}$"


def _either(snake: str, camel: str, **constraints: Any) -> Any:
    return Field(default=None, validation_alias=AliasChoices(snake, camel), **constraints)


class _Request(BaseModel):
    # Values are taken as the JSON types the document gives, never coerced (models/strict.py).
    model_config = ConfigDict(extra="ignore", strict=True)


# A name that may be blank (then it counts as absent), as a create takes name, run_name and experiment_name.
MaybeName = Annotated[
    str | None, WithJsonSchema({"type": "string", "maxLength": 255, "pattern": r"^[^\x00-\x1f\x7f]*$"})
]
# ... of which at least one must be a name (domain.workbench.experiments.create).
_NAMED: dict[str, Any] = {"anyOf": [{"required": [key], "properties": {key: NAME}} for key in
                    ("name", "run_name", "runName", "experiment_name", "experimentName")]}  # fmt: skip


class CreateRequest(_Request):
    model_config = ConfigDict(
        json_schema_extra={
            **_NAMED,
            "examples": [
                {"experiment_name": "churn-model", "run_name": "xgb-depth-6", "tags": ["baseline"],
                 "parameters": {"max_depth": 6, "eta": 0.3}, "framework": "xgboost", "modelType": "classifier"}
            ],
        }
    )  # fmt: skip
    name: MaybeName = None
    experiment_name: MaybeName = _either("experiment_name", "experimentName")
    run_name: MaybeName = _either("run_name", "runName")
    description: str | None = None
    tags: Tags | None = None
    status: Status | None = None
    run_id: str | None = _either("run_id", "runId", json_schema_extra={"pattern": RUN_ID_PATTERN})
    parameters: KeyValuesIn = None
    final_metrics: MetricValuesIn = _either("final_metrics", "finalMetrics")
    model_type: str | None = _either("modelType", "model_type", max_length=255)
    problem_type: str | None = _either("problem_type", "problemType", max_length=255)
    framework: Annotated[str, Field(max_length=255)] | None = None
    parent_run_id: str | None = _either("parent_run_id", "parentRunId", max_length=255)
    system_info: dict[str, Any] | None = _either("system_info", "systemInfo")
    duration_seconds: Seconds | None = _either("duration_seconds", "durationSeconds")
    is_public: bool | None = _either("is_public", "isPublic")
    shared_with: Principals | None = _either("shared_with", "sharedWith")


class UpdateRequest(_Request):
    model_config = _example({"status": "completed", "final_metrics": {"auc": 0.91}, "duration_seconds": 312.5})
    name: NewName = None
    description: str | None = None
    tags: Tags | None = None
    status: Status | None = None
    final_metrics: MetricValuesIn = _either("final_metrics", "finalMetrics")
    duration_seconds: Seconds | None = _either("duration_seconds", "durationSeconds")
    error_message: str | None = _either("error_message", "errorMessage")
    is_public: bool | None = _either("is_public", "isPublic")
    shared_with: Principals | None = _either("shared_with", "sharedWith")


class TagsRequest(_Request):
    model_config = _example({"tags": ["baseline", "q1"]})
    tags: Tags


class RegisterRequest(_Request):
    model_config = _example({"name": "churn-model", "description": "Monthly churn classifier.", "tags": ["baseline"]})
    name: Annotated[str, WithJsonSchema(NAME)]
    description: str | None = None
    tags: Tags | None = None


class MetricPoint(_Request):
    key: Annotated[str, Field(min_length=1, max_length=255)]
    value: Annotated[float, Field(strict=True, allow_inf_nan=False)]
    # Steps every JSON parser holds exactly (the served document renders bounds past 2**53 as doubles,
    # and a client comparing as doubles took 2**63 + 200 for a valid step).
    step: Annotated[int, Field(ge=-(2**53 - 1), le=2**53 - 1)] | None = None
    timestamp: MetricTime | None = None


class MetricsRequest(_Request):
    model_config = _example(
        {"metrics": [{"key": "loss", "value": 0.42, "step": 1}, {"key": "loss", "value": 0.31, "step": 2}]}
    )
    metrics: Annotated[list[MetricPoint], Field(min_length=1, max_length=10_000)]


class ParamsRequest(_Request):
    model_config = _example({"params": {"learning_rate": 0.001, "epochs": 10}})
    params: KeyValuesRequired


class ArtifactRequest(_Request):
    model_config = _example(
        {"name": "confusion.csv", "path": "reports/confusion.csv", "content_base64": "YSxiCjEsMgo=",
         "content_type": "text/csv"}
    )
    name: Annotated[str, WithJsonSchema(NAME)]
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


EXPERIMENT_EXAMPLE = {
        "id": EXPERIMENT_ID, "name": "churn-model", "description": "Monthly churn classifier.", "status": "completed",
        "owner": "ci-key", "organizationId": "default", "tags": ["baseline"], "pinned": False, "runCount": 1,
        "bestRunId": RUN_ID, "isPublic": False, "sharedWith": [], "createdAt": CREATED_AT, "updatedAt": CREATED_AT,
    }
ARTIFACT_EXAMPLE = {
    "name": "confusion.csv", "path": "reports/confusion.csv", "type": "file",
    "s3_key": "artifacts/run_0192…/confusion.csv",
    "size": 8, "content_type": "text/csv", "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "created_at": CREATED_AT, "run_id": RUN_ID,
}
RUN_EXAMPLE = {
    "id": RUN_ID, "experimentId": EXPERIMENT_ID, "name": "xgb-depth-6", "status": "completed", "parameters": KEY_VALUES,
    "finalMetrics": [{"key": "auc", "value": 0.91}], "modelType": "classifier", "problemType": "binary",
    "framework": "xgboost", "parentRunId": None, "systemInfo": {"python": "3.11"}, "durationSeconds": 312.5,
    "errorMessage": None, "latestMetrics": {"loss": 0.31}, "artifacts": [ARTIFACT_EXAMPLE],
    "createdAt": CREATED_AT, "updatedAt": CREATED_AT,
}


class Experiment(BaseModel):
    model_config = _example(EXPERIMENT_EXAMPLE)
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
    model_config = _example(
        {**EXPERIMENT_EXAMPLE,
         "runs": [{"id": RUN_ID, "name": "xgb-depth-6", "status": "completed", "parentRunId": None,
                   "finalMetrics": [{"key": "auc", "value": 0.91}], "durationSeconds": 312.5, "createdAt": CREATED_AT}]}
    )  # fmt: skip
    runs: list[RunSummary]


class Artifact(BaseModel):
    model_config = _example(ARTIFACT_EXAMPLE)
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
    model_config = _example(RUN_EXAMPLE)
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
    model_config = _example({"count": 1, "limit": 20, "offset": 0, "experiments": [EXPERIMENT_EXAMPLE]})
    count: int = Field(description="Experiments matching the query, over all pages.")
    limit: int
    offset: int
    experiments: list[Experiment]


class Created(BaseModel):
    model_config = _example(
        {"id": RUN_ID, "experiment_id": EXPERIMENT_ID, "run_id": RUN_ID, "name": "xgb-depth-6", "status": "pending",
         "createdAt": CREATED_AT}
    )  # fmt: skip
    id: str
    experiment_id: str
    run_id: str | None
    name: str
    status: Status
    createdAt: str


class PinResult(BaseModel):
    model_config = _example({"id": EXPERIMENT_ID, "pinned": True, "message": "Experiment pinned successfully"})
    id: str
    pinned: bool
    message: str


class TagsResult(BaseModel):
    model_config = _example({"id": EXPERIMENT_ID, "tags": ["baseline", "q1"], "message": "Tags updated successfully"})
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
    model_config = _example(
        {"experiments": [{"id": EXPERIMENT_ID, "name": "churn-model", "status": "completed", "runCount": 1,
                          "bestRunId": RUN_ID, "bestMetrics": {"auc": 0.91}, "tags": ["baseline"],
                          "createdAt": CREATED_AT},
                         {"id": "exp_0192f1c4c0ffee", "name": "churn-model-v2", "status": "running", "runCount": 2,
                          "bestRunId": None, "bestMetrics": {}, "tags": [], "createdAt": CREATED_AT}],
         "parameterDiff": {"max_depth": [6, 8]}}
    )  # fmt: skip
    experiments: list[ComparedExperiment]
    parameterDiff: dict[str, list[Any]]


class Stats(BaseModel):
    model_config = _example(
        {"total": 5, "draft": 1, "pending": 0, "running": 1, "completed": 2, "failed": 1, "pinned": 1}
    )
    total: int
    draft: int
    pending: int
    running: int
    completed: int
    failed: int
    pinned: int


class Registered(BaseModel):
    model_config = _example({"experiment_id": EXPERIMENT_ID, "name": "churn-model", "exists": False})
    experiment_id: str
    name: str
    exists: bool


class Logged(BaseModel):
    model_config = _example({"logged": 2})
    logged: int


class MetricValue(BaseModel):
    key: str
    value: float
    step: int
    timestamp: str


class MetricHistory(BaseModel):
    model_config = _example(
        {"runId": RUN_ID, "experimentId": EXPERIMENT_ID, "key": "loss", "count": 2, "limit": 1000, "offset": 0,
         "metrics": [{"key": "loss", "value": 0.42, "step": 1, "timestamp": CREATED_AT},
                     {"key": "loss", "value": 0.31, "step": 2, "timestamp": "2026-01-05T09:01:00Z"}]}
    )  # fmt: skip
    runId: str | None
    experimentId: str
    key: str | None
    count: int
    limit: int
    offset: int
    metrics: list[MetricValue]


class ArtifactResult(BaseModel):
    model_config = _example({"artifact": ARTIFACT_EXAMPLE})
    artifact: Artifact


class ArtifactList(BaseModel):
    model_config = _example({"runId": RUN_ID, "artifacts": [ARTIFACT_EXAMPLE]})
    runId: str | None
    artifacts: list[Artifact]


class Error(BaseModel):
    model_config = _example({"detail": "Experiment or run 'exp_0192…' not found."})
    detail: str
