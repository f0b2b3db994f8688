"""The ATIF document (ATIF-v1.0 … v1.7) as it is read: known fields typed, later additions tolerated.

How a trajectory becomes spans is in `atif.py`; this file only says what a valid document is.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from intake_service.domain.formats.tags import EvaluationContext, Tagged
from intake_service.domain.values import NO_NUL
from intake_service.models.strict import Count, JsonNaiveOrAwareDatetime

SCHEMA_VERSIONS = tuple(f"ATIF-v1.{minor}" for minor in range(8))
Money = Annotated[float | None, Field(ge=0, allow_inf_nan=False)]
Text = Annotated[str | None, Field(max_length=255)]


class _Open(BaseModel):
    """Nested ATIF objects: known fields typed (as JSON types, never coerced), later additions tolerated."""

    model_config = ConfigDict(extra="allow", strict=True)


class Agent(_Open):
    name: Annotated[str, Field(min_length=1, max_length=255)]
    version: Annotated[str, Field(max_length=255)]
    model_name: Text = None
    tool_definitions: list[dict[str, Any]] | None = None
    extra: dict[str, Any] | None = None


class Metrics(_Open):
    prompt_tokens: Count = None
    completion_tokens: Count = None
    cached_tokens: Count = None
    cost_usd: Money = None
    prompt_token_ids: list[int] | None = None
    completion_token_ids: list[int] | None = None
    logprobs: list[Any] | None = None
    extra: dict[str, Any] | None = None


class ToolCall(_Open):
    tool_call_id: str
    function_name: str
    arguments: Any = None


class ContentPart(_Open):
    type: str
    text: str | None = None


class Step(_Open):
    step_id: int
    source: Literal["system", "user", "agent"]
    message: str | list[ContentPart] | None = None
    timestamp: JsonNaiveOrAwareDatetime | None = None
    extra: dict[str, Any] | None = None
    is_copied_context: bool | None = None
    llm_call_count: Count = None
    model_name: Text = None
    reasoning_content: str | None = None
    reasoning_effort: str | float | None = None
    tool_calls: list[ToolCall] | None = None
    observation: dict[str, Any] | None = None
    metrics: Metrics | None = None


class FinalMetrics(_Open):
    total_prompt_tokens: Count = None
    total_completion_tokens: Count = None
    total_cached_tokens: Count = None
    total_cost_usd: Money = None
    total_steps: Count = None
    extra: dict[str, Any] | None = None


class TrajectoryBody(BaseModel):
    """What a trajectory and an embedded subagent trajectory share; unknown keys are rejected."""

    model_config = ConfigDict(extra="forbid", strict=True)
    schema_version: Literal[SCHEMA_VERSIONS] = "ATIF-v1.7"  # type: ignore[valid-type]
    agent: Agent
    session_id: Annotated[str | None, Field(min_length=1, max_length=255, pattern=NO_NUL)] = None
    steps: list[Step] = []
    final_metrics: FinalMetrics | None = None
    notes: str | None = None
    extra: dict[str, Any] | None = None
    continued_trajectory_ref: str | None = None
    subagent_trajectories: list["Subagent"] | None = None

    @model_validator(mode="after")
    def _sequential_steps_and_distinct_subagents(self) -> "TrajectoryBody":
        for index, step in enumerate(self.steps):
            if step.step_id != index + 1:
                raise ValueError(f"steps[{index}].step_id is {step.step_id}; step ids run 1, 2, 3, … in order.")
        seen: set[str] = set()
        for index, subagent in enumerate(self.subagent_trajectories or []):
            if subagent.trajectory_id in seen:
                raise ValueError(f"subagent_trajectories[{index}].trajectory_id repeats '{subagent.trajectory_id}'.")
            seen.add(subagent.trajectory_id)
        return self


class Subagent(TrajectoryBody):
    """An embedded ATIF-v1.7 subagent trajectory: its spans go into the parent's session."""

    trajectory_id: Annotated[str, Field(min_length=1, max_length=255)]
    evaluation_context: EvaluationContext | None = None  # NeMo accepts it here and ignores it


class Trajectory(Tagged, TrajectoryBody):
    """The top level."""

    schema_version: Literal[SCHEMA_VERSIONS]  # type: ignore[valid-type]
    trajectory_id: Annotated[str | None, Field(min_length=1, max_length=255)] = None
