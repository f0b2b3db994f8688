"""Issue 11, finding 11: the OpenAPI document tells the truth.

- a body value of another JSON type than the document gives is refused (422), never coerced;
- the rules the server enforces are in the document (X-Organization-Id, non-empty filters, at least
  one session), and the document describes how to authenticate when auth is on;
- OPTIONS answers with every method of the path, and so does the Allow header of a 405;
- a query parameter given twice is the same 422 on every list route.
"""

import uuid
from json import dumps as json_dumps
from json import loads as json_loads
from typing import Any

import httpx
import pytest

T = "2026-01-01T00:00:00Z"
METHODS = ("get", "put", "post", "delete", "patch")


async def new_experiment(client: httpx.AsyncClient, base: str) -> str:
    name = f"truth-{uuid.uuid4().hex[:8]}"
    response = await client.post(f"{base}/experiments", json={"name": name, "dataset_name": "d"})
    assert response.status_code == 201, response.text
    return name


def assert_refused_at(response: httpx.Response, loc: list[Any]) -> None:
    assert response.status_code == 422, response.text
    assert [e["loc"] for e in response.json()["detail"]] == [loc], response.text


# --- strict types ------------------------------------------------------------------------------------


async def test_api_key_expires_at_zero_is_refused_not_1970(client: httpx.AsyncClient) -> None:
    body = {"name": f"k-{uuid.uuid4().hex[:8]}", "scopes": ["intake:read"], "expires_at": 0}
    assert_refused_at(await client.post("/apis/intake/v2/admin/keys", json=body), ["body", "expires_at"])


async def test_session_cost_usd_false_is_refused(client: httpx.AsyncClient, base: str) -> None:
    name = await new_experiment(client, base)
    session = {"session_id": "s1", "started_at": T, "cost_usd": False}
    response = await client.post(f"{base}/experiments/{name}/sessions", json={"sessions": [session]})
    assert_refused_at(response, ["body", "sessions", 0, "cost_usd"])


@pytest.mark.parametrize(
    ("field", "value"), [("latency_ms", "12"), ("input_tokens", 1.5), ("status", 1), ("started_at", 1767225600)]
)
async def test_session_values_of_another_json_type_are_refused(
    client: httpx.AsyncClient, base: str, field: str, value: Any
) -> None:
    name = await new_experiment(client, base)
    session = {"session_id": "s1", "started_at": T, field: value}
    response = await client.post(f"{base}/experiments/{name}/sessions", json={"sessions": [session]})
    assert_refused_at(response, ["body", "sessions", 0, field])


async def test_atif_total_steps_false_is_refused(client: httpx.AsyncClient, base: str) -> None:
    name = await new_experiment(client, base)
    trajectory = {
        "schema_version": "ATIF-v1.6",
        "agent": {"name": "a", "version": "1"},
        "steps": [{"step_id": 1, "source": "user", "message": "hi", "timestamp": T}],
        "final_metrics": {"total_steps": False},
        "experiment_context": {"experiment_id": name},
    }
    response = await client.post(f"{base}/ingest/atif", json=trajectory)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][-2:] == ["final_metrics", "total_steps"], response.text


async def test_chat_started_at_zero_is_refused(client: httpx.AsyncClient, base: str) -> None:
    name = await new_experiment(client, base)
    capture = {
        "request": {"model": "m", "messages": [{"role": "user", "content": "hi"}]},
        "response": {"choices": []},
        "started_at": 0,
        "experiment_context": {"experiment_id": name},
    }
    response = await client.post(f"{base}/ingest/chat-completions", json=capture)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][-1] == "started_at", response.text


async def test_evaluator_result_value_as_text_is_refused(client: httpx.AsyncClient, base: str) -> None:
    body = {"session_id": "s1", "name": "acc", "data_type": "NUMERIC", "value": "1"}
    assert_refused_at(await client.post(f"{base}/evaluator-results", json=body), ["body", "value"])


async def test_workbench_duration_as_boolean_is_refused(client: httpx.AsyncClient) -> None:
    body = {"experiment_name": f"wb-{uuid.uuid4().hex[:8]}", "duration_seconds": True}
    response = await client.post("/api/v1/experiments", json=body)
    assert response.status_code == 422, response.text
    assert "duration_seconds" in response.json()["detail"]


