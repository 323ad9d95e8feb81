"""1,000 subscribers on one gateway process, each on a socket of its own (npm `graphql-ws`):
each gets exactly its own events, none lost, none duplicated.

Two orgs, and records written under one org with the other org's customer ids: routed by
customer id alone, they would reach the other org's subscribers. Each customer's earnCount is
its own, so a stray event is recognised.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from tests.live.harness import (
    Events,
    LiveGateway,
    LiveOrg,
    create_live_org,
    node_subscribers,
    wait_until_listening,
)

PER_ORG = 500
# Only what identifies the event: the badge would cost a read per event and prove nothing here.
BARE = """subscription Live($customer: CustomerRef!) {
  badgeChanged(customer: $customer) { kind badgeMetaId earnCount }
}"""


def _id(org: LiveOrg, customer: int) -> str:
    return f"{org.org_id}:{customer}"


def _own_count(index: int) -> int:
    """The earnCount of subscriber `index`'s record: no other subscriber's is the same (nor
    its +1)."""
    return 10 * (index + 1)


@pytest.mark.slow
async def test_a_thousand_subscribers_get_exactly_their_own_events(
    subscribe_script: Path, live_gateway: LiveGateway
) -> None:
    orgs = [
        await create_live_org(live_gateway.database, live_gateway.jwt_secret, customers=PER_ORG)
        for _ in range(2)
    ]
    subscribers = [
        {"id": _id(org, customer), "headers": org.headers, "variables": org.variables(customer)}
        for org in orgs
        for customer in org.customers
    ]
    platform = live_gateway.platform
    async with node_subscribers(
        subscribe_script, "ws", live_gateway.base, subscribers, query=BARE
    ) as clients:
        assert len(clients.events) == 1000
        for org in orgs:
            events = {c: clients.events[_id(org, c)] for c in org.customers}
            await wait_until_listening(platform, org, events, within=180)

        expected: dict[str, int] = {}
        records = {}
        for n, org in enumerate(orgs):
            counts = {c: _own_count(n * PER_ORG + i) for i, c in enumerate(org.customers)}
            expected.update({_id(org, c): count for c, count in counts.items()})
            records[org.org_id] = await platform.earn_many(org, counts)
        # Org B's records for org A's customer ids: no subscriber may see them.
        strays = dataclasses.replace(orgs[1], customers=orgs[0].customers)
        await platform.earn_many(strays, dict.fromkeys(orgs[0].customers, 7))
        for org in orgs:
            await platform.earn_again_many(records[org.org_id].values())
        for org in orgs:
            await platform.remove_many(records[org.org_id].values())

        async def own_events(org: LiveOrg, customer: int) -> None:
            events = clients.events[_id(org, customer)]
            count = expected[_id(org, customer)]
            got = [await events.next_change(org, within=180) for _ in range(3)]
            shape = [(e.get("kind"), e.get("badgeMetaId"), e.get("earnCount")) for e in got]
            assert shape[:2] == [
                ("EARNED", str(org.badge), count),
                ("EARNED", str(org.badge), count + 1),
            ], (_id(org, customer), got)
            assert shape[2][:2] == ("REMOVED", str(org.badge)), (_id(org, customer), got)

        await asyncio.gather(*(own_events(org, c) for org in orgs for c in org.customers))

        # Nothing more is queued for anyone: one more warm-up write each, and that is what
        # every subscriber gets next (a duplicate or a stray event would come first).
        for org in orgs:
            await platform.warm_up(org, org.customers)

        async def next_is_the_warm_up(org: LiveOrg, events: Events) -> None:
            event = await events.next(within=180)
            assert event.get("badgeMetaId") == str(org.warm_up), event

        await asyncio.gather(
            *(
                next_is_the_warm_up(org, clients.events[_id(org, c)])
                for org in orgs
                for c in org.customers
            )
        )
