"""Experiments and runs: create with the naming fallbacks, custom and parent run ids, list with its
filters, sort and pins, get by id prefix, partial PUT, pin toggle, tags, register races."""

import asyncio

from support import WORKBENCH_API as API
from support import create_in_workbench, ok, problem


class TestCreate:
    async def test_name_fallbacks(self, wb) -> None:
        assert (await create_in_workbench(wb, name="a", run_name="r", experiment_name="e"))["name"] == "a"
        by_run = await create_in_workbench(wb, run_name="baseline-run", experiment_name="my-experiment")
        assert by_run["name"] == "baseline-run" and by_run["run_id"] is not None
        only = await create_in_workbench(wb, experiment_name="auto")
        assert only["name"] == "auto" and only["run_id"] is None and only["status"] == "pending"
        detail = problem(await wb.post(API, json={"description": "no name"}), 422)
        assert detail == "A name is required: give name, run_name or experiment_name."
        assert problem(await wb.post(API, json={"name": "   "}), 422).startswith("A name is required")

    async def test_existing_experiment_name_takes_the_run(self, wb) -> None:
        made = await create_in_workbench(wb, name="shared", description="d", tags=["x"])
        assert made["run_id"] is None
        run = await create_in_workbench(wb, experiment_name="shared", run_name="trial-1", parameters={"lr": 0.1})
        assert run["experiment_id"] == made["id"] and run["name"] == "trial-1"
        detail = ok(await wb.get(f"{API}/{made['id']}"))
        assert detail["runCount"] == 1 and detail["runs"][0]["name"] == "trial-1"
        assert (
            problem(await wb.post(API, json={"name": "shared"}), 409) == "An experiment named 'shared' already exists."
        )

    async def test_parameters_as_array_and_run_fields(self, wb) -> None:
        made = await create_in_workbench(
            wb,
            name="arr",
            parameters=[{"key": "a", "value": "x"}, {"key": "b", "value": [1, 2]}],
            final_metrics=[{"key": "rmse", "value": 1.5}],
            duration_seconds=3,
            status="running",
        )
        run = ok(await wb.get(f"{API}/{made['run_id']}"))
        assert run["parameters"] == [{"key": "a", "value": "x"}, {"key": "b", "value": [1, 2]}]
        assert run["finalMetrics"] == [{"key": "rmse", "value": 1.5}]
        assert run["status"] == "running" and run["durationSeconds"] == 3
        assert run["latestMetrics"] == {} and run["artifacts"] == []
        assert ok(await wb.get(f"{API}/{made['id']}"))["bestRunId"] == made["run_id"]

    async def test_custom_run_id_and_conflict(self, wb) -> None:
        made = await create_in_workbench(wb, name="custom", run_id="my-run-1")
        assert made["run_id"] == "my-run-1"
        assert ok(await wb.get(f"{API}/my-run-1"))["experimentId"] == made["id"]
        assert (
            problem(await wb.post(API, json={"name": "custom-2", "run_id": "my-run-1"}), 409)
            == "Run 'my-run-1' already exists."
        )
        # nothing of the refused request is stored: no experiment custom-2
        listed = ok(await wb.get(API, params={"search": "custom-2"}))
        assert listed["count"] == 0

    async def test_parent_run(self, wb) -> None:
        parent = await create_in_workbench(wb, name="parent", run_id="parent-run")
        child = await create_in_workbench(wb, experiment_name="parent", run_name="child", parent_run_id="parent-run")
        assert ok(await wb.get(f"{API}/{child['run_id']}"))["parentRunId"] == "parent-run"
        assert child["experiment_id"] == parent["id"]
        assert (
            problem(await wb.post(API, json={"name": "orphan", "parent_run_id": "nope"}), 404)
            == "Run 'nope' not found."
        )
        assert ok(await wb.get(API, params={"search": "orphan"}))["count"] == 0