async def test_strict_bodies_still_take_what_json_carries(client: httpx.AsyncClient, base: str) -> None:
    """Integers where numbers are asked, RFC 3339 text for times, booleans in scores."""
    name = await new_experiment(client, base)
    session = {"session_id": "s1", "started_at": T, "ended_at": "2026-01-01T03:00:01+02:00", "latency_ms": 5,
               "cost_usd": 1, "input_tokens": 3, "scores": {"ok": True, "acc": 1, "f1": 0.5, "none": None}}  # fmt: skip
    response = await client.post(f"{base}/experiments/{name}/sessions", json={"sessions": [session]})
    assert response.status_code == 201, response.text
    body = {"name": f"k-{uuid.uuid4().hex[:8]}", "scopes": ["intake:read"], "expires_at": "2030-01-01T00:00:00Z"}
    assert (await client.post("/apis/intake/v2/admin/keys", json=body)).status_code == 201


# --- rules in the document ---------------------------------------------------------------------------


def schema_of(doc: dict[str, Any], path: str, method: str, name: str) -> dict[str, Any]:
    """The parameter's schema for a string value: its own keywords with those of its string branch."""
    [param] = [p for p in doc["paths"][path][method].get("parameters", []) if p["name"] == name]
    schema = param["schema"]
    branch = next((s for s in schema.get("anyOf", []) if s.get("type") == "string"), {})
    return {**schema, **branch}


