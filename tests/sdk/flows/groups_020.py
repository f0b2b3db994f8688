"""SDK 0.2.0's experiment groups: create (name, description), exist_ok, retrieve, update, list with
its filters, a run (experiment) in the group, delete, and the 404 after it."""

from _flow import client, config, emit, plain, status_of

cfg = config()
nemo = client(cfg)
groups = nemo.experiment_groups

created = groups.create(name="g-020", description="first")
again = groups.create(name="g-020", description="ignored", exist_ok=True)
other = groups.create(name="h-020")
run = nemo.experiments.create(name="run-020", dataset_name="ds", experiment_group_id=created.id)
fetched = groups.retrieve("g-020")
updated = groups.update("g-020", body_name="g-020", description="second")
conflict = status_of(lambda: groups.create(name="g-020"))
listed = [g.name for g in groups.list(sort="name")]
by_name = [g.name for g in groups.list(filter={"name": "h-020"})]
groups.delete("h-020")
missing = status_of(lambda: groups.retrieve("h-020"))
live = [g.name for g in groups.list()]
deleted = [g.name for g in groups.list(filter={"is_deleted": True})]

emit(
    {
        "created": plain(created),
        "again_id": again.id,
        "run_group": run.experiment_group_id,
        "fetched": plain(fetched),
        "updated": plain(updated),
        "conflict": conflict,
        "listed": listed,
        "by_name": by_name,
        "missing": missing,
        "live": live,
        "deleted": deleted,
    }
)
