"""ATIF trajectories (Agent Trajectory Interchange Format, ATIF-v1.0 … v1.7) → one session's spans.

One trajectory is one session: a root span "trajectory" (agent name/version and model, the
experiment tag, the window from the first to the last step timestamp, the first user message as
input and the last agent message as output) and one child span "step-<step_id>" per step with that
step's model and metrics. Each of tokens (prompt, completion, cached) and cost is summed over the
steps that carry it; the matching final_metrics total is used only when no step carries it (it then
sits on the root span), so nothing is counted twice. Sending a trajectory again replaces its session.

Verifier rewards in extra.verifier_result become evaluator results on span "trajectory": a number
→ one result named "verifier.reward"; an object of named numbers → "verifier.<name>" each (so
{"reward": 1} and 1 give the same result). Booleans are BOOLEAN results (0/1), numbers NUMERIC.
"""

import math
import time
import uuid
from typing import Annotated, Any, Literal

import anyio
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from intake_service.domain.evaluator_results import record_evaluator_result
from intake_service.domain.formats import first_error, json_object
from intake_service.domain.formats.tags import Tagged
from intake_service.domain.spans import Span, store_spans
from intake_service.domain.values import NO_NUL
from intake_service.errors import PayloadTooLarge, validation_error
from intake_service.models.generated import AtifIngestResponse, EvaluatorResultInput
from intake_service.models.strict import JsonNaiveOrAwareDatetime
from intake_service.store.clickhouse.telemetry import TelemetryStore
from intake_service.store.clickhouse.values import holds_nanoseconds, to_ns
from intake_service.store.postgres.experiments import ExperimentRepository

SCHEMA_VERSIONS = tuple(f"ATIF-v1.{minor}" for minor in range(8))
# Steps per trajectory, checked before any step is built (real agent runs stay in the hundreds).
MAX_STEPS = 10_000
ROOT_SPAN_ID = "trajectory"
VERIFIER_PREFIX = "verifier."

Count = Annotated[int | None, Field(ge=0)]
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


class Trajectory(Tagged):
    """The top level: unknown keys are rejected."""

    model_config = ConfigDict(extra="forbid", strict=True)
    schema_version: Literal[SCHEMA_VERSIONS]  # type: ignore[valid-type]
    agent: Agent
    session_id: Annotated[str | None, Field(min_length=1, max_length=255, pattern=NO_NUL)] = None
    steps: list[Step] = []
    final_metrics: FinalMetrics | None = None
    notes: str | None = None
    extra: dict[str, Any] | None = None
    continued_trajectory_ref: Any = None
    subagent_trajectories: list[Any] | None = None

    @model_validator(mode="after")
    def _sequential_steps(self) -> "Trajectory":
        for index, step in enumerate(self.steps):
            if step.step_id != index + 1:
                raise ValueError(f"steps[{index}].step_id is {step.step_id}; step ids run 1, 2, 3, … in order.")
        return self


def _text(message: str | list[ContentPart] | None) -> str | None:
    if message is None or isinstance(message, str):
        return message
    parts = [part.text for part in message if part.type == "text" and part.text is not None]
    return "\n".join(parts) if parts else None


def _metric(steps: list[Step], name: str, total: int | float | None) -> tuple[bool, int | float | None]:
    """(some step carries it, the final total to put on the root when none does)."""
    carried = any(step.metrics is not None and getattr(step.metrics, name) is not None for step in steps)
    return carried, None if carried else total


def verifier_results(trajectory: Trajectory, session_id: str, experiment: str | None) -> list[EvaluatorResultInput]:
    verdict = (trajectory.extra or {}).get("verifier_result")
    if verdict is None:
        return []
    named = verdict if isinstance(verdict, dict) else {"reward": verdict}
    results = []
    for name, value in named.items():
        number_like = isinstance(value, int | float) and (isinstance(value, bool) or math.isfinite(value))
        if not number_like or not name:
            raise validation_error(
                ["body", "extra", "verifier_result", *([name] if isinstance(verdict, dict) else [])],
                value,
                "verifier_result must be a number or an object of named numbers.",
            )
        results.append(
            EvaluatorResultInput(
                session_id=session_id,
                span_id=ROOT_SPAN_ID,
                name=f"{VERIFIER_PREFIX}{name}"[:255],
                data_type="BOOLEAN" if isinstance(value, bool) else "NUMERIC",
                value=float(value),
                experiment_name=experiment,
            )
        )
    return results


