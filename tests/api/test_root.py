"""GET / is the pages' workspaces list (HTML, no data of its own), and stays out of the schema."""


async def test_root_serves_the_workspaces_page(client):
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>Workspaces</h1>" in response.text
    # Scripts and styles come from the service itself.
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert (await client.get("/ui/static/app.js")).status_code == 200
    assert (await client.get("/docs")).status_code == 200


async def test_root_is_not_in_the_openapi_schema(client):
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert "/" not in paths
    assert not [path for path in paths if path.startswith("/ui")]
