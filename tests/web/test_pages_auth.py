"""With INTAKE_AUTH=api-key the pages ask for a key, keep it for the browser tab (sessionStorage),
show only the workspaces it may read, and offer no write it lacks."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, expect

from support import Server, cli, ok, workspace_base


def key(data_dir: Path, name: str, *options: str) -> str:
    result = cli("keys", "create", name, *options, "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str, str]]:
    """A server with a writer for every workspace (which seeds) and a reader of `team` alone."""
    data_dir = tmp_path_factory.mktemp("pages-auth") / "data"
    writer = key(data_dir, "writer", "--scope", "intake:write", "--scope", "intake:read")
    reader = key(data_dir, "reader", "--scope", "intake:read", "--workspace", "team")
    with Server(data_dir, env={"INTAKE_AUTH": "api-key"}) as server:
        for workspace in ("team", "secret"):
            with httpx.Client(base_url=server.url + workspace_base(workspace), headers={"X-API-Key": writer}) as http:
                group = ok(http.post("/experiment-groups", json={"name": f"{workspace}-group"}), 201)
                body = {"name": f"{workspace}-run", "dataset_name": "qa", "experiment_ids": [group["id"]]}
                ok(http.post("/evaluations", json=body), 201)
        yield server, reader, writer


async def test_the_pages_ask_for_a_key_and_keep_it_for_the_tab(page: Page, keyed: tuple[Server, str, str]) -> None:
    server, reader, writer = keyed
    await page.goto(server.url + "/")
    dialog = page.locator("#key-dialog")
    await expect(dialog).to_be_visible()
    await page.fill("#key-input", "isk_0123456789abcdef_wrong")
    await page.click("#key-form button")
    await expect(page.locator("#key-problem")).to_contain_text("not valid")
    await page.fill("#key-input", reader)
    await page.click("#key-form button")
    # Only the workspace the key may read.
    await expect(page.locator("#workspaces tbody tr")).to_have_count(1)
    await expect(page.locator("#workspaces tbody")).to_contain_text("team")
    await expect(page.locator("#caller")).to_have_text("key: reader")
    assert await page.evaluate("sessionStorage.getItem('intake-api-key')") == reader
    await page.get_by_role("link", name="team").click()
    await expect(page.locator("#runs tbody tr")).to_have_count(1)
    # Kept for the tab: no second prompt, and a read-only key is offered no pin.
    await expect(dialog).to_be_hidden()
    await expect(page.locator("#runs button.pin")).to_have_count(0)
    await page.get_by_role("link", name="team-group").click()
    await expect(page.locator("#leaderboard tbody tr")).to_have_count(1)
    await expect(page.locator("#leaderboard button.pin")).to_have_count(0)
    # Another workspace's page shows the API's refusal, not its data.
    await page.goto(f"{server.url}/ui/workspaces/secret")
    await expect(page.locator("#error")).to_contain_text("403")
    await expect(page.locator("#runs tbody tr")).to_have_count(0)
    # Forget the key: the next page asks again, and a writer's key is offered the pin.
    await page.click("#forget-key")
    await expect(dialog).to_be_visible()
    await page.fill("#key-input", writer)
    await page.click("#key-form button")
    await page.goto(f"{server.url}/ui/workspaces/team/containers/team-group")
    await expect(page.locator("#leaderboard button.pin")).to_have_count(1)