class TestList:
    async def test_filters_sort_page_and_pins(self, wb) -> None:
        ids = {}
        for name, status, tags, description in [
            ("alpha", "running", ["nlp"], "Transformer sweep"),
            ("beta", "completed", ["nlp", "prod"], None),
            ("gamma", "failed", ["vision"], "CNN baseline"),
            ("delta", "draft", [], "transformer again"),
        ]:
            made = await create_in_workbench(wb, name=name, status=status, tags=tags, description=description)
            ids[name] = made["id"]
        await create_in_workbench(wb, experiment_name="beta", run_name="r1")
        await create_in_workbench(wb, experiment_name="beta", run_name="r2")
        await create_in_workbench(wb, experiment_name="gamma", run_name="r3")

        everything = ok(await wb.get(API))
        assert everything["count"] == 4 and everything["limit"] == 20 and everything["offset"] == 0
        assert [e["name"] for e in everything["experiments"]] == ["delta", "gamma", "beta", "alpha"]

        def names(response) -> list[str]:
            return [e["name"] for e in ok(response)["experiments"]]

        assert names(await wb.get(API, params={"search": "TRANSFORMER"})) == ["delta", "alpha"]
        assert names(await wb.get(API, params={"search": "%"})) == []
        assert names(await wb.get(API, params={"status": "failed"})) == ["gamma"]
        assert names(await wb.get(API, params={"tag": "nlp", "sort": "name:asc"})) == ["alpha", "beta"]
        assert names(await wb.get(API, params={"sort": "runCount:desc"})) == ["beta", "gamma", "alpha", "delta"]
        assert names(await wb.get(API, params={"sort": "status:asc"})) == ["beta", "delta", "gamma", "alpha"]
        page = ok(await wb.get(API, params={"sort": "name:asc", "limit": 2, "offset": 1}))
        assert page["count"] == 4 and page["limit"] == 2 and page["offset"] == 1
        assert [e["name"] for e in page["experiments"]] == ["beta", "delta"]
        assert [e["runCount"] for e in page["experiments"]] == [2, 0]
        assert ok(await wb.get(API, params={"offset": 10}))["experiments"] == []

        pin = ok(await wb.post(f"{API}/{ids['beta']}/pin"))
        assert pin == {"id": ids["beta"], "pinned": True, "message": "Experiment pinned successfully"}
        assert names(await wb.get(API, params={"sort": "name:asc"})) == ["beta", "alpha", "delta", "gamma"]
        assert names(await wb.get(API, params={"pinned": "true"})) == ["beta"]
        assert names(await wb.get(API, params={"pinned": "false", "sort": "name:desc"})) == ["gamma", "delta", "alpha"]
        assert ok(await wb.get(f"{API}/stats"))["pinned"] == 1
        unpin = ok(await wb.post(f"{API}/{ids['beta']}/pin"))
        assert unpin == {"id": ids["beta"], "pinned": False, "message": "Experiment unpinned successfully"}
        assert ok(await wb.get(f"{API}/stats")) == {
            "total": 4,
            "draft": 1,
            "pending": 0,
            "running": 1,
            "completed": 1,
            "failed": 1,
            "pinned": 0,
        }

    async def test_bad_list_queries(self, wb) -> None:
        assert "sort must be field:asc or field:desc" in problem(await wb.get(API, params={"sort": "owner:asc"}), 422)
        assert problem(await wb.get(API, params={"sort": "name:up"}), 422).startswith("sort must be")
        assert problem(await wb.get(API, params={"status": "paused"}), 422).startswith("Unknown status 'paused'")
        assert "limit" in problem(await wb.get(API, params={"limit": 0}), 422)
        assert "limit" in problem(await wb.get(API, params={"limit": 1001}), 422)
        assert "offset" in problem(await wb.get(API, params={"offset": -1}), 422)
        assert "pinned" in problem(await wb.get(API, params={"pinned": "maybe"}), 422)


