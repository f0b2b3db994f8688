"""SDK 0.2.0 at the root, the older half of the cross-generation test. phase "write": a group, a run
in it (the seeds' experiment_group_id) and two ATIF sessions tagged with 0.2.0's experiment_context,
one per test case, scored through the SDK, then the run read back. phase "read": the container and
the evaluation SDK 0.6.0 made under /nemo-0.4, seen as a group and a run."""

from _flow import client, config, emit, plain

cfg = config()
nemo = client(cfg)
D0 = cfg["day0"]


def session(session_id: str, run: str, test_case: str, hour: int, seconds: int, cost: float, score: float) -> None:
    nemo.intake.ingest.atif.create(
        schema_version="ATIF-v1.5",
        session_id=session_id,
        agent={"name": "terminus", "version": "2.0", "model_name": "gpt-x"},
        steps=[
            {"step_id": 1, "source": "user", "message": "q", "timestamp": f"{D0}T{hour}:00:00Z"},
            {
                "step_id": 2,
                "source": "agent",
                "message": "a",
                "timestamp": f"{D0}T{hour}:00:{seconds:02d}Z",
                "metrics": {"prompt_tokens": 10, "completion_tokens": 5, "cost_usd": cost},
            },
        ],  # fmt: skip
        experiment_context={"experiment_id": run, "test_case_id": test_case},
    )
    nemo.intake.evaluator_results.create(
        session_id=session_id, span_id="trajectory", name="correct", data_type="NUMERIC", value=score
    )


if cfg["phase"] == "write":
    group = nemo.experiment_groups.create(name="g-cross", description="from 0.2.0")
    nemo.experiments.create(name="run-cross", dataset_name="ds", experiment_group_id=group.id)
    session("x1", "run-cross", "T1", 10, 1, 0.1, 1.0)
    session("x2", "run-cross", "T2", 11, 3, 0.3, 0.0)
    emit({"group": plain(group), "run": plain(nemo.experiments.retrieve("run-cross"))})
else:
    group = nemo.experiment_groups.retrieve("c-cross")
    emit(
        {
            "group": plain(group),
            "run": plain(nemo.experiments.retrieve("ev-cross")),
            "in_group": [e.name for e in nemo.experiments.list(filter={"experiment_group_id": group.id})],
        }
    )
