"""GET / leads a person who opens the bare address to the API docs, and stays out of the schema."""


async def test_root_redirects_to_the_docs(client):
    response = await client.get("/")
    assert response.status_code == 307
    assert response.headers["location"] == "/docs"
    assert (await client.get(response.headers["location"])).status_code == 200


async def test_root_is_not_in_the_openapi_schema(client):
    assert "/" not in (await client.get("/openapi.json")).json()["paths"]
