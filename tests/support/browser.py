"""Debian's headless Chromium, driven by Playwright's Python package, for the tests that meet
the gateway as a person does: a page that may reach only the origins it names.

Playwright's own browser download is never used (`apt-get install chromium` provides the
browser). Without chromium a browser test module is skipped locally; under CI it fails instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest
from playwright.async_api import Page, Route, ViewportSize, async_playwright

CHROMIUM = shutil.which("chromium")
# Headless as root, and nothing of Chromium's own traffic to the closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WIDE = ViewportSize(width=1400, height=900)


def require_chromium() -> None:
    """Skip the calling test module when chromium is missing, except under CI."""
    if CHROMIUM is None and not os.environ.get("CI"):
        pytest.skip("chromium not installed (apt-get install chromium)", allow_module_level=True)


@dataclass
class BrowserPage:
    page: Page
    left: list[str] = field(default_factory=list)
    """Requests to anywhere but the allowed origins: each was aborted."""
    console_errors: list[str] = field(default_factory=list)
    """The page's console errors and uncaught exceptions, as they came."""


@asynccontextmanager
async def browser_page(
    *origins: str, timeout_ms: int, viewport: ViewportSize | None = None
) -> AsyncIterator[BrowserPage]:
    """A new page in a new headless Chromium that may reach `origins` and nothing else."""
    assert CHROMIUM is not None, "chromium is required under CI (apt-get install chromium)"
    allowed = tuple(origin + "/" for origin in origins)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            opened = BrowserPage(await browser.new_page(viewport=viewport))

            async def only_the_origins(route: Route) -> None:
                if route.request.url.startswith(allowed):
                    await route.continue_()
                else:
                    opened.left.append(route.request.url)
                    await route.abort()

            page = opened.page
            page.set_default_timeout(timeout_ms)
            await page.route("**/*", only_the_origins)
            page.on(
                "console",
                lambda m: opened.console_errors.append(m.text) if m.type == "error" else None,
            )
            page.on("pageerror", lambda e: opened.console_errors.append(str(e)))
            yield opened
        finally:
            await browser.close()