class TestGetUpdate:
    async def test_get_by_prefix(self, wb) -> None:
        made = await create_in_workbench(wb, name="prefixed", run_id="zz-unique-run")
        assert ok(await wb.get(f"{API}/{made['id'][:20]}"))["id"] == made["id"]
        assert ok(await wb.get(f"{API}/zz-uni"))["id"] == "zz-unique-run"
        await create_in_workbench(wb, name="prefixed-2")
        assert "matches more than one" in problem(await wb.get(f"{API}/exp_"), 400)
        assert problem(await wb.get(f"{API}/exp_nothing"), 404) == "Experiment or run 'exp_nothing' not found."

    async def test_partial_put_on_experiment_and_run(self, wb) -> None:
        made = await create_in_workbench(wb, name="put-me", description="old", tags=["a"], run_name="r")
        updated = ok(await wb.put(f"{API}/{made['id']}", json={"description": "new", "status": "running"}))
        assert updated["name"] == "put-me" and updated["description"] == "new" and updated["tags"] == ["a"]
        assert updated["status"] == "running" and updated["updatedAt"] >= updated["createdAt"]
        # run fields on an experiment id go to its latest run
        ok(await wb.put(f"{API}/{made['id']}", json={"final_metrics": {"val_loss": 0.3}, "duration_seconds": 9.5}))
        run = ok(await wb.get(f"{API}/{made['run_id']}"))
        assert run["finalMetrics"] == [{"key": "val_loss", "value": 0.3}] and run["durationSeconds"] == 9.5
        failed = ok(await wb.put(f"{API}/{made['run_id']}", json={"status": "failed", "error_message": "OOM"}))
        assert failed["status"] == "failed" and failed["errorMessage"] == "OOM"
        assert (
            ok(await wb.put(f"{API}/{made['run_id']}", json={"error_message": "OOM again"}))["errorMessage"]
            == "OOM again"
        )
        assert ok(await wb.put(f"{API}/{made['run_id']}", json={"status": "running"}))["errorMessage"] is None
        assert problem(await wb.put(f"{API}/{made['run_id']}", json={"error_message": "x"}), 422) == (
            "error_message is only accepted with status 'failed'."
        )
        assert problem(await wb.put(f"{API}/{made['run_id']}", json={"tags": ["x"]}), 422).startswith(
            "tags belong to experiments"
        )
        renamed = ok(await wb.put(f"{API}/{made['id']}", json={"name": "renamed"}))
        assert renamed["name"] == "renamed"
        await create_in_workbench(wb, name="taken")
        assert (
            problem(await wb.put(f"{API}/{made['id']}", json={"name": "taken"}), 409)
            == "An experiment named 'taken' already exists."
        )
        assert problem(await wb.put(f"{API}/{made['id']}", json={"status": "paused"}), 422).startswith("status")

    async def test_tags(self, wb) -> None:
        made = await create_in_workbench(wb, name="tagged", tags=["old"])
        result = ok(await wb.put(f"{API}/{made['id']}/tags", json={"tags": [" nlp", "nlp ", "v2", "prod"]}))
        assert result == {"id": made["id"], "tags": ["nlp", "v2", "prod"], "message": "Tags updated successfully"}
        assert ok(await wb.get(f"{API}/{made['id']}"))["tags"] == ["nlp", "v2", "prod"]
        assert problem(await wb.put(f"{API}/{made['id']}/tags", json={"tags": ["x" * 65]}), 422).startswith(
            "Each tag must be"
        )
        assert problem(await wb.put(f"{API}/{made['id']}/tags", json={"tags": ["  "]}), 422).startswith(
            "Each tag must be"
        )
        too_many = [f"t{i}" for i in range(51)]
        assert problem(await wb.put(f"{API}/{made['id']}/tags", json={"tags": too_many}), 422).startswith(
            "An experiment has at most 50 tags"
        )
        assert problem(await wb.put(f"{API}/{made['id']}/tags", json={}), 422) == "tags is required."
        assert ok(await wb.get(f"{API}/{made['id']}"))["tags"] == ["nlp", "v2", "prod"]
        assert ok(await wb.put(f"{API}/{made['id']}/tags", json={"tags": []}))["tags"] == []


class TestRegister:
    async def test_concurrent_registers_make_one_experiment(self, wb) -> None:
        responses = await asyncio.gather(*(wb.post(f"{API}/register", json={"name": "raced"}) for _ in range(12)))
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200] * 11 + [201], [r.text for r in responses]
        assert len({r.json()["experiment_id"] for r in responses}) == 1
        assert [r.json()["exists"] for r in responses if r.status_code == 201] == [False]
        assert ok(await wb.get(API, params={"search": "raced"}))["count"] == 1

    async def test_register_needs_a_name(self, wb) -> None:
        assert problem(await wb.post(f"{API}/register", json={}), 422) == "name is required."
        assert problem(await wb.post(f"{API}/register", json={"name": " "}), 422) == "name is required."
