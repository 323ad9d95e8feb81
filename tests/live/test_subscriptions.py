"""badgeChanged over a real uvicorn-served gateway, spoken to with graphql-transport-ws by the
`websockets` package, against the embedded database's real change stream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from bson import ObjectId

from gql_badges.app import create_app
from gql_badges.live.hub import NO_CHANGE_STREAMS
from gql_badges.services import Services
from gql_badges.storage.collections import CUSTOMER_BADGES
from tests.support import graphql, served_in_loop
from tests.support.graphql_ws import live_client
from tests.support.live import LiveOrg, active_subscriptions, live_org, wait_active

# The hub reads with its own PyMongo client whatever the request driver: one driver is enough.


@pytest.fixture(scope="module")
async def gateway(services: Services) -> AsyncIterator[str]:
    async with served_in_loop(create_app(services.settings, services=services)) as base:
        yield base


MANAGEMENT = """
query M($customer: CustomerRef!) {
  badgeManagement(customer: $customer, badgeType: EARNED) {
    customerBadges { badgeMetaId name earnCount issueStatus badgeStatus lastEarnedOn active }
  }
}
"""


async def management_item(base: str, org: LiveOrg, badge_meta_id: str) -> dict[str, Any] | None:
    async with httpx.AsyncClient(base_url=base) as http:
        body = await graphql(http, MANAGEMENT, org.oauth, customer={"id": str(org.customer_id)})
    assert "data" in body, body
    items = body["data"]["badgeManagement"]["customerBadges"]
    found = [item for item in items if item["badgeMetaId"] == badge_meta_id]
    return found[0] if found else None


async def test_insert_increment_issue_delete_each_give_their_event(
    services: Services, gateway: str
) -> None:
    org = await live_org(services)
    records = services.database.db[CUSTOMER_BADGES]
    async with live_client(gateway, org.oauth) as client:
        before = active_subscriptions(services)
        sub = await client.subscribe({"id": str(org.customer_id)})
        await wait_active(services, before + 1)

        record_id = ObjectId()
        await records.insert_one(org.record(record_id, earnCount=1))
        earned = await client.next_event(sub)
        assert earned["kind"] == "EARNED"
        assert earned["badgeMetaId"] == str(org.badge_meta_id)
        assert earned["earnCount"] == 1
        assert earned["badge"] == await management_item(gateway, org, str(org.badge_meta_id))

        await records.update_one({"_id": record_id}, {"$inc": {"earnCount": 1}})
        again = await client.next_event(sub)
        assert (again["kind"], again["earnCount"]) == ("EARNED", 2)
        assert again["badge"]["earnCount"] == 2

        issued_on = datetime(2026, 1, 2, tzinfo=UTC)
        await records.update_one(
            {"_id": record_id}, {"$set": {"issuedOn": issued_on, "issueStatus": "ISSUED"}}
        )
        issued = await client.next_event(sub)
        assert (issued["kind"], issued["earnCount"]) == ("ISSUED", 2)
        assert issued["badge"]["issueStatus"] == "ISSUED"

        await records.update_one({"_id": record_id}, {"$set": {"lastUpdatedOn": issued_on}})
        updated = await client.next_event(sub)
        assert updated["kind"] == "UPDATED"

        await records.delete_one({"_id": record_id})
        removed = await client.next_event(sub)
        assert removed["kind"] == "REMOVED"
        assert removed["badgeMetaId"] == str(org.badge_meta_id)
        assert removed["badge"] is None
        assert datetime.fromisoformat(removed["changedOn"]) >= datetime.fromisoformat(
            earned["changedOn"]
        )


async def test_unknown_customer_and_another_orgs_are_not_found(
    services: Services, gateway: str
) -> None:
    org, other = await live_org(services), await live_org(services)
    async with live_client(gateway, org.oauth) as client:
        for customer in ({"id": str(other.customer_id)}, {"id": "987654321"}):
            sub = await client.subscribe(customer)
            message = await client.receive()
            assert (message["id"], message["type"]) == (sub, "error"), message
            assert message["payload"][0]["extensions"]["code"] == "CUSTOMER_NOT_FOUND"
    await asyncio.sleep(0)


async def test_without_change_streams_subscriptions_are_refused_and_queries_work(
    services: Services,
) -> None:
    """A standalone mongod has no change streams. (The embedded server is a replica set, so
    here the hub is told what `hello` would have told it.)"""
    own = Services.create(services.settings, services.database.uri)
    assert own.hub is not None
    async with (
        served_in_loop(create_app(services.settings, services=own)) as base,
        httpx.AsyncClient(base_url=base) as http,
    ):
        ready = (await http.get("/readyz")).json()
        assert not [entry for entry in ready["degraded"] if "feature" in entry]
        own.hub.unavailable = NO_CHANGE_STREAMS
        ready = (await http.get("/readyz")).json()
        assert {"feature": "subscriptions", "reason": NO_CHANGE_STREAMS} in ready["degraded"]
        org = await live_org(services)
        async with live_client(base, org.oauth) as client:
            sub = await client.subscribe({"id": str(org.customer_id)})
            message = await client.receive()
            assert (message["id"], message["type"]) == (sub, "error")
            error = message["payload"][0]
            assert error["extensions"]["code"] == "SUBSCRIPTIONS_UNAVAILABLE"
            assert "replica set" in error["extensions"]["details"]
        assert await management_item(base, org, str(org.badge_meta_id)) is None  # answers
    await own.hub.close()
    await own.store.close()
    await own.database.close()
