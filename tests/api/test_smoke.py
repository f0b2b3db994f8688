async def test_create_then_get(client, base):
    created = await client.post(f"{base}/experiments", json={"name": "e 1", "dataset_name": "d"})
    assert created.status_code == 201, created.text
    got = await client.get(f"{base}/experiments/e%201")
    assert got.status_code == 200
    assert got.json()["id"] == created.json()["id"]
