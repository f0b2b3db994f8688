"""ATIF trajectories (Agent Trajectory Interchange Format, ATIF-v1.0 … v1.7) → one session's spans.

One trajectory is one session: a root span "trajectory" (agent name/version and model, the
experiment tag, the window from the first to the last step timestamp, the first user message as
input and the last agent message as output) and one child span "step-<step_id>" per step with that
step's model and metrics. Each of tokens (prompt, completion, cached) and cost is summed over the
steps that carry it; the matching final_metrics total is used only when no step carries it (it then
sits on the root span), so nothing is counted twice. Sending a trajectory again replaces its session.
ATIF reports no outcome, so every span's status is success (as NeMo's server maps it).

ATIF-v1.7 (as NeMo's 0.3.0 server maps it): `trajectory_id` and `continued_trajectory_ref` are kept
on the root span's attributes (the session id stays `session_id`, else a new one). Each embedded
`subagent_trajectories` entry (its `trajectory_id` required and unique among its siblings) is mapped
the same way into the same session: its root span "subagent:<trajectory_id>" (nested ones
"subagent:<a>/subagent:<b>") hangs under the first step whose observation names it in a
subagent_trajectory_ref, else under its parent's root; its steps are "<its root>/step-<step_id>".
Any other subagent_trajectory_ref (a trajectory not embedded, or named again) becomes a delegation
span "subagent-<its id or path>" under its step, the reference as input and the observation result
as output. The subagents' tokens and cost add to the session's; the session's window, tag, model and
agent are the top trajectory's (whose window takes in the subagents' timestamps).

Verifier rewards in extra.verifier_result become evaluator results on that trajectory's root span
("trajectory" or the subagent's): a number → one result named "verifier.reward"; an object of named
numbers → "verifier.<name>" each (so {"reward": 1} and 1 give the same result). Booleans are BOOLEAN
results (0/1), numbers NUMERIC.
"""

import hashlib
import math
import time
import uuid
from collections.abc import Iterator
from typing import Any, TypeVar

import orjson
from pydantic import ValidationError

from intake_service.domain.evaluator_results import record_evaluator_result
from intake_service.domain.formats import first_error, json_object, worker
from intake_service.domain.formats.atif_document import (
    ContentPart,
    FinalMetrics,
    Metrics,
    Step,
    Trajectory,
    TrajectoryBody,
)
from intake_service.domain.spans import Span, store_spans
from intake_service.errors import PayloadTooLarge, validation_error
from intake_service.models.generated import AtifIngestResponse, EvaluatorResultInput
from intake_service.store.clickhouse.telemetry import TelemetryStore
from intake_service.store.clickhouse.values import holds_nanoseconds, to_ns
from intake_service.store.postgres.experiments import ExperimentRepository

# Steps per trajectory, checked before any step is built (real agent runs stay in the hundreds).
MAX_STEPS = 10_000
# Levels of embedded subagent trajectories, the top one counted (NeMo's default cap).
MAX_SUBAGENT_DEPTH = 64
ROOT_SPAN_ID = "trajectory"
VERIFIER_PREFIX = "verifier."

Total = TypeVar("Total", int, float)


def _text(message: str | list[ContentPart] | None) -> str | None:
    if message is None or isinstance(message, str):
        return message
    parts = [part.text for part in message if part.type == "text" and part.text is not None]
    return "\n".join(parts) if parts else None


def _metric(steps: list[Step], name: str, total: Total | None) -> tuple[bool, Total | None]:
    """(some step carries it, the final total to put on the root when none does)."""
    carried = any(step.metrics is not None and getattr(step.metrics, name) is not None for step in steps)
    return carried, None if carried else total


def _tree(node: TrajectoryBody, path: tuple[str, ...] = ()) -> Iterator[tuple[TrajectoryBody, tuple[str, ...]]]:
    """The trajectory and its embedded subagents, depth first; a subagent's path is the
    trajectory_ids leading to it."""
    yield node, path
    for subagent in node.subagent_trajectories or []:
        yield from _tree(subagent, (*path, subagent.trajectory_id))


def _root_id(path: tuple[str, ...]) -> str:
    """The span id of a trajectory's root: "trajectory", or "subagent:<id>/subagent:<id>…" (hashed
    when that grows past 200 characters, so its step ids stay under 255)."""
    if not path:
        return ROOT_SPAN_ID
    joined = "/".join(f"subagent:{trajectory_id}" for trajectory_id in path)
    return joined if len(joined) <= 200 else f"subagent:{hashlib.sha256(joined.encode()).hexdigest()[:32]}"


def _where(path: tuple[str, ...]) -> list[str]:
    """Where a subagent sits in the body, for a 422's loc (by trajectory_id: unique among siblings)."""
    return [loc for trajectory_id in path for loc in ("subagent_trajectories", trajectory_id)]