async def test_enforced_rules_are_in_the_document(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/openapi.json")).json()
    org = schema_of(doc, "/api/v1/experiments", "get", "X-Organization-Id")
    assert org["pattern"] == "^[a-z0-9][a-z0-9._-]*$" and org["maxLength"] == 63
    experiments = "/apis/intake/v2/workspaces/{workspace}/experiments"
    assert schema_of(doc, experiments, "get", "filter")["minLength"] == 1
    sessions = doc["components"]["schemas"]["SessionsIngestRequest"]["properties"]["sessions"]
    assert sessions["minItems"] == 1
    status = schema_of(doc, f"{experiments}/{{name}}/sessions", "get", "filter[status]")
    assert status["enum"] == ["success", "error", "cancelled", "unknown"]
    assert schema_of(doc, "/api/v1/experiments", "get", "status")["enum"][0] == "draft"


@pytest.mark.parametrize(
    ("ids", "valid"),
    [("a,b", True), (" a , b ", True), (",a,,b,", True), (",".join("x" * 20), True),
     ("", False), ("a", False), ("a,,", False), (" , ", False), (",".join("x" * 21), False)],
)  # fmt: skip
async def test_compare_ids_pattern_is_the_rule_the_server_applies(
    client: httpx.AsyncClient, ids: str, valid: bool
) -> None:
    import re

    doc = (await client.get("/openapi.json")).json()
    pattern = schema_of(doc, "/api/v1/experiments/compare", "get", "ids")["pattern"]
    assert bool(re.search(pattern, ids)) is valid
    response = await client.get("/api/v1/experiments/compare", params={"ids": ids})
    assert (response.status_code == 404) is valid, response.text  # valid ids that name nothing: 404


async def test_an_organization_header_the_document_refuses_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/experiments", headers={"X-Organization-Id": "Not A Workspace"})
    assert response.status_code == 422, response.text


async def test_an_empty_json_filter_is_refused(client: httpx.AsyncClient, base: str) -> None:
    assert_refused_at(await client.get(f"{base}/experiments", params={"filter": ""}), ["query", "filter"])


async def test_with_auth_on_the_document_says_how_to_authenticate(settings) -> None:
    from intake_service.app import create_app

    doc = create_app(settings.model_copy(update={"auth": "api-key"})).openapi()
    assert set(doc["components"]["securitySchemes"]) == {"ApiKey", "Bearer"}
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method in item:
                open_route = item[method]["tags"] == ["health"]
                assert ("security" in item[method]) != open_route, f"{method} {path}"
                assert open_route or {"401", "403"} <= set(item[method]["responses"]), f"{method} {path}"


async def test_with_auth_off_the_document_asks_for_no_key(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/openapi.json")).json()
    assert "securitySchemes" not in doc["components"]
    assert not any("security" in op for item in doc["paths"].values() for op in item.values() if isinstance(op, dict))


# --- OPTIONS and Allow ---------------------------------------------------------------------------------


def allowed(response: httpx.Response) -> set[str]:
    return {m.strip() for m in response.headers["allow"].split(",")}


async def test_options_lists_every_method_of_every_path(client: httpx.AsyncClient, workspace: str) -> None:
    """Exactly the document's methods; a fixed path (/evaluations/pivot) is matched before the template
    it also matches (/evaluations/{name}), as OpenAPI matches paths, so it lists its own alone."""
    for document in ("/openapi.json", "/nemo-0.4/openapi.json"):
        doc = (await client.get(document)).json()
        for template in doc["paths"]:
            path = template.replace("{workspace}", workspace)
            for placeholder in ("{name}", "{id}", "{key_name}", "{evaluator_result_id}"):
                path = path.replace(placeholder, "x")
            response = await client.options(path)
            assert response.status_code == 204, f"{path}: {response.status_code} {response.text}"
            documented = {m.upper() for m in METHODS if m in doc["paths"][template]}
            assert allowed(response) - {"HEAD"} == documented | {"OPTIONS"}, path


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_a_fixed_path_answers_its_template_methods_with_405(
    client: httpx.AsyncClient, base: str, method: str
) -> None:
    response = await client.request(method, f"{base}/evaluations/pivot", json={"name": "pivot", "dataset_name": "d"})
    assert response.status_code == 405, response.text
    assert allowed(response) == {"GET", "OPTIONS"}


async def test_a_405_lists_every_method_of_the_path(client: httpx.AsyncClient, base: str) -> None:
    response = await client.patch(f"{base}/experiments/x")
    assert response.status_code == 405
    assert allowed(response) == {"GET", "PUT", "DELETE", "OPTIONS"}


# --- a repeated query parameter ----------------------------------------------------------------------


async def list_routes(client: httpx.AsyncClient, base: str) -> list[str]:
    name = await new_experiment(client, base)
    return [
        f"{base}/experiments",
        f"{base}/experiments/{name}/sessions",
        f"{base}/evaluator-results",
        "/api/v1/experiments",
    ]


async def test_a_repeated_page_size_is_the_same_422_on_every_list_route(client: httpx.AsyncClient, base: str) -> None:
    for url in await list_routes(client, base):
        size = "limit" if "api/v1" in url else "page_size"
        response = await client.get(f"{url}?{size}=5&{size}=7")
        assert response.status_code == 422, f"{url}: {response.status_code} {response.text}"
        text = response.text
        assert "was given more than once" in text, f"{url}: {text}"


async def test_a_repeated_sort_is_refused_on_every_list_route(client: httpx.AsyncClient, base: str) -> None:
    for url in await list_routes(client, base):
        response = await client.get(url, params=[("sort", "a"), ("sort", "b")])
        assert response.status_code == 422 and "sort was given more than once" in response.text, url


async def test_set_filters_may_still_repeat(client: httpx.AsyncClient, base: str) -> None:
    params = [("filter[name][$in]", "a"), ("filter[name][$in]", "b")]
    response = await client.get(f"{base}/experiments", params=params)
    assert response.status_code == 200, response.text
    assert response.json()["filter"] == {"name": {"$in": ["a", "b"]}}


async def test_null_where_the_document_has_no_null_is_refused(client: httpx.AsyncClient, base: str) -> None:
    """A field with a default is optional, not nullable (generate-models.sh --strict-nullable)."""
    body = {"name": f"k-{uuid.uuid4().hex[:8]}", "scopes": ["intake:read"], "workspaces": None}
    assert_refused_at(await client.post("/apis/intake/v2/admin/keys", json=body), ["body", "workspaces"])
    name = await new_experiment(client, base)
    session = {"session_id": "s1", "started_at": T, "status": None}
    response = await client.post(f"{base}/experiments/{name}/sessions", json={"sessions": [session]})
    assert_refused_at(response, ["body", "sessions", 0, "status"])


async def test_document_states_the_session_time_range_and_workbench_text_rules(client: httpx.AsyncClient) -> None:
    import re

    doc = (await client.get("/openapi.json")).json()
    schemas = doc["components"]["schemas"]
    started = schemas["SessionInput"]["properties"]["started_at"]["pattern"]
    assert re.match(started, "2299-12-31T00:00:00Z") and re.match(started, "1900-01-01T00:00:00Z")
    assert not re.match(started, "2300-01-01T00:00:00Z") and not re.match(started, "1899-12-31T00:00:00Z")
    register = schemas["RegisterRequest"]["properties"]["name"]
    assert not re.search(register["pattern"], "   ") and re.search(register["pattern"], " churn model ")
    tags = schemas["TagsRequest"]["properties"]["tags"]["items"]
    assert tags["maxLength"] == 64 and not re.search(tags["pattern"], "a\x01")


# --- rules the schemathesis campaign found missing (bench/schemathesis_campaign.py) -------------------


async def test_no_query_parameter_is_nullable(client: httpx.AsyncClient) -> None:
    """A query value is text or absent: a null branch would let a client send an empty value that the
    route refuses (the evaluation sessions' filter[status]= was a 400 to a schema-valid request)."""
    doc = (await client.get("/openapi.json")).json()
    nullable = [
        f"{m.upper()} {p} {param['name']}"
        for p, item in doc["paths"].items() for m, op in item.items() if m in METHODS
        for param in op.get("parameters", [])
        if param["in"] == "query" and "null" in str(param["schema"])
    ]  # fmt: skip
    assert not nullable


EVALUATIONS = "/apis/intake/v2/workspaces/{workspace}/evaluations"
SORT_CASES = [
    ("list", "sort", "name", True), ("list", "sort", " -run_count , ,evaluators.acc.v2.p90", True),
    ("list", "sort", "tokens.mean,-cost_usd.sum", True), ("list", "sort", "", False),
    ("list", "sort", "tokens.mode", False), ("list", "sort", "name,nope", False), ("list", "sort", ",", False),
    ("list", "filter", '{"name": "x"}', True), ("list", "filter", "", False),
    ("sessions", "sort", "-tokens,test_case_id", True), ("sessions", "sort", "cost_usd.sum", False),
    ("sessions", "filter[status]", "error", True), ("sessions", "filter[status]", "", False),
    ("groups", "by", "session_id , trace_id", True), ("groups", "by", "trace_id,,", True),
    ("groups", "by", "", False), ("groups", "by", "trace_id,trace_id", False), ("groups", "by", "span_id", False),
    ("experiment-groups", "filter", '{"name": "x"}', True), ("experiment-groups", "filter", "", False),
]  # fmt: skip


@pytest.mark.parametrize(("route", "name", "value", "valid"), SORT_CASES)
async def test_list_query_rules_in_the_document_are_the_rules_the_server_applies(
    client: httpx.AsyncClient, workspace: str, route: str, name: str, value: str, valid: bool
) -> None:
    import re

    path, method = {
        "list": (EVALUATIONS, "get"),
        "sessions": (f"{EVALUATIONS}/{{name}}/sessions", "get"),
        "groups": ("/apis/intake/v2/workspaces/{workspace}/spans/groups", "get"),
        "experiment-groups": ("/apis/intake/v2/workspaces/{workspace}/experiment-groups", "get"),
    }[route]
    doc = (await client.get("/openapi.json")).json()
    schema = schema_of(doc, path, method, name)
    documented = len(value) >= schema.get("minLength", 0) and value in schema.get("enum", [value])
    documented = documented and bool(re.search(schema.get("pattern", ""), value))
    assert documented is valid
    url = path.replace("{workspace}", workspace).replace("{name}", "no-such-evaluation")
    response = await client.get(url, params={name: value})
    # The sessions of an evaluation that does not exist: a schema-valid query is a 404, not a 400.
    assert (response.status_code in (200, 404)) is valid, response.text


async def test_an_evaluation_patch_takes_what_the_document_says_of_its_groups(
    client: httpx.AsyncClient, base: str
) -> None:
    doc = (await client.get("/openapi.json")).json()
    ids = doc["components"]["schemas"]["EvaluationPatchRequest"]["properties"]["experiment_ids"]
    assert {"type": "null"} in ids["anyOf"] and any(branch.get("minItems") == 1 for branch in ids["anyOf"])
    group = await client.post(f"{base}/experiment-groups", json={"name": f"g-{uuid.uuid4().hex[:6]}"})
    assert group.status_code == 201, group.text
    created = await client.post(
        f"{base}/evaluations", json={"name": "ev", "dataset_name": "d", "experiment_ids": [group.json()["id"]]}
    )
    assert created.status_code == 201, created.text
    refused = await client.patch(f"{base}/evaluations/ev", json={"experiment_ids": []})
    assert_refused_at(refused, ["body", "experiment_ids"])
    # null keeps the groups, as an absent field does (it was a 400 to a schema-valid body).
    kept = await client.patch(f"{base}/evaluations/ev", json={"experiment_ids": None, "description": "x"})
    assert kept.status_code == 200, kept.text
    assert kept.json()["experiment_ids"] == [group.json()["id"]] and kept.json()["description"] == "x"


async def test_workbench_run_id_and_step_rules_are_in_the_document(client: httpx.AsyncClient) -> None:
    import re

    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    pattern = schemas["CreateRequest"]["properties"]["run_id"]["pattern"]
    assert re.search(pattern, "run-1:a.b_c") and not re.search(pattern, "") and not re.search(pattern, "-run")
    response = await client.post("/api/v1/experiments", json={"experiment_name": "e", "run_id": ""})
    assert response.status_code == 422, response.text
    step = schemas["MetricPoint"]["properties"]["step"]
    [bounds] = [b for b in step.get("anyOf", [step]) if "maximum" in b]
    # Within 2**53, so a validator that reads numbers as doubles compares steps exactly.
    assert bounds["maximum"] == 2**53 - 1 and bounds["minimum"] == -(2**53 - 1)


DEFAULT_SORTS = [
    ("-evaluators.acc.mean, name", True), ("tokens.p90", True), ("run_count,,", True),
    ("accuracy", False), ("cost_usd.mode", False), ("evaluators.mean", False), (" , ", False),
]  # fmt: skip


@pytest.mark.parametrize(("default_sort", "valid"), DEFAULT_SORTS)
async def test_a_group_default_sort_is_what_the_document_says(
    client: httpx.AsyncClient, base: str, default_sort: str, valid: bool
) -> None:
    """Checked by the domain with NeMo's 400, and stated in the document all the same."""
    import re

    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    pattern = schemas["ExperimentGroupRequest"]["properties"]["default_sort"]["pattern"]
    assert bool(re.search(pattern, default_sort)) is valid
    body = {"name": f"g-{uuid.uuid4().hex[:6]}", "default_sort": default_sort}
    response = await client.post(f"{base}/experiment-groups", json=body)
    assert response.status_code == (201 if valid else 400), response.text


@pytest.mark.parametrize(("default_sort", "valid"), DEFAULT_SORTS)
async def test_a_container_default_sort_is_what_the_mount_document_says(
    client: httpx.AsyncClient, base: str, default_sort: str, valid: bool
) -> None:
    """The /nemo-0.4 containers are the groups: the same rule, on create and on PUT."""
    import re

    schemas = (await client.get("/nemo-0.4/openapi.json")).json()["components"]["schemas"]
    for model in ("ContainerRequest", "ContainerUpdateRequest"):
        assert bool(re.search(schemas[model]["properties"]["default_sort"]["pattern"], default_sort)) is valid
    containers = f"/nemo-0.4{base}/experiments"
    body = {"name": f"c-{uuid.uuid4().hex[:6]}", "default_sort": default_sort}
    assert (await client.post(containers, json=body)).status_code == (201 if valid else 400)
    kept = {"name": f"c-{uuid.uuid4().hex[:6]}"}
    assert (await client.post(containers, json=kept)).status_code == 201
    response = await client.put(f"{containers}/{kept['name']}", json={**kept, "default_sort": default_sort})
    assert response.status_code == (200 if valid else 400), response.text


@pytest.mark.parametrize(
    ("result", "valid"),
    [({"data_type": "NUMERIC", "value": 0.5}, True), ({"data_type": "BOOLEAN", "value": 1}, True),
     ({"data_type": "TEXT", "string_value": "ok"}, True), ({"data_type": "NUMERIC", "value": None}, False),
     ({"data_type": "BOOLEAN", "value": 0.5}, False), ({"data_type": "CATEGORICAL", "value": 1}, False),
     ({"data_type": "CATEGORICAL", "string_value": None}, False)],
)  # fmt: skip
async def test_what_an_evaluator_result_carries_is_what_the_document_says(
    client: httpx.AsyncClient, base: str, result: dict[str, Any], valid: bool
) -> None:
    import jsonschema

    doc = (await client.get("/openapi.json")).json()
    body = {"session_id": "s1", "name": "acc", **result}
    rule = {"allOf": doc["components"]["schemas"]["EvaluatorResultInput"]["allOf"]}
    assert jsonschema.Draft202012Validator(rule).is_valid(body) is valid
    response = await client.post(f"{base}/evaluator-results", json=body)
    assert response.status_code == (201 if valid else 400), response.text


@pytest.mark.parametrize(
    ("groups", "valid"),
    [({"experiment_ids": ["g"]}, True), ({"experiment_ids": [], "experiment_group_id": "g"}, True),
     ({"experiment_group_id": "g"}, True), ({"experiment_ids": None, "experiment_group_id": ""}, False),
     ({}, False)],
)  # fmt: skip
async def test_an_evaluation_names_a_group_as_the_document_says(
    client: httpx.AsyncClient, base: str, groups: dict[str, Any], valid: bool
) -> None:
    import jsonschema

    doc = (await client.get("/openapi.json")).json()
    schema = doc["components"]["schemas"]["EvaluationRequest"]
    rule = {"if": schema["if"], "else": schema["else"]}
    body = {"name": f"ev-{uuid.uuid4().hex[:6]}", "dataset_name": "d", **groups}
    assert jsonschema.Draft202012Validator(rule).is_valid(body) is valid
    response = await client.post(f"{base}/evaluations", json=body)
    # Group 'g' does not exist: a schema-valid body gets the sentence about that; one naming no group
    # is refused at the field, as NeMo 0.3.0's request model does.
    if valid:
        assert response.status_code == 400, response.text
        assert "must be created before" in response.json()["detail"]
    else:
        assert response.status_code == 422, response.text


@pytest.mark.parametrize(
    ("inner", "valid"),
    [({"trajectory_id": "b", "agent": {"name": "helper", "version": "1"}}, True), ({"trajectory_id": "b"}, False),
     ({"trajectory_id": "b", "agent": {"name": "helper", "version": "1"}, "unknown": 1}, False)],
)  # fmt: skip
@pytest.mark.parametrize("document", ["/openapi.json", "/nemo-0.4/openapi.json"])
async def test_a_subagent_of_a_subagent_is_what_the_document_says(
    client: httpx.AsyncClient, base: str, document: str, inner: dict[str, Any], valid: bool
) -> None:
    """Every level of embedded subagent trajectories is described (it was a bare object below the first)."""
    import jsonschema

    doc = (await client.get(document)).json()
    path = next(p for p in doc["paths"] if p.endswith("/ingest/atif"))
    schema = doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    name = await new_experiment(client, base)
    outer = {"trajectory_id": "a", "agent": {"name": "planner", "version": "1"}, "subagent_trajectories": [inner]}
    trajectory = {
        "schema_version": "ATIF-v1.7",
        "agent": {"name": "a", "version": "1"},
        "subagent_trajectories": [outer],
        "experiment_context": {"experiment_id": name},
    }
    assert jsonschema.Draft202012Validator({**schema, "components": doc["components"]}).is_valid(trajectory) is valid
    response = await client.post(f"{base}/ingest/atif", json=trajectory)
    assert response.status_code == (201 if valid else 422), response.text


PIVOT_CASES = [
    ("rows", "agent_version", True), ("rows", "metadata.team", True), ("rows", "", False),
    ("rows", "metadata.", False), ("rows", "team", False), ("columns", "dataset_name", True),
    ("columns", "", False), ("metric", "run_count", True), ("metric", "evaluators.acc.v2.p90", True),
    ("metric", "tokens.mean", True), ("metric", "", False), ("metric", "tokens.mode", False),
    ("metric", "evaluators..mean", False), ("filter", '{"name": "x"}', True), ("filter", "", False),
]  # fmt: skip


@pytest.mark.parametrize(("name", "value", "valid"), PIVOT_CASES)
async def test_pivot_query_rules_in_the_document_are_the_rules_the_server_applies(
    client: httpx.AsyncClient, workspace: str, name: str, value: str, valid: bool
) -> None:
    import re

    path = f"{EVALUATIONS}/pivot"
    doc = (await client.get("/openapi.json")).json()
    schema = schema_of(doc, path, "get", name)
    documented = len(value) >= schema.get("minLength", 0) and bool(re.search(schema.get("pattern", ""), value))
    assert documented is valid
    params = {"rows": "agent_name", "metric": "run_count", name: value}
    response = await client.get(path.replace("{workspace}", workspace), params=params)
    assert (response.status_code == 200) is valid, response.text


SPAN_TIMES = [("2261-06-01T00:00:00Z", True), ("1900-06-01T00:00:00Z", True), ("2262-06-01T00:00:00Z", False),
              ("1899-06-01T00:00:00Z", False)]  # fmt: skip


@pytest.mark.parametrize(("moment", "valid"), SPAN_TIMES)
@pytest.mark.parametrize("route", ["chat-completions", "spans"])
async def test_span_times_are_the_range_the_document_states(
    client: httpx.AsyncClient, base: str, route: str, moment: str, valid: bool
) -> None:
    """Chat captures and direct spans hold nanoseconds: 1900-2261, stated as the sessions' range is."""
    import jsonschema

    doc = (await client.get("/openapi.json")).json()
    path = next(p for p in doc["paths"] if p.endswith(f"/ingest/{route}"))
    schema = doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    name = await new_experiment(client, base)
    if route == "spans":
        span = {"span_id": "s", "trace_id": "t", "started_at": moment, "attributes": {"nemo.experiment.id": name}}
        body: dict[str, Any] = {"source": "langsmith", "spans": [span]}
    else:
        body = {
            "request": {"model": "m", "messages": [{"role": "user", "content": "hi"}]},
            "response": {"choices": []},
            "started_at": moment,
            "experiment_context": {"experiment_id": name},
        }
    validator = jsonschema.Draft202012Validator({**schema, "components": doc["components"]})
    assert validator.is_valid(body) is valid
    response = await client.post(f"{base}/ingest/{route}", json=body)
    assert response.status_code == (201 if valid else 422), response.text


NUL_CASES = [
    ("/openapi.json", "post", "/evaluations", {"name": "e", "dataset_name": "d", "experiment_group_id": "g",
                                              "status": "a\x00"}),
    ("/openapi.json", "post", "/evaluations", {"name": "e", "dataset_name": "d", "experiment_ids": ["g\x00"]}),
    ("/openapi.json", "post", "/experiments", {"name": "x", "dataset_name": "d", "description": "a\x00"}),
    ("/openapi.json", "post", "/experiment-groups", {"name": "g", "summary": "a\x00"}),
    ("/nemo-0.4/openapi.json", "post", "/experiments", {"name": "c", "column_layout": {"hidden": ["a\x00"]}}),
    ("/openapi.json", "post", "/experiments", {"name": "x", "dataset_name": "d", "metadata": {"a": [{"b": "\x00"}]}}),
    ("/openapi.json", "post", "/experiments", {"name": "x", "dataset_name": "d", "metadata": {"a\x00": 1}}),
    ("/nemo-0.4/openapi.json", "post", "/annotations", {"kind": "metadata", "session_id": "s",
                                                        "metadata": {"k": {"\x00": {}}}}),
    ("/openapi.json", "post", "/evaluations", {"name": "e", "dataset_name": "d", "experiment_group_id": "g",
                                              "metadata": {"team": "a\x00"}}),
]  # fmt: skip


@pytest.mark.parametrize(("document", "method", "route", "body"), NUL_CASES)
async def test_text_the_server_cannot_store_with_a_nul_is_refused_by_the_document(
    client: httpx.AsyncClient, base: str, document: str, method: str, route: str, body: dict[str, Any]
) -> None:
    import jsonschema

    doc = (await client.get(document)).json()
    path = next(p for p in doc["paths"] if p.endswith("{workspace}" + route))
    schema = doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    validator = jsonschema.Draft202012Validator({**schema, "components": doc["components"]})
    assert not validator.is_valid(body)
    assert validator.is_valid(json_loads(json_dumps(body).replace("\\u0000", "")))
    prefix = "/nemo-0.4" if document.startswith("/nemo-0.4") else ""
    response = await client.request(method, f"{prefix}{base}{route}", json=body)
    assert response.status_code == 422, response.text


async def test_a_query_value_with_a_nul_is_refused_by_both_documents(client: httpx.AsyncClient) -> None:
    import re

    for document in ("/openapi.json", "/nemo-0.4/openapi.json"):
        doc = (await client.get(document)).json()
        for item in doc["paths"].values():
            for method in METHODS:
                for parameter in item.get(method, {}).get("parameters", []):
                    value = parameter["schema"]
                    if parameter["in"] == "query" and value.get("type") == "string" and "enum" not in value:
                        assert not re.search(value["pattern"], "a\x00"), (document, parameter["name"])


def pydantic_keywords(node: Any, where: str = "") -> list[str]:
    """Where a schema holds pydantic's constraint names (ge, lt, …) instead of JSON Schema's."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("ge", "gt", "le", "lt") and not isinstance(value, dict):
                found.append(f"{where}/{key}")
            found += pydantic_keywords(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += pydantic_keywords(value, f"{where}/{index}")
    return found


@pytest.mark.parametrize("document", ["/openapi.json", "/nemo-0.4/openapi.json"])
async def test_bounds_are_stated_in_json_schema_words(client: httpx.AsyncClient, document: str) -> None:
    """A chat response's created (and its token counts) said `ge: 0`, which no validator reads."""
    doc = (await client.get(document)).json()
    assert not pydantic_keywords(doc)
    path = next(p for p in doc["paths"] if p.endswith("/ingest/chat-completions"))
    schema = doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    created = schema["properties"]["response"]["properties"]["created"]["anyOf"]
    assert {"type": "integer", "minimum": 0, "exclusiveMaximum": 2**33}.items() <= created[0].items()


async def test_atif_counts_take_whole_numbers_written_with_a_point(client: httpx.AsyncClient, base: str) -> None:
    """JSON has one number type: 106.0 is the integer the document's `integer` admits."""
    name = await new_experiment(client, base)
    trajectory = {
        "schema_version": "ATIF-v1.6",
        "agent": {"name": "a", "version": "1"},
        "steps": [{"step_id": 1, "source": "agent", "message": "hi", "timestamp": T,
                   "metrics": {"prompt_tokens": 10.0, "completion_tokens": 2}}],
        "final_metrics": {"total_completion_tokens": 106.0, "total_steps": 1.0},
        "experiment_context": {"experiment_id": name},
    }  # fmt: skip
    response = await client.post(f"{base}/ingest/atif", json=trajectory)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("params", [{"lr": {"a": ["\x00"]}}, [{"key": "lr", "value": "a\x00"}]])
async def test_workbench_params_with_a_nul_are_refused_by_the_document(client: httpx.AsyncClient, params: Any) -> None:
    import jsonschema

    doc = (await client.get("/openapi.json")).json()
    schema = doc["paths"]["/api/v1/experiments/{id}/params"]["post"]["requestBody"]["content"]["application/json"]
    validator = jsonschema.Draft202012Validator({**schema["schema"], "components": doc["components"]})
    assert not validator.is_valid({"params": params})
    assert validator.is_valid({"params": json_loads(json_dumps(params).replace("\\u0000", ""))})
    created = await client.post("/api/v1/experiments", json={"experiment_name": f"wb-{uuid.uuid4().hex[:8]}"})
    assert created.status_code == 201, created.text
    response = await client.post(f"/api/v1/experiments/{created.json()['id']}/params", json={"params": params})
    assert response.status_code == 422, response.text


@pytest.mark.parametrize("name", ["a\x14b", "   ", "x" * 256])
async def test_an_artifact_name_the_document_refuses_is_refused(client: httpx.AsyncClient, name: str) -> None:
    import jsonschema

    doc = (await client.get("/openapi.json")).json()
    schema = doc["paths"]["/api/v1/experiments/{id}/artifacts"]["post"]["requestBody"]["content"]["application/json"]
    validator = jsonschema.Draft202012Validator({**schema["schema"], "components": doc["components"]})
    body = {"name": name, "s3_key": "s3://bucket/a.csv"}
    assert not validator.is_valid(body)
    assert validator.is_valid({**body, "name": " confusion.csv "})
    created = await client.post("/api/v1/experiments", json={"experiment_name": f"wb-{uuid.uuid4().hex[:8]}"})
    assert created.status_code == 201, created.text
    response = await client.post(f"/api/v1/experiments/{created.json()['id']}/artifacts", json=body)
    assert response.status_code == 422, response.text


# Unix seconds up to 2e10 in magnitude, milliseconds beyond (pydantic's reading), and RFC 3339 text.
METRIC_TIMES = [
    ("2026-01-05T09:00:00Z", True), ("4390-01-21T17:40:01Z", False), ("1899-12-31T00:00:00Z", False),
    (1.7e9, True), (-2_208_988_800, True), (-2_208_988_801, False), (9_300_000_000, False), (2e10, False),
    (9_214_646_399.5, True), (9_214_646_400, False), (9_223_372_036_854.771, False), (1.7e12, True),
    (9.2e12, True), (-2.1e11, True), (-2.3e12, False),
]  # fmt: skip


@pytest.mark.parametrize(("timestamp", "valid"), METRIC_TIMES)
async def test_a_metric_timestamp_is_taken_as_the_document_says(
    client: httpx.AsyncClient, timestamp: Any, valid: bool
) -> None:
    import jsonschema

    doc = (await client.get("/openapi.json")).json()
    schema = doc["paths"]["/api/v1/experiments/{id}/metrics"]["post"]["requestBody"]["content"]["application/json"]
    validator = jsonschema.Draft202012Validator({**schema["schema"], "components": doc["components"]})
    body = {"metrics": [{"key": "loss", "value": 0.5, "step": 1, "timestamp": timestamp}]}
    assert validator.is_valid(body) is valid
    created = await client.post("/api/v1/experiments", json={"experiment_name": f"wb-{uuid.uuid4().hex[:8]}"})
    assert created.status_code == 201, created.text
    response = await client.post(f"/api/v1/experiments/{created.json()['id']}/metrics", json=body)
    assert (response.status_code < 300) is valid, response.text
