"""Bad input: a 4xx whose body is one plain sentence, and nothing stored."""

import json

import pytest

from support import WORKBENCH_API as API
from support import create_in_workbench, ok, problem


@pytest.fixture
async def run(wb) -> dict:
    return await create_in_workbench(wb, name="target", run_name="r")


async def stored_counts(wb, run: dict) -> tuple[int, int, int, list]:
    stats = ok(await wb.get(f"{API}/stats"))["total"]
    metrics = ok(await wb.get(f"{API}/{run['run_id']}/metrics"))["count"]
    artifacts = ok(await wb.get(f"{API}/{run['run_id']}/artifacts"))["artifacts"]
    detail = ok(await wb.get(f"{API}/{run['run_id']}"))
    return stats, metrics, len(artifacts), [detail["parameters"], detail["status"], detail["errorMessage"]]


def raw(text: str) -> dict:
    return {"content": text, "headers": {"Content-Type": "application/json"}}


METRICS = "metrics"
CASES = [
    # (method, path under the run or the API, request kwargs, status, sentence or its start)
    ("post", API, {"json": {"name": "x", "status": "paused"}}, 422, "status: input should be"),
    (
        "post",
        API,
        {"json": {"name": "x", "final_metrics": {"acc": "high"}}},
        422,
        "The value of 'acc' in final_metrics must be a finite number.",
    ),
    (
        "post",
        API,
        {"json": {"name": "x", "parameters": [{"k": "a"}]}},
        422,
        'parameters must be an object or an array of {"key", "value"} objects.',
    ),
    (
        "post",
        API,
        {"json": {"name": "x", "parameters": [{"key": "a", "value": 1}, {"key": "a", "value": 2}]}},
        422,
        "The key 'a' appears twice in parameters.",
    ),
    ("post", API, {"json": {"name": "x", "duration_seconds": -1}}, 422, "duration_seconds: input should be greater"),
    ("post", API, raw('{"name": "x",'), 422, "The request body is not valid JSON."),
    (
        "post",
        API,
        raw('{"name": "x", "description": "a\\u0000b"}'),
        422,
        "The request body must not contain NUL (\\u0000) characters.",
    ),
    (
        "post",
        API,
        raw('{"name": "x", "parameters": {"k": "\\ud800"}}'),
        422,
        "The request body must be valid Unicode text",
    ),
    ("post", API, {"json": {"name": "x", "framework": "f" * 256}}, 422, "framework: string should have at most 255"),
    ("get", API + "/exp_%00", {}, 422, "The id must not contain NUL"),
    ("get", API, {"params": {"search": "a\x00"}}, 422, "search must not contain NUL"),
    (
        "post",
        API,
        {"json": {"name": "x"}, "headers": {"X-Organization-Id": "Not Valid!"}},
        422,
        "X-Organization-Id must be",
    ),
    ("put", "{run}", {"json": {"error_message": "boom"}}, 422, "error_message is only accepted with status 'failed'."),
    ("put", "{run}", {"json": {"status": "completed", "error_message": "boom"}}, 422, "error_message is only accepted"),
    ("put", "{run}", {"json": {"status": "stopped"}}, 422, "status: input should be"),
    (
        "post",
        "{run}/metrics",
        raw('{"metrics": [{"key": "a", "value": 1, "step": 0}, {"key": "a", "value": NaN}]}'),
        422,
        "metrics[1].value: input should be a finite number.",
    ),
    (
        "post",
        "{run}/metrics",
        raw('{"metrics": [{"key": "a", "value": Infinity}]}'),
        422,
        "metrics[0].value: input should be a finite number.",
    ),
    (
        "post",
        "{run}/metrics",
        raw('{"metrics": [{"key": "a", "value": -1e999}]}'),
        422,
        "metrics[0].value: input should be a finite number.",
    ),
    (
        "post",
        "{run}/metrics",
        {"json": {"metrics": [{"key": "a", "value": "0.5"}]}},
        422,
        "metrics[0].value: input should be a valid number.",
    ),
    (
        "post",
        "{run}/metrics",
        {"json": {"metrics": [{"key": "a", "value": True}]}},
        422,
        "metrics[0].value: input should be a valid number.",
    ),
    ("post", "{run}/metrics", {"json": {"metrics": [{"key": "a"}]}}, 422, "metrics[0].value is required."),
    ("post", "{run}/metrics", {"json": {"metrics": [{"key": "", "value": 1}]}}, 422, "metrics[0].key: "),
    ("post", "{run}/metrics", {"json": {"metrics": []}}, 422, "metrics: list should have at least 1 item"),
    (
        "post",
        "{run}/metrics",
        {"json": {"metrics": [{"key": "a", "value": 1, "step": i} for i in range(10_001)]}},
        422,
        "metrics: list should have at most 10000 items",
    ),
    ("post", "{run}/metrics", {"json": {"values": []}}, 422, "metrics is required."),
    (
        "post",
        "{run}/metrics",
        {"json": {"metrics": [{"key": "a", "value": 1, "timestamp": "0001-01-01T00:00:00+01:00"}]}},
        422,
        "metrics[0].timestamp must fall in the years 1900 to 2261.",
    ),
    (
        "post",
        "{run}/metrics",
        raw('{"metrics": [{"key": "\\ud800", "value": 1}]}'),
        422,
        "metrics[0].key: input should be a valid string",
    ),
    ("post", "{run}/params", raw('{"params": {"a\\u0000": 1}}'), 422, "params must not contain NUL"),
    (
        "post",
        "{run}/artifacts",
        {"json": {"name": "a.bin", "s3_key": "k\x00"}},
        422,
        "The request body must not contain NUL",
    ),
    ("post", "{run}/params", {"json": {"params": "lr=0.1"}}, 422, "params must be an object or an array"),
    ("post", "{run}/params", {"json": {}}, 422, "params is required."),
    (
        "post",
        "{run}/artifacts",
        {"json": {"name": "a.bin", "content_base64": "not*base64!"}},
        422,
        "content_base64 is not valid base64.",
    ),
    (
        "post",
        "{run}/artifacts",
        {"json": {"name": "a.bin", "content_base64": "QUJD", "path": "../escape.bin"}},
        422,
        "An artifact path must be relative",
    ),
    (
        "post",
        "{run}/artifacts",
        {"json": {"name": "a.bin", "content_base64": "QUJD", "path": "models/../../x"}},
        422,
        "An artifact path must be relative",
    ),
    (
        "post",
        "{run}/artifacts",
        {"json": {"name": "a.bin", "content_base64": "QUJD", "path": "/etc/x"}},
        422,
        "An artifact path must be relative",
    ),
    (
        "post",
        "{run}/artifacts",
        {"json": {"name": "..", "content_base64": "QUJD"}},
        422,
        "An artifact path must be relative",
    ),
    (
        "post",
        "{run}/artifacts",
        {"json": {"name": "a.bin", "content_base64": "QUJD", "s3_key": "k"}},
        422,
        "Give exactly one of s3_key or content_base64.",
    ),
    ("post", "{run}/artifacts", {"json": {"name": "a.bin"}}, 422, "Give exactly one of s3_key or content_base64."),
    (
        "post",
        "{run}/artifacts",
        {"json": {"name": "a.bin", "s3_key": "k", "type": "video"}},
        422,
        "type: input should be",
    ),
    ("post", "{run}/artifacts", {"json": {"s3_key": "k"}}, 422, "name is required."),
]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "sentence"), CASES, ids=[f"{c[0]} {c[1]} {c[4][:40]}" for c in CASES]
)
async def test_bad_input_is_one_sentence_and_stores_nothing(wb, run, method, path, kwargs, status, sentence) -> None:
    before = await stored_counts(wb, run)
    url = path.replace("{run}", f"{API}/{run['run_id']}")
    detail = problem(await getattr(wb, method)(url, **kwargs), status)
    assert detail.startswith(sentence), detail
    assert await stored_counts(wb, run) == before