def to_spans(trajectory: Trajectory, session_id: str, now_ns: int) -> list[Span]:
    experiment, test_case = trajectory.tag()
    stamps = [to_ns(step.timestamp) for step in trajectory.steps if step.timestamp is not None]
    start, end = (min(stamps), max(stamps)) if stamps else (now_ns, None)
    steps, finals = trajectory.steps, trajectory.final_metrics or FinalMetrics()
    _, prompt = _metric(steps, "prompt_tokens", finals.total_prompt_tokens)
    _, completion = _metric(steps, "completion_tokens", finals.total_completion_tokens)
    _, cached = _metric(steps, "cached_tokens", finals.total_cached_tokens)
    _, cost = _metric(steps, "cost_usd", finals.total_cost_usd)
    user = next((_text(s.message) for s in steps if s.source == "user" and _text(s.message)), None)
    answer = next((_text(s.message) for s in reversed(steps) if s.source == "agent" and _text(s.message)), None)
    root = Span(
        session_id=session_id, span_id=ROOT_SPAN_ID, source="atif", start_ns=start, end_ns=end,
        name=trajectory.agent.name, kind="agent", experiment_name=experiment, test_case_id=test_case,
        model_name=trajectory.agent.model_name, agent_name=trajectory.agent.name,
        agent_version=trajectory.agent.version, input_tokens=prompt, output_tokens=completion,
        cached_tokens=cached, cost_usd=cost, input=user, output=answer,
        attributes={"schema_version": trajectory.schema_version, "notes": trajectory.notes, "steps": len(steps)},
    )
    spans, at = [root], start
    for step in steps:
        at = to_ns(step.timestamp) if step.timestamp is not None else at
        metrics = step.metrics or Metrics()
        model = step.model_name or (trajectory.agent.model_name if step.source == "agent" else None)
        spans.append(
            Span(
                session_id=session_id, span_id=f"step-{step.step_id}", parent_span_id=ROOT_SPAN_ID,
                source="atif", start_ns=at, end_ns=at, name=f"{step.source} step {step.step_id}",
                kind="llm" if step.source == "agent" else step.source, model_name=model,
                input_tokens=metrics.prompt_tokens, output_tokens=metrics.completion_tokens,
                cached_tokens=metrics.cached_tokens, cost_usd=metrics.cost_usd,
                output=_text(step.message) if step.source == "agent" else None,
                input=_text(step.message) if step.source != "agent" else None,
            )
        )
    return spans


def parse(body: bytes, content_type: str | None) -> Trajectory:
    document = json_object(body, content_type)
    steps = document.get("steps")
    if isinstance(steps, list) and len(steps) > MAX_STEPS:
        raise PayloadTooLarge(f"A trajectory may have at most {MAX_STEPS:,} steps.")
    try:
        trajectory = Trajectory.model_validate(document)
    except ValidationError as exc:
        raise first_error(exc) from None
    for index, step in enumerate(trajectory.steps):
        if step.timestamp is not None and not holds_nanoseconds(to_ns(step.timestamp)):
            raise validation_error(
                ["body", "steps", index, "timestamp"], step.timestamp.isoformat(), "Timestamps must fall between 1900 and 2261."
            )
    return trajectory


def _prepare(body: bytes, content_type: str | None) -> tuple[str, list[EvaluatorResultInput], list[Span]]:
    trajectory = parse(body, content_type)
    session_id = trajectory.session_id or str(uuid.uuid4())
    experiment, _ = trajectory.tag()
    results = verifier_results(trajectory, session_id, experiment)
    return session_id, results, to_spans(trajectory, session_id, time.time_ns())


async def ingest_trajectory(
    repo: ExperimentRepository,
    telemetry: TelemetryStore,
    workspace: str,
    body: bytes,
    content_type: str | None,
) -> AtifIngestResponse:
    """Validate all of it first, then store the session (replacing an earlier copy) and its rewards."""
    # Parsing and validating is CPU work: off the event loop, so other requests go on meanwhile.
    session_id, results, spans = await anyio.to_thread.run_sync(_prepare, body, content_type)
    await store_spans(repo, telemetry, workspace, spans, strict=True, replace=True)
    for result in results:
        await record_evaluator_result(repo, telemetry, workspace, result)
    return AtifIngestResponse(session_id=session_id)
