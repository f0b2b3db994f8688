"""The /nemo-0.4 mount (SDK 0.4.0+) beside the root (SDKs 0.1.x to 0.3.0), on one data model: a
root group is a container there and a seeds' run is an evaluation, with the same rollups; the
seeds' /experiments is untouched at the root; every other intake route is served under both
(one list of routers); guards and keys act the same; each mount has its own OpenAPI document."""

import uuid
from typing import Any

import pytest
from test_openapi import ASSET, METHODS, REMOTE, documentation_gaps

from intake_service.domain import auth

from support import asgi_client, client_for, create_experiment, create_key, get_experiment, ingest_ok, ok, problem

NEMO_04 = "/nemo-0.4"
ROOT_ONLY = ("/experiments", "/experiment-groups")  # where the root's paths mean something else at /nemo-0.4
SESSIONS = [
    {"session_id": "s1", "test_case_id": "t1", "started_at": "2026-01-01T00:00:01Z", "latency_ms": 30,
     "cost_usd": 0.5, "input_tokens": 10, "output_tokens": 5, "status": "success"},
    {"session_id": "s2", "test_case_id": "t2", "started_at": "2026-01-01T00:00:02Z", "latency_ms": 10,
     "cost_usd": 0.25, "status": "error"},
    {"session_id": "s3", "test_case_id": "t1", "started_at": "2026-01-01T00:00:00Z", "latency_ms": 20,
     "cost_usd": 0.1, "status": "success"},
]  # fmt: skip


@pytest.fixture(scope="module")
async def documents(app) -> tuple[dict[str, Any], dict[str, Any]]:
    async with asgi_client(app) as http:
        return ok(await http.get("/openapi.json")), ok(await http.get(f"{NEMO_04}/openapi.json"))


class TestOneDataModel:
    async def test_a_root_group_and_its_run_are_a_container_and_its_evaluation(self, client, base, workspace) -> None:
        nemo = NEMO_04 + base
        group = ok(await client.post(f"{base}/experiment-groups", json={"name": "g", "summary": "s"}), 201)
        run = await create_experiment(client, base, "run-1", agent_name="a", experiment_group_id=group["id"])
        await ingest_ok(client, base, "run-1", SESSIONS)

        container = ok(await client.get(f"{nemo}/experiments/g"))
        assert container == ok(await client.get(f"{base}/experiment-groups/g"))
        assert container["id"] == group["id"] and container["evaluation_count"] == 1

        evaluation = ok(await client.get(f"{nemo}/evaluations/run-1"))
        assert evaluation == ok(await client.get(f"{base}/evaluations/run-1"))
        assert evaluation["id"] == run["id"] and evaluation["experiment_ids"] == [group["id"]]
        assert evaluation["test_case_count"] == 2 and evaluation["run_count"] == 3
        # Averaged per test case first: t1 (0.5 + 0.1) / 2 = 0.3, t2 0.25.
        assert evaluation["cost_usd"]["sum"] == pytest.approx(0.55)
        listed = ok(await client.get(f"{nemo}/evaluations", params={"filter[name]": "run-1"}))["data"]
        assert listed == [evaluation]

        # The seeds' run is still the run at the root, and no container at /nemo-0.4.
        seeds_run = await get_experiment(client, base, "run-1")
        assert seeds_run["agent_name"] == "a" and seeds_run["experiment_group_id"] == group["id"]
        no_container = await client.get(f"{nemo}/experiments/run-1")
        assert problem(no_container, 404) == f"Experiment '{workspace}/run-1' not found."
        assert (await client.get(f"{nemo}/experiments/run-1/sessions")).status_code == 404

    async def test_the_seeds_run_leaving_its_container_takes_the_baseline_with_it(self, client, base) -> None:
        """The seeds' contract has no 409: a seeds' PUT or DELETE of a baseline run succeeds and clears it."""
        nemo = NEMO_04 + base
        first = ok(await client.post(f"{base}/experiment-groups", json={"name": "first"}), 201)
        second = ok(await client.post(f"{base}/experiment-groups", json={"name": "second"}), 201)
        await create_experiment(client, base, "moved", experiment_group_id=first["id"])
        await create_experiment(client, base, "deleted", experiment_group_id=second["id"])
        for container, baseline in (("first", "moved"), ("second", "deleted")):
            body = {"name": container, "baseline_evaluation_name": baseline}
            ok(await client.put(f"{nemo}/experiments/{container}", json=body))
        body = {"name": "moved", "dataset_name": "ds", "experiment_group_id": second["id"]}
        ok(await client.put(f"{base}/experiments/moved", json=body))
        assert (await client.delete(f"{base}/experiments/deleted")).status_code == 204
        for name in ("first", "second"):
            assert ok(await client.get(f"{nemo}/experiments/{name}"))["baseline_evaluation_name"] is None

    async def test_a_container_made_at_nemo_04_is_a_group_at_the_root(self, client, base) -> None:
        nemo = NEMO_04 + base
        made = ok(await client.post(f"{nemo}/experiments", json={"name": "c", "is_favorite": True}), 201)
        root = ok(await client.get(f"{base}/experiment-groups/c"))
        assert root == made and root["is_favorite"] is True
        # A root PUT (SDK 0.2/0.3) leaves the fields it does not know as they are.
        replaced = ok(await client.put(f"{base}/experiment-groups/c", json={"name": "c", "description": "d"}))
        assert replaced["is_favorite"] is True and replaced["description"] == "d"


