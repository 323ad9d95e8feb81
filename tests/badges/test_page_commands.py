"""What a page costs MongoDB, counted on the wire: the page and its total in one cursor.

A request sends three commands at any page size: the customer (with the org's groups), the
customer's records, and the page, which carries its total. Each reply holds everything asked
for, so no `getMore` follows, even for a page of 1000 or a customer with more than the default
first batch (101) of records. Only a page past the last, which has no badge to carry the total,
adds a count.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from bson import Int64, ObjectId

from gql_badges.app import create_app
from gql_badges.services import Services
from gql_badges.storage.collections import BADGE_META, CUSTOMER_BADGES
from tests.support import CUSTOMER, make_settings, new_org_id, seed_org
from tests.support.generated import NOW
from tests.support.wire_proxy import CountingProxy

BADGES = 1_050  # a full page of 1000, and a second page
RECORDS = 150  # more than a cursor's default first batch
CARD = "page-commands-card"
GRAPHQL = """query($id: ID!, $limit: Int, $page: Int) {
  customerBadges(customer: {id: $id}, limit: $limit, page: $page) {
    badges { badgeMetaId name } pagination { page size total } } }"""


def _org(org_id: int) -> dict[str, list[Any]]:
    badges = [
        {
            "_id": ObjectId(),
            "orgId": org_id,
            "name": f"badge {n}",
            "earnType": "EARN",
            "active": True,
            "startOn": NOW - timedelta(days=1),
            "expiresOn": NOW + timedelta(days=30, seconds=n),
            "ownership": {},
        }
        for n in range(BADGES)
    ]
    customer_id = Int64(org_id * 10)
    records = [
        {
            "_id": ObjectId(),
            "orgId": org_id,
            "customerId": customer_id,
            "badgeMetaId": badge["_id"],
            "issuedOn": None,  # not enrolled, never earned: still available to issue
            "issueStatus": None,
            "earnCount": 0,
            "active": True,
        }
        for badge in badges[:RECORDS]
    ]
    customer = {"_id": customer_id, "orgId": org_id, "cardNumbers": [CARD]}
    return {BADGE_META: badges, "customers": [customer], CUSTOMER_BADGES: records}


@pytest.fixture(scope="module")
async def seeded(services: Services) -> tuple[int, dict[str, str]]:
    """An org of its own with enough badges for a page of 1000; its customer and header."""
    org_id = new_org_id()
    docs = _org(org_id)
    # Inserted as they are: a thousand upserts in one transaction (the loader's way) take the
    # embedded server longer than a test should wait.
    db = services.database.db
    await db[BADGE_META].insert_many(docs.pop(BADGE_META))
    await db[CUSTOMER_BADGES].insert_many(docs.pop(CUSTOMER_BADGES))
    header = await seed_org(services, org_id, docs)
    return org_id * 10, header


@pytest.fixture(scope="module")
async def proxied(services: Services) -> AsyncIterator[tuple[httpx.AsyncClient, CountingProxy]]:
    """An app with its own client reaching the session's database through the counting proxy."""
    proxy = await CountingProxy(services.database.uri).start()
    settings = make_settings(
        services.settings.driver,
        database=services.settings.database,
        max_page_size=1000,
        graphql_max_cost=2_000_000,
    )
    own = Services.create(settings, proxy.uri)
    transport = httpx.ASGITransport(app=create_app(settings, services=own))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client, proxy
    await proxy.stop()  # first: motor's close would wait for its monitor's long poll
    await own.database.close()


async def _commands(
    client: httpx.AsyncClient, proxy: CountingProxy, request: httpx.Request
) -> tuple[Counter[str], dict[str, Any]]:
    """The commands one request sent, and the page's pagination it answered."""
    proxy.commands.clear()
    response = await client.send(request)
    assert response.status_code == 200, response.text[:500]
    body = response.json()
    data = body["data"]
    pagination = (
        data["customerBadges"]["pagination"] if "customerBadges" in data else data["pagination"]
    )
    return Counter(proxy.commands), pagination


def _rest(
    client: httpx.AsyncClient, path: str, params: dict[str, Any], headers: dict[str, str]
) -> httpx.Request:
    return client.build_request("GET", f"{CUSTOMER}{path}", params=params, headers=headers)


def _graphql(
    client: httpx.AsyncClient, customer_id: int, limit: int, page: int, headers: dict[str, str]
) -> httpx.Request:
    variables = {"id": str(customer_id), "limit": limit, "page": page}
    body = {"query": GRAPHQL, "variables": variables}
    return client.build_request("POST", "/graphql", json=body, headers=headers)


pytestmark = pytest.mark.slow  # pages of 1000 on the embedded server

THREE = Counter({"aggregate": 2, "find": 1})  # customer and groups, records, the page


@pytest.mark.parametrize("size", [10, 100, 1000])
async def test_a_page_is_three_commands_at_any_size(
    proxied: tuple[httpx.AsyncClient, CountingProxy],
    seeded: tuple[int, dict[str, str]],
    size: int,
) -> None:
    client, proxy = proxied
    customer_id, header = seeded
    warm = _rest(client, str(customer_id), {"limit": 1}, header)  # the API client is cached after
    await _commands(client, proxy, warm)
    requests = {
        "rest": _rest(client, str(customer_id), {"limit": size}, header),
        "rest, card number": _rest(
            client, CARD, {"limit": size}, {**header, "X-CAP-CUSTOMER-IDENTIFIER": "cardNumber"}
        ),
        "graphql": _graphql(client, customer_id, size, 0, header),
    }
    for name, request in requests.items():
        commands, pagination = await _commands(client, proxy, request)
        assert commands == THREE, name
        assert pagination["size"] == size and pagination["total"] == BADGES, name


async def test_a_page_past_the_last_counts_apart(
    proxied: tuple[httpx.AsyncClient, CountingProxy], seeded: tuple[int, dict[str, str]]
) -> None:
    client, proxy = proxied
    customer_id, header = seeded
    await _commands(client, proxy, _rest(client, str(customer_id), {"limit": 1}, header))
    last = _rest(client, str(customer_id), {"limit": 1000, "page": 1}, header)
    commands, pagination = await _commands(client, proxy, last)
    assert commands == THREE and pagination["size"] == BADGES - 1000
    assert pagination["total"] == BADGES
    for request in (
        _rest(client, str(customer_id), {"limit": 1000, "page": 2}, header),
        _graphql(client, customer_id, 100, 20, header),
    ):
        commands, pagination = await _commands(client, proxy, request)
        assert commands == THREE + Counter({"aggregate": 1})
        assert pagination["size"] == 0 and pagination["total"] == BADGES
