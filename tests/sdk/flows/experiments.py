"""The seeds' experiments flow of SDK 0.1.x (agent fields) and 0.2.0 (a group id, pins): create,
retrieve, list with a filter, pin (0.2.0), sessions ingested, rollups and sessions read back."""

from _flow import client, config, emit, plain

cfg = config()
nemo = client(cfg)
experiments = nemo.experiments
modern = cfg["sdk_version"] != "0.1.2"
identity = {"experiment_group_id": "grp-x"} if modern else {"agent_name": "bot", "agent_version": "1.0"}

first = experiments.create(name="run-a", dataset_name="qa", metadata={"team": "t"}, **identity)
experiments.create(name="run-b", dataset_name="other", **identity)
sessions = [
    {"session_id": "s1", "test_case_id": "t1", "started_at": "2026-01-01T00:00:00Z", "latency_ms": 100,
     "cost_usd": 0.01, "status": "success", "model_name": "m", "scores": {"acc": 1}},
    {"session_id": "s2", "test_case_id": "t2", "started_at": "2026-01-01T00:01:00Z", "latency_ms": 300,
     "cost_usd": 0.03, "status": "error", "model_name": "m", "scores": {"acc": 0}},
]  # fmt: skip
path = f"/apis/intake/v2/workspaces/{cfg['workspace']}/experiments/run-a/sessions"
accepted = nemo.post(path, cast_to=object, body={"sessions": sessions})
fetched = experiments.retrieve("run-a")
filtered = [e.name for e in experiments.list(filter={"dataset_name": "qa"})]
result = {
    "created": plain(first),
    "accepted": accepted,
    "fetched": plain(fetched),
    "filtered": filtered,
}
if modern:
    pinned = experiments.pin("run-b")
    result["pinned_at_set"] = pinned.pinned_at is not None
    result["order"] = [e.name for e in experiments.list()]
    result["sessions"] = [plain(s) for s in experiments.sessions.list("run-a")]
    result["unpinned_at"] = experiments.unpin("run-b").pinned_at
emit(result)
