"""SDK 0.3.0's experiment groups: every 0.3.0 field and its default, pareto kept by an update that
omits it, the 409 of a rename, the 400 of a bad default_sort, list sort and filters (metadata the
way the SDK nests it), evaluation_count over runs, and delete freeing the name."""

from _flow import client, config, emit, plain, status_of

cfg = config()
nemo = client(cfg)
groups = nemo.experiment_groups
runs_path = f"/apis/intake/v2/workspaces/{cfg['workspace']}/experiments"

plain_group = groups.create(name="a-030")
full = groups.create(
    name="b-030",
    description="cheaper prompts",
    insight_id="ins-1",
    summary="B wins",
    metadata={"team": "search", "model": "m-1"},
    default_sort="-evaluators.correct.mean,cost_usd.mean",
    pareto={"x_metric": "cost_usd", "y_metric": "evaluators.correct"},
)
# SDK 0.3.0 has no client.experiments: its runs are evaluations; these are the seeds' runs.
for index in range(2):
    nemo.post(
        runs_path, cast_to=object, body={"name": f"r{index}", "dataset_name": "ds", "experiment_group_id": full.id}
    )
fetched = groups.retrieve("b-030")
kept = groups.update("b-030", body_name="b-030", summary="still B", metadata={"team": "search"})
rename = status_of(lambda: groups.update("b-030", body_name="c-030"))
bad_sort = status_of(lambda: groups.create(name="d-030", default_sort="accuracy"))
by_name = [g.name for g in groups.list(sort="name")]
by_team = [g.name for g in groups.list(filter={"metadata": {"team": "search"}})]
by_insight = [g.name for g in groups.list(filter={"insight_id": "ins-1"})]
groups.delete("a-030")
gone = status_of(lambda: groups.retrieve("a-030"))
deleted = [g.name for g in groups.list(filter={"is_deleted": True})]
reused = groups.create(name="a-030")

emit(
    {
        "plain": plain(plain_group),
        "full": plain(full),
        "fetched": plain(fetched),
        "kept": plain(kept),
        "rename": rename,
        "bad_sort": bad_sort,
        "by_name": by_name,
        "by_team": by_team,
        "by_insight": by_insight,
        "gone": gone,
        "deleted": deleted,
        "reused_id_differs": reused.id != plain_group.id,
    }
)
