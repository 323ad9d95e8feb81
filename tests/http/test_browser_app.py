"""A browser app on another origin calling the gateway, in a real headless Chromium.

The app's page is served from an origin the gateway lists (`GQL_BADGES_CORS_ORIGINS`), by a
server of its own; its script calls `/graphql`, both REST URIs and the OAuth
endpoint with `fetch` and credentials in headers, and reads `X-Request-Id`. The same script from
an origin the gateway does not list is refused by the browser itself. GraphiQL, on the gateway's
own origin, still runs queries. Chromium is Debian's (`tests/support/browser.py`).

The app's servers listen on loopback like the gateway, on ports of their own (so other origins):
Chromium refuses a page it thinks public (one Playwright made up, with no address) any request to
a loopback address ("Local Network Access"), whatever the CORS headers say.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request as StarletteRequest
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from gql_badges.app import create_app
from gql_badges.demo.handles import ORG_B_CLIENT, SWATI
from gql_badges.services import Services
from tests.support import CUSTOMER, MANAGEMENT, make_settings, served_in_thread
from tests.support.browser import browser_page, require_chromium

TIMEOUT_MS = 15_000
QUERY = f'{{ customerBadges(customer: {{id: "{SWATI.key}"}}) {{ badges {{ name }} }} }}'

# What the app page runs: each call as a frontend writes it; what it could read, or the error.
APP_SCRIPT = """
async ({gateway, authorization, customer, email, key, secret, query}) => {
  const read = async (response) => ({
    status: response.status,
    requestId: response.headers.get("X-Request-Id"),
    body: await response.json(),
  });
  const attempt = async (call) => {
    try { return await call(); } catch (error) { return {error: String(error)}; }
  };
  const json = {"Content-Type": "application/json"};
  const results = {};
  results.graphql = await attempt(async () => read(await fetch(gateway + "/graphql", {
    method: "POST",
    headers: {...json, Authorization: authorization, "apollo-require-preflight": "true"},
    body: JSON.stringify({query}),
  })));
  results.customer = await attempt(async () => read(await fetch(
    gateway + customer.path, {headers: {Authorization: authorization}})));
  results.management = await attempt(async () => read(await fetch(
    gateway + customer.management + encodeURIComponent(email),
    {headers: {Authorization: authorization, "X-CAP-CUSTOMER-IDENTIFIER": "email"}})));
  results.token = await attempt(async () => read(await fetch(
    gateway + "/v3/oauth/token/generate",
    {method: "POST", headers: json, body: JSON.stringify({key, secret})})));
  if (results.token.body) {
    const token = results.token.body.data.accessToken;
    results.oauth = await attempt(async () => read(await fetch(
      gateway + "/graphql?query=" + encodeURIComponent(query),
      {headers: {"X-CAP-API-OAUTH-TOKEN": token}})));
  }
  return results;
}
"""
APP_PAGE = "<!doctype html><html><head><title>badge app</title></head><body>app</body></html>"

require_chromium()

pytestmark = pytest.mark.slow


async def _app_page(request: StarletteRequest) -> Response:
    return HTMLResponse(APP_PAGE)


@pytest.fixture
def origins() -> Iterator[tuple[str, str]]:
    """The app's origin (listed) and another one (not listed): the same page, two servers."""
    page = Starlette(routes=[Route("/", _app_page)])
    with served_in_thread(page) as allowed, served_in_thread(page) as unlisted:
        yield allowed, unlisted


@pytest.fixture
async def gateway(
    services: Services, demo: object, mongo_uri: str, origins: tuple[str, str]
) -> AsyncIterator[str]:
    """The real app under uvicorn, listing only the app's origin."""
    settings = make_settings(
        services.settings.driver, database=services.settings.database, cors_origins=origins[0]
    )
    with served_in_thread(create_app(settings, uri=mongo_uri)) as base:
        yield base


@pytest.mark.slow  # a headless Chromium
async def test_a_browser_app_calls_the_gateway_only_from_a_listed_origin(
    gateway: str, origins: tuple[str, str], org_b_auth: dict[str, str]
) -> None:
    from playwright.async_api import Request

    allowed, unlisted = origins
    arguments = {
        "gateway": gateway,
        "authorization": org_b_auth["Authorization"],
        "customer": {"path": CUSTOMER + SWATI.key, "management": MANAGEMENT},
        "email": SWATI.email,
        "key": ORG_B_CLIENT.key,
        "secret": ORG_B_CLIENT.secret,
        "query": QUERY,
    }
    encodings: dict[str, str | None] = {}

    async def finished(request: Request) -> None:
        response = await request.response()
        if response is not None and request.url.startswith(gateway + CUSTOMER):
            encodings[request.method] = (await response.all_headers()).get("content-encoding")

    async with browser_page(allowed, unlisted, gateway, timeout_ms=TIMEOUT_MS) as browser:
        page, console = browser.page, browser.console_errors
        page.on("requestfinished", finished)

        await page.goto(allowed + "/")
        assert await page.title() == "badge app"
        results: dict[str, Any] = await page.evaluate(APP_SCRIPT, arguments)
        assert console == []

        await page.goto(unlisted + "/")
        refused: dict[str, Any] = await page.evaluate(APP_SCRIPT, arguments)
        cors_errors = [text for text in console if "blocked by CORS policy" in text]
        assert len(cors_errors) == 4, console  # the browser says why, once per call
        console.clear()

        # GraphiQL on the gateway's own origin: its POSTs carry that origin, not listed.
        await page.goto(gateway + "/graphql")
        await page.wait_for_selector(".graphiql-query-editor .CodeMirror")
        await page.click("button.graphiql-execute-button")
        await page.wait_for_function(
            "() => document.querySelector('.result-window .CodeMirror')"
            ".CodeMirror.getValue().includes('UNAUTHENTICATED')"
        )
        assert console == []

    print("listed origin:", json.dumps(_summary(results)))
    print("unlisted origin:", json.dumps(_summary(refused)))
    assert browser.left == []
    for name in ("graphql", "customer", "management", "token", "oauth"):
        result = results[name]
        assert "error" not in result, (name, result)
        assert result["status"] == 200, (name, result)
        assert result["requestId"], name  # exposed to the page's script
        assert not result["body"].get("errors"), (name, result)
    assert results["graphql"]["body"]["data"]["customerBadges"]["badges"]
    assert results["oauth"]["body"]["data"]["customerBadges"]["badges"]
    assert results["customer"]["body"]["data"]["badges"]
    assert results["management"]["body"]["data"]["customerBadges"]
    assert len({results[name]["requestId"] for name in results}) == len(results)
    assert encodings.get("GET") == "br"  # Chromium accepts br; the REST page is over 1 KB

    assert set(refused) == {"graphql", "customer", "management", "token"}
    for name, result in refused.items():
        assert result == {"error": "TypeError: Failed to fetch"}, (name, result)


def _summary(results: dict[str, Any]) -> dict[str, Any]:
    return {
        name: result.get("error") or f"{result['status']} X-Request-Id {result['requestId']}"
        for name, result in results.items()
    }
