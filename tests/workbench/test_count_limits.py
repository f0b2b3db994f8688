"""Issue 11, finding 2 (event-loop stalls), on the workbench API: params, final metrics and step
metrics have count limits, and a JSON body is counted before it is parsed."""

from support import WORKBENCH_API as API
from support import ok, problem


async def test_event_loop_stalls_workbench_params_and_metrics_are_counted(wb) -> None:
    run = ok(await wb.post(API, json={"name": "limits", "run_name": "r"}), 201)["run_id"]
    too_many = {f"p{i}": i for i in range(1001)}
    assert problem(await wb.post(f"{API}/{run}/params", json={"params": too_many}), 422) == (
        "params may hold at most 1,000 keys."
    )
    half = {f"a{i}": i for i in range(600)}
    assert ok(await wb.post(f"{API}/{run}/params", json={"params": half})) == {"logged": 600}
    more = {f"b{i}": i for i in range(600)}
    assert problem(await wb.post(f"{API}/{run}/params", json={"params": more}), 422) == (
        "A run may hold at most 1,000 params."
    )
    listed = [{"key": f"m{i}", "value": 1.0} for i in range(1001)]
    assert "at most 1,000 keys" in problem(await wb.put(f"{API}/{run}", json={"final_metrics": listed}), 422)
    points = [{"key": "loss", "value": 1.0}] * 10_001
    assert problem(await wb.post(f"{API}/{run}/metrics", json={"metrics": points}), 422)


async def test_event_loop_stalls_json_bodies_are_counted_before_parsing(wb, client, base) -> None:
    empty_objects = b'{"params": [' + b",".join([b"{}"] * 1_000_001) + b"]}"
    response = await wb.post(f"{API}/x/params", content=empty_objects, headers={"content-type": "application/json"})
    assert problem(response, 413) == "A JSON body may hold at most 1,000,000 objects, arrays and commas."
    response = await client.post(
        f"{base}/experiments", content=empty_objects, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413, response.text
