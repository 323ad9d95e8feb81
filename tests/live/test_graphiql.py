"""GraphiQL runs a subscription from the page (the vendored `graphql-ws` client, over the
page's own origin) and shows an event arriving after a write into `customer_badges`.

Debian's headless chromium (`tests/support/browser.py`), as in tests/graphiql/test_browser.py:
every request off the gateway is aborted and fails the test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.async_api import Page
from playwright.async_api import TimeoutError as PlaywrightTimeout

from tests.live.harness import LiveGateway, create_live_org
from tests.support.browser import WIDE, browser_page, require_chromium

SCREENSHOT = Path(__file__).resolve().parents[2] / "test-artifacts" / "graphiql-live.png"
TIMEOUT_MS = 30_000

require_chromium()


async def replace_editor(page: Page, selector: str, text: str) -> None:
    await page.click(f"{selector} .CodeMirror")
    await page.keyboard.press("Control+A")
    await page.keyboard.press("Delete")
    await page.keyboard.insert_text(text)


async def result_text(page: Page) -> str:
    text: str = await page.eval_on_selector(
        ".result-window .CodeMirror", "el => el.CodeMirror.getValue()"
    )
    return text


@pytest.mark.slow
async def test_graphiql_shows_an_event_after_a_write(live_gateway: LiveGateway) -> None:
    org = await create_live_org(live_gateway.database, live_gateway.jwt_secret)
    (customer,) = org.customers
    subscription = (
        f'subscription {{\n  badgeChanged(customer: {{id: "{customer}"}}) {{\n'
        "    kind badgeMetaId earnCount\n    badge { name earnCount }\n  }\n}"
    )
    base = live_gateway.base
    async with browser_page(base, timeout_ms=TIMEOUT_MS, viewport=WIDE) as browser:
        page = browser.page
        sockets: list[str] = []
        page.on("websocket", lambda socket: sockets.append(socket.url))

        await page.goto(base + "/graphql")
        await page.wait_for_selector(".graphiql-query-editor .CodeMirror")
        await replace_editor(page, ".graphiql-query-editor", subscription)
        await replace_editor(
            page, ".graphiql-editor-tool :visible", json.dumps(org.headers, indent=2)
        )
        # GraphiQL sends an operation over the WebSocket when its own parse of the editor (100
        # ms after the last keystroke) says it is a subscription; clicked sooner, it POSTs it
        # (and the gateway answers 406: seen once in CI, then an INTERNAL_SERVER_ERROR).
        await page.wait_for_function(
            "() => (document.querySelector('.graphiql-query-editor .CodeMirror')"
            ".CodeMirror.documentAST?.definitions ?? [])"
            ".some((d) => d.operation === 'subscription')"
        )
        await page.click("button.graphiql-execute-button")

        # Nothing says when the server listens: write the warm-up badge until its event
        # shows, then the badge under test, whose event must follow.
        platform = live_gateway.platform
        for _ in range(100):
            await platform.warm_up(org, [customer])
            try:
                await page.wait_for_function(
                    "() => document.querySelector('.result-window .CodeMirror')"
                    ".CodeMirror.getValue().includes('badgeChanged')",
                    timeout=500,
                )
                break
            except PlaywrightTimeout:  # not yet
                continue
        assert str(org.warm_up) in await result_text(page), await result_text(page)

        await platform.earn(org, customer, earn_count=3)
        await page.wait_for_function(
            "badge => document.querySelector('.result-window .CodeMirror')"
            ".CodeMirror.getValue().includes(badge)",
            arg=str(org.badge),
        )
        shown = json.loads(await result_text(page))
        assert shown == {
            "data": {
                "badgeChanged": {
                    "kind": "EARNED",
                    "badgeMetaId": str(org.badge),
                    "earnCount": 3,
                    "badge": {"name": "Birthday Badge", "earnCount": 3},
                }
            }
        }, shown
        SCREENSHOT.parent.mkdir(exist_ok=True)
        await page.screenshot(path=SCREENSHOT)
        assert sockets == [base.replace("http", "ws", 1) + "/graphql"], sockets

    assert browser.left == []
    assert browser.console_errors == []