class TestSameGuards:
    async def test_keys_scopes_and_workspaces_act_the_same(self, settings) -> None:
        workspace = f"ws-{uuid.uuid4().hex[:8]}"
        token = await create_key(settings.database_url, f"reader-{workspace}", [auth.READ], [workspace])
        reader = {"X-API-Key": token}
        async with client_for(settings, auth="api-key") as http:
            url = f"{NEMO_04}/apis/intake/v2/workspaces/{workspace}/experiments"
            assert (await http.get(url)).status_code == 401
            assert (await http.get(url, headers=reader)).status_code == 200
            assert (await http.post(url, headers=reader, json={"name": "x"})).status_code == 403
            assert (await http.get(url.replace(workspace, "elsewhere"), headers=reader)).status_code == 403
            secured = ok(await http.get(f"{NEMO_04}/openapi.json"))["paths"]
            assert all("security" in op for item in secured.values() for m, op in item.items() if m in METHODS)

    async def test_bad_parameters_and_bodies_answer_in_the_intake_shape(self, client, base) -> None:
        nemo = NEMO_04 + base
        nul = await client.get(f"{nemo}/evaluations", params={"filter[name]": "a\x00b"})
        assert nul.status_code == 422 and isinstance(nul.json()["detail"], list)
        undecodable = await client.post(
            f"{nemo}/experiments", content=b'{"name": "\xff"}', headers={"content-type": "application/json"}
        )
        assert undecodable.status_code == 422 and undecodable.json()["detail"][0]["loc"] == ["body"]


class TestDocuments:
    def test_every_root_intake_path_but_the_root_only_ones_is_under_nemo_04(self, documents) -> None:
        root, nemo = documents
        intake = "/apis/intake/v2/workspaces/{workspace}"
        shared = {
            path for path in root["paths"]
            if path.startswith(intake) and not path.removeprefix(intake).startswith(ROOT_ONLY)
        }  # fmt: skip
        assert len(shared) > 15
        assert {NEMO_04 + path for path in shared} <= set(nemo["paths"])
        for path in shared:
            for method in METHODS:
                if method in root["paths"][path]:
                    assert method in nemo["paths"][NEMO_04 + path], (method, path)

    def test_each_mount_documents_its_own_experiments(self, documents) -> None:
        root, nemo = documents
        assert not [path for path in root["paths"] if path.startswith(NEMO_04)]
        assert not [path for path in nemo["paths"] if not path.startswith(NEMO_04)]
        containers = f"{NEMO_04}/apis/intake/v2/workspaces/{{workspace}}/experiments"
        # No route of the seeds' run (/experiments/{name}/sessions, /compare) is served there.
        assert [path for path in nemo["paths"] if "/experiments" in path] == [containers, containers + "/{name}"]
        body = nemo["paths"][containers]["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": "#/components/schemas/ContainerRequest"}
        assert nemo["paths"][containers + "/{name}"]["put"]["tags"] == ["experiments"]
        # The alias works (tests/api/test_nemo_04_containers.py) but is not documented.
        assert not [path for path in nemo["paths"] if "/experiment-groups" in path]
        used = {op["tags"][0] for item in nemo["paths"].values() for m, op in item.items() if m in METHODS}
        assert [tag["name"] for tag in nemo["tags"]] == [tag["name"] for tag in root["tags"] if tag["name"] in used]
        assert "experiment-groups" not in used and "Containers of evaluations" in nemo["tags"][0]["description"]
        assert "/nemo-0.4/docs" in root["info"]["description"] and "/nemo-0.4" in nemo["info"]["description"]

    def test_the_nemo_04_document_is_documented_like_the_root(self, documents) -> None:
        nemo = documents[1]
        gaps = documentation_gaps(nemo)
        assert not gaps, "\n".join(gaps)
        ids = [op["operationId"] for item in nemo["paths"].values() for m, op in item.items() if m in METHODS]
        assert len(ids) == len(set(ids))

    @pytest.mark.parametrize("address", [NEMO_04, f"{NEMO_04}/"])
    async def test_its_base_url_leads_to_its_docs(self, client, address: str) -> None:
        response = await client.get(address)
        assert response.status_code == 307 and response.headers["location"] == f"{NEMO_04}/docs"

    @pytest.mark.parametrize("page", [f"{NEMO_04}/docs", f"{NEMO_04}/redoc"])
    async def test_its_pages_load_the_local_assets_and_its_document(self, client, page: str) -> None:
        html = (await client.get(page)).text
        assert f"{NEMO_04}/openapi.json" in html
        assets = ASSET.findall(html)
        assert assets and not [a for a in assets if REMOTE.match(a)]
        for asset in assets:
            assert (await client.get(asset)).status_code == 200, asset
