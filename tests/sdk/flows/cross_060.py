"""SDK 0.6.0 under /nemo-0.4, the newer half of the cross-generation test: the group and run SDK 0.2.0
made at the root read as a container and an evaluation (membership filter, rollups, sessions); then a
container and an evaluation of its own, with one ATIF session tagged the 0.4+ way, for 0.2.0 to read."""

from _flow import client, config, emit, plain

cfg = config()
nemo = client(cfg)
D0 = cfg["day0"]
exps, evals = nemo.experiments, nemo.evaluations

container = exps.retrieve("g-cross")
seen = {
    "container": plain(container),
    "members": [e.name for e in evals.list(filter={"experiment_id": container.id})],
    "evaluation": plain(evals.retrieve("run-cross")),
    "sessions": [plain(s) for s in evals.sessions.list("run-cross", sort="test_case_name", mode="summary")],
}

mine = exps.create(name="c-cross", summary="from 0.6.0")
evals.create(name="ev-cross", dataset_name="ds", experiment_ids=[mine.id])
nemo.intake.ingest.atif.create(
    schema_version="ATIF-v1.5",
    session_id="y1",
    agent={"name": "terminus", "version": "2.0", "model_name": "gpt-x"},
    steps=[
        {"step_id": 1, "source": "user", "message": "q", "timestamp": f"{D0}T13:00:00Z"},
        {
            "step_id": 2,
            "source": "agent",
            "message": "a",
            "timestamp": f"{D0}T13:00:02Z",
            "metrics": {"prompt_tokens": 10, "completion_tokens": 5, "cost_usd": 0.5},
        },
    ],  # fmt: skip
    evaluation_context={"evaluation_name": "ev-cross", "test_case_name": "U1"},
)
nemo.intake.evaluator_results.create(
    session_id="y1", span_id="trajectory", name="correct", data_type="NUMERIC", value=1
)
emit({**seen, "mine": plain(mine), "made": plain(evals.retrieve("ev-cross"))})