async def test_too_large_artifact_is_413_and_stores_nothing(wb, run, settings) -> None:
    import base64

    content = base64.b64encode(b"\0" * (25 * 1024 * 1024 + 1)).decode()
    response = await wb.post(f"{API}/{run['run_id']}/artifacts", json={"name": "big.bin", "content_base64": content})
    assert problem(response, 413) == "The artifact content exceeds 26214400 bytes (25 MiB) after decoding."
    assert ok(await wb.get(f"{API}/{run['run_id']}/artifacts"))["artifacts"] == []
    folder = settings.data_dir / "artifacts" / wb.headers["X-Organization-Id"]
    assert not folder.exists() or not any(p.is_file() for p in folder.rglob("*"))


async def test_metric_batch_is_all_or_nothing(wb, run) -> None:
    body = json.dumps({"metrics": [{"key": "a", "value": 1.0, "step": 1}]})
    ok(await wb.post(f"{API}/{run['run_id']}/metrics", **raw(body)))
    assert ok(await wb.get(f"{API}/{run['run_id']}/metrics", params={"key": "a"}))["count"] == 1


async def test_a_run_into_an_existing_experiment_still_checks_tags_and_principals(wb) -> None:
    """The experiment keeps its own tags and shares, but a body that breaks their rules is refused
    (an empty principal was accepted when the experiment existed)."""
    await create_in_workbench(wb, experiment_name="churn", run_name="first")
    body = {"experiment_name": "churn", "run_name": "second", "shared_with": [""]}
    assert problem(await wb.post(API, json=body), 422) == (
        "Each shared_with entry must name a principal in 1-255 characters."
    )
    assert ok(await wb.get(f"{API}/stats"))["total"] == 1
