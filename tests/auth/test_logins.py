"""Logins a hostile client cannot turn into work: one verification a request, a bounded number at
once, few per address and per username, and credentials too large to be ours refused unread."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gql_badges.app import create_app
from gql_badges.demo.handles import ORG_B_CLIENT, SWATI
from gql_badges.services import Services
from tests.support import CUSTOMER, basic_auth, basic_header, make_settings
from tests.support.hostile import PAGE_ALIASES as ALIASES

pytestmark = pytest.mark.usefixtures("demo")

QUERY = f'{{ customerBadges(customer: {{id: "{SWATI.key}"}}) {{ pagination {{ total }} }} }}'
WRONG = basic_auth(ORG_B_CLIENT.username, "wrong-password")
BURST = 3


@contextlib.asynccontextmanager
async def gateway(
    services: Services, mongo_uri: str, **settings: object
) -> AsyncIterator[httpx.AsyncClient]:
    """An app of its own (its own login limits) over the session's demo database.

    Attempts come back so slowly that none does during a test, however slow the machine.
    """
    slow = {"login_attempts_per_minute", "login_address_per_minute", "login_username_per_minute"}
    settings = dict.fromkeys(slow, 0.001) | settings
    own = Services.create(
        make_settings(services.settings.driver, database=services.settings.database, **settings),
        mongo_uri,
    )
    app = create_app(own.settings, services=own)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 4711))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client
    finally:
        await own.database.close()


def codes(body: dict[str, Any]) -> set[str]:
    return {error["extensions"]["code"] for error in body["errors"]}


async def test_thirty_aliases_with_a_wrong_password_cost_one_verification(
    services: Services, mongo_uri: str
) -> None:
    """With attempts for three verifications, three requests of thirty aliases are answered
    UNAUTHENTICATED (one verification each) and only the fourth is refused."""
    async with gateway(services, mongo_uri, login_attempts_burst=BURST) as client:
        for _ in range(BURST):
            body = (await client.post("/graphql", json={"query": ALIASES}, headers=WRONG)).json()
            assert codes(body) == {"UNAUTHENTICATED"}
        body = (await client.post("/graphql", json={"query": ALIASES}, headers=WRONG)).json()
        assert codes(body) == {"RATE_LIMITED"}
        assert body["errors"][0]["extensions"]["retryAfterSeconds"] >= 1


async def test_failed_logins_from_one_address_are_limited(
    services: Services, mongo_uri: str, org_b_auth: dict[str, str]
) -> None:
    """Sixty failed logins in a row, each for another username: the first few are answered
    401, the rest 429 with Retry-After; a client that had logged in before is not held up."""
    path = f"{CUSTOMER}{SWATI.key}"
    async with gateway(services, mongo_uri, login_address_burst=BURST) as client:
        assert (await client.get(path, headers=org_b_auth)).status_code == 200  # verified, cached
        statuses = []
        for n in range(60):
            response = await client.get(path, headers=basic_auth(f"user-{n}", "guess"))
            statuses.append(response.status_code)
        assert statuses[:BURST] == [401] * BURST  # the good login gave its attempt back
        assert set(statuses[BURST:]) == {429}
        assert response.headers["Retry-After"].isdigit()
        assert response.json()["errors"][0]["code"] == 429
        assert (await client.get(path, headers=org_b_auth)).status_code == 200


async def test_failed_logins_for_one_username_are_limited_from_any_address(
    services: Services, mongo_uri: str
) -> None:
    """The per-username budget, spent from addresses never seen logging in as it."""
    async with gateway(services, mongo_uri, login_username_burst=BURST) as client:
        statuses = []
        for n in range(BURST + 2):
            transport = client._transport
            assert isinstance(transport, httpx.ASGITransport)
            transport.client = (f"198.51.100.{n}", 4711)  # a new address each time
            response = await client.post("/graphql", json={"query": QUERY}, headers=WRONG)
            statuses.append(codes(response.json()))
        assert statuses[:BURST] == [{"UNAUTHENTICATED"}] * BURST
        assert statuses[BURST:] == [{"RATE_LIMITED"}] * 2


async def test_oauth_secrets_are_limited_too(services: Services, mongo_uri: str) -> None:
    body = {"key": ORG_B_CLIENT.key, "secret": "wrong"}
    async with gateway(services, mongo_uri, login_attempts_burst=BURST) as client:
        statuses = [
            (await client.post("/v3/oauth/token/generate", json=body)).status_code
            for _ in range(BURST + 2)
        ]
    assert statuses == [401] * BURST + [429, 429]


@pytest.mark.parametrize("size", [1024 * 1024, 8 * 1024 * 1024])
async def test_a_huge_authorization_header_is_431_unread(
    client: httpx.AsyncClient, size: int
) -> None:
    headers = {"Authorization": "Basic " + "A" * size}
    graphql = await client.post("/graphql", json={"query": QUERY}, headers=headers)
    assert graphql.status_code == 431
    assert graphql.json()["errors"][0]["extensions"]["code"] == "REQUEST_HEADER_FIELDS_TOO_LARGE"
    rest = await client.get(f"{CUSTOMER}{SWATI.key}", headers=headers)
    assert rest.status_code == 431
    assert rest.json()["errors"][0]["code"] == 431


async def test_an_authorization_over_8_kib_is_refused_without_decoding(
    client: httpx.AsyncClient,
) -> None:
    username = "u" * 9000
    response = await client.get(
        f"{CUSTOMER}{SWATI.key}", headers=basic_header(f"{username}:{'0' * 32}")
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["message"] == "Unauthorized"


async def test_the_header_limit_is_a_setting(services: Services, mongo_uri: str) -> None:
    async with gateway(services, mongo_uri, max_header_bytes=2048) as client:
        big = {"X-Padding": "p" * 3000}
        assert (await client.get("/healthz", headers=big)).status_code == 431
        assert (await client.get("/healthz")).status_code == 200
