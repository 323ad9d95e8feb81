"""What the live tests share: an org of their own with a customer and a badge, and waiting for
the gateway's subscriptions to be ready (they count as active once joined to the stream)."""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId

from gql_badges.services import Services
from tests.support import basic_auth, new_org_id, seed_org

_customer_ids = itertools.count(70_000_000)


@dataclass(frozen=True)
class LiveOrg:
    org_id: int
    customer_id: int
    badge_meta_id: ObjectId
    oauth: dict[str, str]  # the org's client's token header
    basic: dict[str, str]  # the same client's Basic header

    def record(self, record_id: ObjectId, **fields: Any) -> dict[str, Any]:
        """A customer_badges record of this org's customer and badge."""
        return {
            "_id": record_id,
            "orgId": self.org_id,
            "customerId": self.customer_id,
            "badgeMetaId": self.badge_meta_id,
            "issuedOn": None,
            "issueStatus": None,
            "earnCount": 0,
            "lastEarnedOn": datetime(2026, 1, 1, tzinfo=UTC),
            "lastEarnEventDate": None,
            "earnExpiresOn": None,
            "active": True,
            **fields,
        }


def badge_meta(org_id: int, badge_id: ObjectId, name: str = "Birthday Badge") -> dict[str, Any]:
    return {
        "_id": badge_id,
        "orgId": org_id,
        "name": name,
        "description": None,
        "earnType": "ISSUE_EARN",
        "startOn": datetime(2024, 1, 1, tzinfo=UTC),
        "expiresOn": datetime(2124, 1, 1, tzinfo=UTC),
        "images": [],
        "tags": [],
        "badgeGroupId": None,
        "badgeRank": None,
        "ownership": {"restrictedToOwners": ["Loyalty"], "claims": []},
        "customerConstraints": [],
        "badgeConstraints": [],
        "customFields": {},
        "active": True,
    }


async def live_org(services: Services, customers: int = 1) -> LiveOrg:
    """A new org with `customers` customers (the first is the org's `customer_id`, the rest
    follow it), one badge, and an API client."""
    org_id = new_org_id()
    first = next(_customer_ids) * 1000
    badge_id = ObjectId()
    docs = {
        "badge_meta": [badge_meta(org_id, badge_id)],
        "customers": [
            {"_id": first + n, "orgId": org_id, "email": f"c{first + n}@example.com"}
            for n in range(customers)
        ],
    }
    oauth = await seed_org(services, org_id, docs)
    return LiveOrg(org_id, first, badge_id, oauth, basic_auth(f"u{org_id}", "p"))


def active_subscriptions(services: Services, transport: str = "websocket") -> float:
    assert services.metrics is not None
    value = services.metrics.registry.get_sample_value(
        "gql_badges_subscriptions_active", {"transport": transport}
    )
    return value or 0.0


async def wait_active(
    services: Services, count: float, transport: str = "websocket", within: float = 10
) -> None:
    """Until `count` subscriptions are active (joined to the stream, records loaded)."""
    deadline = time.monotonic() + within
    while active_subscriptions(services, transport) < count:
        assert time.monotonic() < deadline, "the subscriptions did not become active"
        await asyncio.sleep(0.01)