def _step_id(path: tuple[str, ...], step: Step) -> str:
    return f"step-{step.step_id}" if not path else f"{_root_id(path)}/step-{step.step_id}"


def _subagent_refs(step: Step) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(where, reference, observation result) for each subagent_trajectory_ref of a step's
    observation results; `where` ("<result index>-<ref index>") tells them apart."""
    results = (step.observation or {}).get("results")
    return [
        (f"{result_index}-{ref_index}", ref, result)
        for result_index, result in enumerate(results if isinstance(results, list) else [])
        if isinstance(result, dict) and isinstance(result.get("subagent_trajectory_ref"), list)
        for ref_index, ref in enumerate(result["subagent_trajectory_ref"])
        if isinstance(ref, dict)
    ]


def _ref_span(
    session_id: str, step_span: str, at: int, where: str, ref: dict[str, Any], result: dict[str, Any]
) -> Span:
    """A delegation to a subagent trajectory that is not embedded (or already placed elsewhere)."""
    identity = next(
        (ref[key] for key in ("trajectory_id", "trajectory_path", "session_id") if isinstance(ref.get(key), str)), ""
    )
    return Span(
        session_id=session_id,
        span_id=f"{step_span}/subagent-ref-{where}",
        parent_span_id=step_span,
        source="atif",
        status="success",
        start_ns=at,
        end_ns=at,
        name=f"subagent-{identity}" if identity else "subagent",
        kind="agent",
        input=orjson.dumps(ref).decode(),
        output=orjson.dumps(result).decode(),
        attributes={"subagent_trajectory_ref": ref},
    )


def verifier_results(trajectory: Trajectory, session_id: str, experiment: str | None) -> list[EvaluatorResultInput]:
    results = []
    for node, path in _tree(trajectory):
        verdict = (node.extra or {}).get("verifier_result")
        if verdict is None:
            continue
        named = verdict if isinstance(verdict, dict) else {"reward": verdict}
        for name, value in named.items():
            number_like = isinstance(value, int | float) and (isinstance(value, bool) or math.isfinite(value))
            if not number_like or not name:
                raise validation_error(
                    ["body", *_where(path), "extra", "verifier_result", *([name] if isinstance(verdict, dict) else [])],
                    value,
                    "verifier_result must be a number or an object of named numbers.",
                )
            results.append(
                EvaluatorResultInput(
                    session_id=session_id,
                    span_id=_root_id(path),
                    name=f"{VERIFIER_PREFIX}{name}"[:255],
                    data_type="BOOLEAN" if isinstance(value, bool) else "NUMERIC",
                    value=float(value),
                    experiment_name=experiment,
                )
            )
    return results


def _window(node: TrajectoryBody, now_ns: int) -> tuple[int, int | None]:
    """First and last step timestamp over the trajectory and its subagents (NeMo's window)."""
    stamps = [to_ns(step.timestamp) for each, _ in _tree(node) for step in each.steps if step.timestamp is not None]
    return (min(stamps), max(stamps)) if stamps else (now_ns, None)


def _node_spans(
    node: TrajectoryBody,
    path: tuple[str, ...],
    session_id: str,
    parent: str,
    tag: tuple[str | None, str | None],
    now_ns: int,
) -> list[Span]:
    """One trajectory's root span (under `parent`; at `now_ns` when it has no timestamps) and its
    steps; then its subagents, each under the step that delegates to it (subagent_trajectory_ref),
    else under this root."""
    start, end = _window(node, now_ns)
    steps, finals = node.steps, node.final_metrics or FinalMetrics()
    _, prompt = _metric(steps, "prompt_tokens", finals.total_prompt_tokens)
    _, completion = _metric(steps, "completion_tokens", finals.total_completion_tokens)
    _, cached = _metric(steps, "cached_tokens", finals.total_cached_tokens)
    _, cost = _metric(steps, "cost_usd", finals.total_cost_usd)
    user = next((_text(s.message) for s in steps if s.source == "user" and _text(s.message)), None)
    answer = next((_text(s.message) for s in reversed(steps) if s.source == "agent" and _text(s.message)), None)
    attributes: dict[str, Any] = {"schema_version": node.schema_version, "notes": node.notes, "steps": len(steps)}
    for name in ("trajectory_id", "continued_trajectory_ref"):
        if getattr(node, name) is not None:
            attributes[name] = getattr(node, name)
    if path and node.session_id is not None:
        attributes["session_id"] = node.session_id
    root_id = _root_id(path)
    spans = [
        Span(
            session_id=session_id,
            span_id=root_id,
            parent_span_id=parent,
            source="atif",
            status="success",
            start_ns=start,
            end_ns=end,
            name=node.agent.name,
            kind="agent",
            experiment_name=tag[0],
            test_case_id=tag[1],
            model_name=node.agent.model_name,
            agent_name=node.agent.name,
            agent_version=node.agent.version,
            input_tokens=prompt,
            output_tokens=completion,
            cached_tokens=cached,
            cost_usd=cost,
            input=user,
            output=answer,
            attributes=attributes,
        )
    ]
    at, delegated_by = start, dict[str, tuple[str, int]]()
    embedded = {subagent.trajectory_id for subagent in node.subagent_trajectories or []}
    for step in steps:
        at = to_ns(step.timestamp) if step.timestamp is not None else at
        metrics = step.metrics or Metrics()
        model = step.model_name or (node.agent.model_name if step.source == "agent" else None)
        spans.append(
            Span(
                session_id=session_id,
                span_id=_step_id(path, step),
                parent_span_id=root_id,
                source="atif",
                status="success",
                start_ns=at,
                end_ns=at,
                name=f"{step.source} step {step.step_id}",
                kind="llm" if step.source == "agent" else step.source,
                model_name=model,
                input_tokens=metrics.prompt_tokens,
                output_tokens=metrics.completion_tokens,
                cached_tokens=metrics.cached_tokens,
                cost_usd=metrics.cost_usd,
                output=_text(step.message) if step.source == "agent" else None,
                input=_text(step.message) if step.source != "agent" else None,
            )
        )
        for where, ref, result in _subagent_refs(step):
            if ref.get("trajectory_id") in embedded and ref["trajectory_id"] not in delegated_by:
                delegated_by[ref["trajectory_id"]] = _step_id(path, step), at
            else:
                spans.append(_ref_span(session_id, _step_id(path, step), at, where, ref, result))
    for subagent in node.subagent_trajectories or []:
        # A subagent without timestamps starts when the span it hangs under does (as in NeMo).
        sub_parent, sub_start = delegated_by.get(subagent.trajectory_id, (root_id, start))
        spans += _node_spans(subagent, (*path, subagent.trajectory_id), session_id, sub_parent, (None, None), sub_start)
    return spans


def to_spans(trajectory: Trajectory, session_id: str, now_ns: int) -> list[Span]:
    return _node_spans(trajectory, (), session_id, "", trajectory.tag(), now_ns)


def _check_size(document: dict[str, Any]) -> None:
    """413 past MAX_STEPS steps and 422 past MAX_SUBAGENT_DEPTH levels of subagents, counted in the
    raw document before anything is built."""
    steps, level, nodes = 0, 1, [document]
    while nodes:
        if level > MAX_SUBAGENT_DEPTH:
            raise validation_error(
                ["body", "subagent_trajectories"],
                None,
                f"Subagent trajectories may nest at most {MAX_SUBAGENT_DEPTH - 1} levels below the trajectory.",
            )
        steps += sum(len(node["steps"]) for node in nodes if isinstance(node.get("steps"), list))
        if steps > MAX_STEPS:
            raise PayloadTooLarge(f"A trajectory may have at most {MAX_STEPS:,} steps.")
        nodes = [
            child
            for node in nodes
            if isinstance(node.get("subagent_trajectories"), list)
            for child in node["subagent_trajectories"]
            if isinstance(child, dict)
        ]
        level += 1


def parse(body: bytes, content_type: str | None) -> Trajectory:
    document = json_object(body, content_type)
    _check_size(document)
    try:
        trajectory = Trajectory.model_validate(document)
    except ValidationError as exc:
        raise first_error(exc) from None
    for node, path in _tree(trajectory):
        for index, step in enumerate(node.steps):
            if step.timestamp is not None and not holds_nanoseconds(to_ns(step.timestamp)):
                raise validation_error(
                    ["body", *_where(path), "steps", index, "timestamp"],
                    step.timestamp.isoformat(),
                    "Timestamps must fall between 1900 and 2261.",
                )
    return trajectory


def _prepare(body: bytes, content_type: str | None) -> tuple[tuple[str, list[EvaluatorResultInput]], list[Span]]:
    trajectory = parse(body, content_type)
    session_id = trajectory.session_id or str(uuid.uuid4())
    experiment, _ = trajectory.tag()
    results = verifier_results(trajectory, session_id, experiment)
    return (session_id, results), to_spans(trajectory, session_id, time.time_ns())


async def ingest_trajectory(
    repo: ExperimentRepository,
    telemetry: TelemetryStore,
    workspace: str,
    body: bytes,
    content_type: str | None,
) -> AtifIngestResponse:
    """Validate all of it first, then store the session (replacing an earlier copy) and its rewards."""
    # Parsing and validating is CPU work: off the event loop (a large body in the worker process).
    (session_id, results), spans = await worker.parse_body(_prepare, body, content_type)
    await store_spans(repo, telemetry, workspace, spans, strict=True, replace=True)
    for result in results:
        await record_evaluator_result(repo, telemetry, workspace, result)
    return AtifIngestResponse(session_id=session_id)
