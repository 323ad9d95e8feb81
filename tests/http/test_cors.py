"""CORS through the real app: preflights answered before the limits and the GraphQL view, the
headers a browser reads, and nothing spent by a preflight. (A real browser: test_browser_app.py.)"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gql_badges.app import create_app
from gql_badges.badges.repository import BadgeRepository, RowPage
from gql_badges.demo.handles import ORG_B_CLIENT, SWATI
from gql_badges.http.cors import REQUEST_HEADERS, origin_allowed
from gql_badges.services import Services
from gql_badges.settings import Settings
from tests.support import CUSTOMER, MANAGEMENT, asgi_client, basic_auth, basic_header, make_settings

APP = "https://app.example.com"
OTHER = "https://elsewhere.example.com"
QUERY = f'{{ customerBadges(customer: {{id: "{SWATI.key}"}}) {{ badges {{ name }} }} }}'
# Every URI a browser app calls, with the method it calls it by.
COVERED = [
    ("/graphql", "POST"),
    ("/graphql", "GET"),
    (CUSTOMER + SWATI.key, "GET"),
    (MANAGEMENT + SWATI.key, "GET"),
    ("/v3/oauth/token/generate", "POST"),
]
# What Apollo Client and a fetch with credentials ask for, as Chromium writes it.
ASKED = ",".join(header.lower() for header in REQUEST_HEADERS)

pytestmark = pytest.mark.usefixtures("demo")


def _with_origins(settings: Settings, *origins: str) -> Settings:
    return settings.model_copy(update={"cors_origins": origins})


@pytest.fixture
async def browser_client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """The app with APP as its one allowed origin."""
    async with asgi_client(
        create_app(_with_origins(services.settings, APP), services=services)
    ) as c:
        yield c


def preflight(origin: str, method: str, headers: str = ASKED) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers,
    }


def _listed(value: str) -> set[str]:
    return {item.strip().lower() for item in value.split(",")}


@pytest.mark.parametrize(("path", "method"), COVERED)
async def test_a_preflight_from_an_allowed_origin_is_204_with_the_policy(
    browser_client: httpx.AsyncClient, path: str, method: str
) -> None:
    response = await browser_client.options(path, headers=preflight(APP, method))
    assert response.status_code == 204, response.text
    assert response.content == b""
    headers = response.headers
    assert headers["access-control-allow-origin"] == APP
    assert {"get", "post"} <= _listed(headers["access-control-allow-methods"])
    allowed = _listed(headers["access-control-allow-headers"])
    assert {
        "authorization",
        "content-type",
        "x-cap-api-oauth-token",
        "x-cap-customer-identifier",
        "traceparent",
        "apollo-require-preflight",
        "x-apollo-operation-name",
    } <= allowed
    assert int(headers["access-control-max-age"]) >= 600
    assert "origin" in _listed(headers["vary"])
    assert "access-control-allow-credentials" not in headers
    assert headers["x-request-id"]


async def test_a_preflight_from_another_origin_is_refused(services: Services) -> None:
    for origins in [(), (APP,)]:  # none (the default) and a list without it
        app = create_app(_with_origins(services.settings, *origins), services=services)
        async with asgi_client(app) as client:
            response = await client.options("/graphql", headers=preflight(OTHER, "POST"))
            assert response.status_code == 400
            assert "access-control-allow-origin" not in response.headers
            assert "origin" in _listed(response.headers["vary"])
    # Not a preflight (no Origin): the view's own answer, as before.
    async with asgi_client(create_app(services.settings, services=services)) as client:
        assert (await client.options("/graphql")).status_code == 405


async def test_an_unlisted_request_header_is_refused(browser_client: httpx.AsyncClient) -> None:
    response = await browser_client.options(
        "/graphql", headers=preflight(APP, "POST", "content-type,x-my-own-header")
    )
    assert response.status_code == 400


async def test_answers_name_the_allowed_origin_and_expose_the_headers(
    browser_client: httpx.AsyncClient, org_b_auth: dict[str, str]
) -> None:
    answers = [
        await browser_client.post(
            "/graphql", json={"query": QUERY}, headers=org_b_auth | {"Origin": APP}
        ),
        await browser_client.get(CUSTOMER + SWATI.key, headers=org_b_auth | {"Origin": APP}),
        await browser_client.get(  # an error answer is readable too
            CUSTOMER + SWATI.key, headers=basic_header("nobody:x") | {"Origin": APP}
        ),
    ]
    assert [a.status_code for a in answers] == [200, 200, 401]
    for answer in answers:
        assert answer.headers["access-control-allow-origin"] == APP
        exposed = _listed(answer.headers["access-control-expose-headers"])
        assert {"retry-after", "x-request-id"} <= exposed
        assert "origin" in _listed(answer.headers["vary"])
        assert "access-control-allow-credentials" not in answer.headers

    other = await browser_client.get(CUSTOMER + SWATI.key, headers=org_b_auth | {"Origin": OTHER})
    assert other.status_code == 200  # the browser, not the server, withholds it
    assert "access-control-allow-origin" not in other.headers
    assert "origin" in _listed(other.headers["vary"])


class ExplodingRepository(BadgeRepository):
    async def badge_page(self, *args: Any, **kwargs: Any) -> RowPage:
        raise RuntimeError("an unexpected failure")


async def test_an_unexpected_failure_is_readable_with_its_id(
    services: Services, org_b_auth: dict[str, str]
) -> None:
    """A 500 carries the CORS headers like any answer: the page can read its id."""
    broken = dataclasses.replace(services, repository=ExplodingRepository(services.database))
    app = create_app(_with_origins(broken.settings, APP), services=broken)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        for answer in [
            await client.get(CUSTOMER + SWATI.key, headers=org_b_auth | {"Origin": APP}),
            await client.post(
                "/graphql", json={"query": QUERY}, headers=org_b_auth | {"Origin": APP}
            ),
        ]:
            assert answer.status_code in (200, 500)  # GraphQL: a field error, REST: 500
            assert answer.headers["access-control-allow-origin"] == APP
            assert "x-request-id" in _listed(answer.headers["access-control-expose-headers"])
            assert answer.headers["x-request-id"] in answer.text


async def test_any_origin_only_when_written_out(services: Services) -> None:
    app = create_app(_with_origins(services.settings, "*"), services=services)
    async with asgi_client(app) as client:
        response = await client.options("/graphql", headers=preflight(OTHER, "POST"))
        assert response.status_code == 204
        assert response.headers["access-control-allow-origin"] == "*"
    assert origin_allowed(("*",), OTHER)
    assert not origin_allowed((), OTHER) and not origin_allowed((APP,), OTHER)
    assert origin_allowed(_with_origins(services.settings, APP), APP)
    assert origin_allowed((), None)  # not a browser's cross-origin call


def test_the_setting_takes_exact_origins_and_refuses_anything_else(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "GQL_BADGES_CORS_ORIGINS", " https://App.example.com, http://localhost:3000 "
    )
    assert Settings().cors_origins == ("https://app.example.com", "http://localhost:3000")
    monkeypatch.setenv("GQL_BADGES_CORS_ORIGINS", "")
    assert Settings().cors_origins == ()
    for bad in ["https://app.example.com/", "app.example.com", "https://a.com/path", "null"]:
        monkeypatch.setenv("GQL_BADGES_CORS_ORIGINS", bad)
        with pytest.raises(ValueError, match="is not an origin"):
            Settings()


async def test_preflights_spend_no_rate_limit_token_and_no_login_attempt(
    services: Services,
) -> None:
    """Two requests' worth of tokens, one login attempt: a flood of preflights (some carrying a
    wrong password, which no browser sends) leaves both untouched."""
    settings = make_settings(
        services.settings.driver,
        database=services.settings.database,
        rate_limit_per_second=0.01,
        rate_limit_burst=2,
        login_attempts_burst=1,
        login_attempts_per_minute=0.01,
        cors_origins=APP,
    )
    limited = Services.create(settings, services.database.uri)
    username, _ = ORG_B_CLIENT.credentials
    wrong = basic_auth(username, "not-the-password")
    try:
        async with asgi_client(create_app(settings, services=limited)) as client:
            for path, method in COVERED * 4:
                response = await client.options(path, headers=preflight(APP, method) | wrong)
                assert response.status_code == 204
            right = basic_auth(*ORG_B_CLIENT.credentials) | {"Origin": APP}
            for _ in range(2):
                response = await client.get(CUSTOMER + SWATI.key, headers=right)
                assert response.status_code == 200, response.text
            refused = await client.get(CUSTOMER + SWATI.key, headers=right)
            assert refused.status_code == 429
            assert refused.headers["access-control-allow-origin"] == APP
            assert "retry-after" in _listed(refused.headers["access-control-expose-headers"])
    finally:
        await limited.store.close()
        await limited.database.close()
