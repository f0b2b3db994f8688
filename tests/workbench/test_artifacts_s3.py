"""The S3 artifact store against a real S3-compatible server: moto's server mode on a loopback port,
with ARTIFACT_STORE_URL=s3://bucket/prefix and the endpoint from AWS_ENDPOINT_URL_S3."""

import base64
import hashlib
import os
from collections.abc import AsyncIterator, Iterator

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from support import WORKBENCH_API as API
from support import client_for, create_in_workbench, ok, problem

BUCKET, PREFIX = "wb-artifacts", "tenant-a/artifacts"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            "AWS_ENDPOINT_URL_S3": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }.items():
            patch.setenv(name, value)
        patch.delenv("AWS_PROFILE", raising=False)
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        yield endpoint
    server.stop()


@pytest.fixture(scope="module")
async def s3_http(settings, s3_endpoint) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(settings, artifact_store_url=f"s3://{BUCKET}/{PREFIX}/") as client:
        client.headers["X-Organization-Id"] = "s3-org"
        yield client


def keys(prefix: str) -> list[str]:
    listed = boto3.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return sorted(item["Key"] for item in listed.get("Contents", []))


async def test_bytes_round_trip_through_the_bucket(s3_http) -> None:
    made = await create_in_workbench(s3_http, name=f"s3-{os.urandom(4).hex()}", run_name="r")
    exp, run = made["id"], made["run_id"]
    data = os.urandom(300_000)
    artifact = ok(
        await s3_http.post(
            f"{API}/{run}/artifacts",
            json={
                "name": "weights.bin",
                "path": "models/weights.bin",
                "type": "model",
                "content_base64": base64.b64encode(data).decode(),
            },
        )
    )["artifact"]
    key = f"{PREFIX}/s3-org/{exp}/{run}/models/weights.bin"
    assert artifact["s3_key"] == key and artifact["sha256"] == hashlib.sha256(data).hexdigest()
    stored = boto3.client("s3").get_object(Bucket=BUCKET, Key=key)
    assert stored["Body"].read() == data and stored["ContentType"] == "application/octet-stream"

    download = await s3_http.get(f"{API}/{run}/artifacts/content", params={"path": "models/weights.bin"})
    assert download.status_code == 200 and download.content == data
    assert download.headers["x-artifact-sha256"] == hashlib.sha256(download.content).hexdigest()

    assert (await s3_http.delete(f"{API}/{exp}")).status_code == 204
    assert keys(f"{PREFIX}/s3-org/{exp}/") == []


async def test_missing_object_is_404(s3_http) -> None:
    made = await create_in_workbench(s3_http, name=f"s3-{os.urandom(4).hex()}", run_name="r")
    ok(await s3_http.post(f"{API}/{made['run_id']}/artifacts", json={"name": "a.txt", "content_base64": "YQ=="}))
    key = f"{PREFIX}/s3-org/{made['id']}/{made['run_id']}/a.txt"
    boto3.client("s3").delete_object(Bucket=BUCKET, Key=key)
    assert problem(await s3_http.get(f"{API}/{made['run_id']}/artifacts/content", params={"path": "a.txt"}), 404) == (
        "Artifact 'a.txt' not found."
    )


async def test_unreachable_bucket_is_503_and_stores_nothing(settings, s3_endpoint) -> None:
    async with client_for(settings, artifact_store_url="s3://no-such-bucket/x") as client:
        client.headers["X-Organization-Id"] = "s3-org"
        made = await create_in_workbench(client, name=f"s3-{os.urandom(4).hex()}", run_name="r")
        response = await client.post(
            f"{API}/{made['run_id']}/artifacts", json={"name": "a.txt", "content_base64": "YQ=="}
        )
        assert problem(response, 503) == "Artifact store unavailable."
        assert ok(await client.get(f"{API}/{made['run_id']}/artifacts"))["artifacts"] == []
