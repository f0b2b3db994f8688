"""The browser the page tests drive: Debian's Chromium (headless, /usr/bin/chromium; .ci/run installs
it) through Playwright, one per module. Each test gets a fresh context whose every request is
recorded: at its end none may have left 127.0.0.1 and no script may have thrown."""

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, async_playwright

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium calls Google's hosts at start (refused here).
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic", "--no-first-run",
    "--disable-component-update", "--disable-sync",
]
# INTAKE_SCREENSHOTS=docs/screenshots keeps each page's picture there (how the README's are made).
SCREENSHOTS = os.environ.get("INTAKE_SCREENSHOTS")


@pytest_asyncio.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)"
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        await chromium.close()


@pytest.fixture(scope="module")
def requested() -> list[str]:
    """Every URL any page of the module asked for."""
    return []


@pytest_asyncio.fixture
async def page(browser: Browser, requested: list[str]) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1360, "height": 900})
    mine: list[str] = []
    context.on("request", lambda request: mine.append(request.url))
    errors: list[str] = []
    tab = await context.new_page()
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    await context.close()
    requested.extend(mine)
    assert not [url for url in mine if urlsplit(url).hostname != "127.0.0.1"], mine
    assert not errors, errors


@pytest.fixture
def screenshot() -> Callable[[Page, str], Awaitable[None]]:
    """`await screenshot(page, name)` keeps the page's picture when INTAKE_SCREENSHOTS names a folder."""

    async def take(page: Page, name: str) -> None:
        if SCREENSHOTS:
            Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)

    return take
