"""GraphiQL in a real headless Chromium, against the real app over HTTP, with no way out.

Every request the page makes that is not to the gateway is aborted and fails the test, so this
is what a person on an air-gapped network sees (Debian's chromium: `tests/support/browser.py`).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page, Request

from gql_badges.app import create_app
from gql_badges.demo.handles import SWATI
from gql_badges.services import Services
from tests.support import make_settings, served_in_thread
from tests.support.browser import WIDE, browser_page, require_chromium

SCREENSHOT = Path(__file__).resolve().parents[2] / "test-artifacts" / "graphiql.png"
QUERY = f"""{{
  customerBadges(customer: {{id: "{SWATI.key}"}}, badgeType: EARNED) {{
    badges {{ name badgeGroupName earnedCount }}
  }}
}}"""
TIMEOUT_MS = 15_000

require_chromium()


@pytest.fixture
async def gateway(services: Services, demo: object, mongo_uri: str) -> AsyncIterator[str]:
    """The real app under uvicorn on a free loopback port, over the demo data."""
    settings = make_settings(services.settings.driver, database=services.settings.database)
    with served_in_thread(create_app(settings, uri=mongo_uri)) as base:
        yield base


async def editor_text(page: Page, selector: str) -> str:
    """The text of one of GraphiQL's CodeMirror editors (the DOM renders only visible lines)."""
    text: str = await page.eval_on_selector(
        f"{selector} .CodeMirror", "el => el.CodeMirror.getValue()"
    )
    return text


@pytest.mark.slow  # a headless Chromium
async def test_graphiql_works_offline_in_a_real_browser(
    gateway: str, org_b_auth: dict[str, str]
) -> None:
    sent_headers: list[str] = []

    def record_headers(request: Request) -> None:
        if request.method == "POST":
            sent_headers.extend(request.headers)

    async with browser_page(gateway, timeout_ms=TIMEOUT_MS, viewport=WIDE) as browser:
        page = browser.page
        page.on("request", record_headers)
        await page.goto(gateway + "/graphql")
        assert await page.title() == "gql-badges"
        await page.wait_for_selector(".graphiql-query-editor .CodeMirror")
        assert "customerBadges(customer: {email:" in await editor_text(
            page, ".graphiql-query-editor"
        )

        # Docs: the schema arrived through GraphiQL's own introspection query.
        await page.click("button[aria-label='Show Documentation Explorer']")
        docs = page.locator(".graphiql-doc-explorer")
        await docs.get_by_text("Query", exact=True).click()
        await docs.get_by_text("customerBadges", exact=True).wait_for()

        # Explorer plugin: opens and lists the root fields.
        await page.click("button[aria-label='Show GraphiQL Explorer']")
        explorer = page.locator(".graphiql-explorer-root")
        await explorer.get_by_text("customerBadges", exact=True).first.wait_for()
        await explorer.get_by_text("badgeManagement", exact=True).first.wait_for()

        # The commented-out example header parses (GraphiQL reads the pane as strict JSON) and
        # is not sent: the default query runs and the gateway asks for credentials.
        await page.click("button.graphiql-execute-button")
        await page.wait_for_function(
            "() => document.querySelector('.result-window .CodeMirror')"
            ".CodeMirror.getValue().includes('UNAUTHENTICATED')"
        )
        assert not [name for name in sent_headers if name.startswith("#")]

        # A query typed into the editor, with a Basic header typed into the headers pane.
        await page.click(".graphiql-query-editor .CodeMirror")
        await page.keyboard.press("Control+A")
        await page.keyboard.press("Delete")
        await page.keyboard.insert_text(QUERY)
        assert await editor_text(page, ".graphiql-query-editor") == QUERY
        headers = json.dumps(org_b_auth, indent=2)
        await page.click(".graphiql-editor-tool .CodeMirror:visible")
        await page.keyboard.press("Control+A")
        await page.keyboard.press("Delete")
        await page.keyboard.insert_text(headers)
        assert await editor_text(page, ".graphiql-editor-tool :visible") == headers

        await page.click("button.graphiql-execute-button")
        await page.wait_for_function(
            "() => document.querySelector('.result-window .CodeMirror')"
            ".CodeMirror.getValue().includes('earnedCount')"
        )
        result = await editor_text(page, ".result-window")
        assert '"name"' in result and '"errors"' not in result, result
        SCREENSHOT.parent.mkdir(exist_ok=True)
        await page.screenshot(path=SCREENSHOT)

        # The typed credential is nowhere in localStorage.
        stored = await page.evaluate("() => JSON.stringify(Object.entries(localStorage))")
        token = org_b_auth["Authorization"].split()[1]
        assert "graphiql" in stored  # GraphiQL did write its state there
        assert token not in stored

    assert browser.left == []
    assert browser.console_errors == []
