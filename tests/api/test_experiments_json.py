"""GET of an experiment and a page of them answer orjson's encoding of the response fields
(api/responses.json_response), not the model's: the bytes must say what the model's would."""

import orjson

from intake_service.models.generated import ExperimentResponse, ExperimentResponsesPage

from support import create_experiment, exp_url, ingest_ok, ok


def sessions(prefix: str, count: int) -> list[dict]:
    return [
        {
            "session_id": f"{prefix}-{i}",
            "started_at": "2026-01-01T00:00:00.123456Z",
            "latency_ms": 100.5 + i,
            "cost_usd": 1e-7 * (i + 1),
            "model_name": "m",
            "scores": {"accuracy": i % 2, "é ü": 0.1 * i, "judge": 1e20},
        }
        for i in range(count)
    ]


async def test_an_experiment_and_a_page_say_what_their_models_say(client, base) -> None:
    await create_experiment(client, base, "plain")
    await create_experiment(
        client, base, "rich", metadata={"nested": {"list": [1, 2.5, None, True, "ü"]}, "tiny": 5e-324, "i": 2**63 - 1},
        description="ünïcode \u2028 line", agent_name="a", agent_version="1",
    )  # fmt: skip
    await ingest_ok(client, base, "rich", sessions("s", 7))
    ok(await client.post(exp_url(base, "rich", "/pin")))

    for name in ("plain", "rich"):
        response = await client.get(exp_url(base, name))
        body = ok(response)
        assert response.headers["content-type"] == "application/json"
        model = ExperimentResponse.model_validate(body)
        assert body == orjson.loads(model.model_dump_json())  # nothing the model would add, drop or change
    rich = ok(await client.get(exp_url(base, "rich")))
    assert rich["pinned_at"].endswith("Z") and rich["run_count"] == 7 and rich["aggregate_scores"]["é ü"]["count"] == 7

    for params in ({"page_size": 10}, {"sort": "-evaluators.accuracy.mean"}, {"filter[name]": "rich"}):
        body = ok(await client.get(f"{base}/experiments", params=params))
        assert body == orjson.loads(ExperimentResponsesPage.model_validate(body).model_dump_json())
        assert [row["name"] for row in body["data"]] == (["rich"] if "filter[name]" in params else ["rich", "plain"])

    # An integer orjson cannot encode: the model encodes that response.
    await create_experiment(client, base, "huge", metadata={"big": 2**70})
    assert ok(await client.get(exp_url(base, "huge")))["metadata"] == {"big": 2**70}
    page = ok(await client.get(f"{base}/experiments", params={"sort": "name"}))
    assert [row["name"] for row in page["data"]] == ["rich", "huge", "plain"]
    assert page["data"][1]["metadata"] == {"big": 2**70}
