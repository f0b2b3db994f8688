"""SDK 0.3.0's evaluations: create into a group (exist_ok), retrieve, update, PATCH, pin and unpin,
sessions ingested as ATIF trajectories with evaluator results from the SDK, the test-case weighted
rollups, a multi-key rollup sort and rollup filters, the sessions list in each mode, and delete."""

from typing import Any

from _flow import client, config, emit, plain, status_of

cfg = config()
nemo = client(cfg)
group = nemo.experiment_groups.create(name="g-eval")
evaluations = nemo.evaluations


def trajectory(session_id: str, evaluation: str, test_case: str, cost: float, seconds: int) -> None:
    """One session of `evaluation`: a user question at 10:00:00, the answer `seconds` later."""
    nemo.intake.ingest.atif.create(
        schema_version="ATIF-v1.5",
        session_id=session_id,
        agent={"name": "terminus", "version": "2.0", "model_name": "gpt-x"},
        steps=[
            {"step_id": 1, "source": "user", "message": f"question {session_id}", "timestamp": "2026-03-01T10:00:00Z"},
            {
                "step_id": 2,
                "source": "agent",
                "message": f"answer {session_id}",
                "timestamp": f"2026-03-01T10:00:{seconds:02d}Z",
                "metrics": {"prompt_tokens": 10, "completion_tokens": 5, "cost_usd": cost},
            },
        ],
        evaluation_context={"evaluation_id": evaluation, "test_case_id": test_case},
    )


def score(session_id: str, value: float) -> Any:
    # An ATIF session's one span is its trajectory.
    return nemo.intake.evaluator_results.create(
        session_id=session_id, span_id="trajectory", name="correct", data_type="NUMERIC", value=value
    )


created = evaluations.create(
    name="ev-a", dataset_name="ds", experiment_ids=[group.id], description="first", metadata={"k": "v"}
)
again = evaluations.create(name="ev-a", dataset_name="other", experiment_ids=[group.id], exist_ok=True)
taken = status_of(lambda: evaluations.create(name="ev-a", dataset_name="ds", experiment_ids=[group.id]))
evaluations.create(name="ev-b", dataset_name="ds", experiment_ids=[group.id])
evaluations.create(name="ev-c", dataset_name="ds", experiment_ids=[group.id])

# ev-a: test case A twice (scored 1 and 0), B once (scored 1); ev-b: A scored 1, B scored 0.5.
for session_id, evaluation, test_case, cost, seconds, value in [
    ("a1", "ev-a", "A", 0.2, 1, 1.0),
    ("a2", "ev-a", "A", 0.4, 3, 0.0),
    ("a3", "ev-a", "B", 1.0, 2, 1.0),
    ("b1", "ev-b", "A", 0.1, 1, 1.0),
    ("b2", "ev-b", "B", 0.3, 1, 0.5),
]:
    trajectory(session_id, evaluation, test_case, cost, seconds)
    score(session_id, value)

fetched = evaluations.retrieve("ev-a")
updated = evaluations.update(
    "ev-a", body_name="ev-a", dataset_name="ds", experiment_ids=[group.id], description="second"
)
patched = evaluations.patch("ev-a", root_cause="flaky judge", metadata={"k": "w"})
pinned = evaluations.pin("ev-c")
by_rollups = [e.name for e in evaluations.list(sort="-evaluators.correct.mean,cost_usd.mean")]
pinned_first = [e.name for e in evaluations.list()]
unpinned = evaluations.unpin("ev-c")
by_score = [e.name for e in evaluations.list(sort="name", filter={"evaluators": {"correct": {"mean": {"$gte": 0.7}}}})]
by_cost = [e.name for e in evaluations.list(sort="name", filter={"cost_usd": {"mean": {"$lte": 0.5}}})]

sessions = evaluations.sessions
modes = {
    mode: [plain(s) for s in sessions.list("ev-a", mode=mode, sort="test_case_id,-latency_ms")]
    for mode in ("summary", "preview", "detailed")
}
only_b = [s.session_id for s in sessions.list("ev-a", filter={"test_case_id": "B"})]

evaluations.delete("ev-b")
gone = status_of(lambda: evaluations.retrieve("ev-b"))
live = [e.name for e in evaluations.list(sort="name")]

emit(
    {
        "group_id": group.id,
        "created": plain(created),
        "again_id": again.id,
        "taken": taken,
        "fetched": plain(fetched),
        "updated": plain(updated),
        "patched": plain(patched),
        "pinned": plain(pinned),
        "unpinned": plain(unpinned),
        "by_rollups": by_rollups,
        "pinned_first": pinned_first,
        "by_score": by_score,
        "by_cost": by_cost,
        "modes": modes,
        "only_b": only_b,
        "gone": gone,
        "live": live,
    }
)
