"""No event reaches another org, or another customer: generated writes across two orgs and
several customers, one subscriber per customer, each sees exactly its own records' changes,
in commit order, none lost and none extra."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any
from uuid import uuid4

import pytest
from bson import ObjectId, Timestamp
from hypothesis import given
from hypothesis import strategies as st

from gql_badges.app import create_app
from gql_badges.live.changes import ChangeKind
from gql_badges.live.hub import Hub
from gql_badges.services import Services
from gql_badges.storage.collections import CUSTOMER_BADGES
from tests.support import database_examples, served_in_loop
from tests.support.graphql_ws import LiveClient, live_client
from tests.support.live import LiveOrg, active_subscriptions, live_org, wait_active

CUSTOMERS = 3
LIGHT = """
subscription Live($customer: CustomerRef!) {
  badgeChanged(customer: $customer) { kind badgeMetaId earnCount }
}
"""
# A write: (the org it is written under, which of the six customer ids, what it does, which
# existing record it touches when it is not an insert). A move gives the record that org and
# customer id.
WRITES = st.lists(
    st.tuples(
        st.integers(0, 1),
        st.integers(0, 2 * CUSTOMERS - 1),
        st.sampled_from(["insert", "increment", "deactivate", "delete", "move"]),
        st.integers(0, 50),
    ),
    max_size=20,
)


@pytest.fixture(scope="module")
async def gateway(services: Services) -> AsyncIterator[str]:
    async with served_in_loop(create_app(services.settings, services=services)) as base:
        yield base


async def collect(
    client: LiveClient, subscriptions: dict[str, tuple[int, int]], markers: set[str]
) -> dict[tuple[int, int], list[tuple[str, str, int]]]:
    """Each subscription's events up to and including its marker badge."""
    seen: dict[tuple[int, int], list[tuple[str, str, int]]] = {
        key: [] for key in subscriptions.values()
    }
    waiting = set(subscriptions)
    while waiting:
        message = await client.receive()
        assert message["type"] == "next", message
        event = message["payload"]["data"]["badgeChanged"]
        key = subscriptions[message["id"]]
        seen[key].append((event["kind"], event["badgeMetaId"], event["earnCount"]))
        if event["badgeMetaId"] in markers:
            waiting.discard(message["id"])
    return seen


@pytest.mark.slow
@database_examples(8)
@given(data=st.data())
async def test_nobody_sees_another_orgs_or_customers_events(
    services: Services, gateway: str, data: st.DataObject
) -> None:
    await check_isolation(services, gateway, data.draw(WRITES, label="writes"))


async def check_isolation(
    services: Services, gateway: str, writes: list[tuple[int, int, str, int]]
) -> None:
    orgs: list[LiveOrg] = [
        await live_org(services, customers=CUSTOMERS),
        await live_org(services, customers=CUSTOMERS),
    ]
    customer_ids = [org.customer_id + n for org in orgs for n in range(CUSTOMERS)]
    owned = {(org.org_id, org.customer_id + n) for org in orgs for n in range(CUSTOMERS)}
    records = services.database.db[CUSTOMER_BADGES]

    async with (
        live_client(gateway, orgs[0].oauth, acknowledge=True) as first,
        live_client(gateway, orgs[1].oauth, acknowledge=True) as second,
    ):
        before = active_subscriptions(services)
        subscriptions: list[dict[str, tuple[int, int]]] = [{}, {}]
        for client, org, subs in zip((first, second), orgs, subscriptions, strict=True):
            for n in range(CUSTOMERS):
                sub = await client.subscribe({"id": str(org.customer_id + n)}, LIGHT)
                subs[sub] = (org.org_id, org.customer_id + n)
        await wait_active(services, before + 2 * CUSTOMERS)

        # The model: each record's key and count; what each subscriber must see, in order.
        model: list[dict[str, Any]] = []
        expected: dict[tuple[int, int], list[tuple[str, str, int]]] = {k: [] for k in owned}
        for org_index, customer_index, action, pick in writes:
            if action == "insert" or not model:
                meta = ObjectId()
                key = (orgs[org_index].org_id, customer_ids[customer_index])
                record: dict[str, Any] = {"_id": ObjectId(), "key": key, "meta": meta, "count": 1}
                model.append(record)
                await records.insert_one(
                    orgs[org_index].record(record["_id"], badgeMetaId=meta, earnCount=1)
                    | {"customerId": key[1]}
                )
                kind: str | None = "EARNED"
            else:
                record = model[pick % len(model)]
                if action == "increment":
                    record["count"] += 1
                    await records.update_one({"_id": record["_id"]}, {"$inc": {"earnCount": 1}})
                    kind = "EARNED"
                elif action == "deactivate":
                    result = await records.update_one(
                        {"_id": record["_id"]}, {"$set": {"active": False}}
                    )
                    # Deactivating an inactive record changes nothing: MongoDB writes no oplog
                    # entry for it, so the change stream has no event and nobody sees one.
                    assert result.modified_count == (0 if record.get("inactive") else 1)
                    kind = None if record.get("inactive") else "REMOVED"
                    record["inactive"] = True
                elif action == "move":
                    # Gone for the customer it leaves (as a delete), new to the one it joins
                    # (as an insert: earned, or removed when it is inactive).
                    left, key = (
                        record["key"],
                        (orgs[org_index].org_id, customer_ids[customer_index]),
                    )
                    if key == left:
                        continue  # nothing changes: no event
                    if left not in owned:
                        # Known wrong: a record moved in from a customer nobody watches arrives
                        # as its looked-up document, which may show later changes (the xfail
                        # test below).
                        continue
                    await records.update_one(
                        {"_id": record["_id"]}, {"$set": {"orgId": key[0], "customerId": key[1]}}
                    )
                    record["key"] = key
                    if left in owned:
                        expected[left].append(("REMOVED", str(record["meta"]), 0))
                    kind = "REMOVED" if record.get("inactive") else "EARNED"
                else:
                    model.remove(record)
                    await records.delete_one({"_id": record["_id"]})
                    kind = "REMOVED"
                    record = {**record, "count": 0}
            if kind is not None and record["key"] in owned:
                expected[record["key"]].append((kind, str(record["meta"]), record["count"]))

        markers = set()
        for org in orgs:
            for n in range(CUSTOMERS):
                meta = ObjectId()
                markers.add(str(meta))
                key = (org.org_id, org.customer_id + n)
                await records.insert_one(
                    org.record(ObjectId(), badgeMetaId=meta, earnCount=1) | {"customerId": key[1]}
                )
                expected[key].append(("EARNED", str(meta), 1))

        seen = await collect(first, subscriptions[0], markers)
        seen |= await collect(second, subscriptions[1], markers)
    for key in sorted(expected):
        assert seen[key] == expected[key], f"{key}: saw {seen[key]}, expected {expected[key]}"
    assert seen == expected


async def test_a_second_deactivation_is_no_event(services: Services, gateway: str) -> None:
    """The example the property once shrank to: a record deactivated twice (picks 25 and 7 of
    nine records) has one REMOVED, and the no-op second write no event at all."""
    nine_inserts = [(0, 0, "insert", 0)] * 9
    await check_isolation(
        services, gateway, [*nine_inserts, (0, 0, "deactivate", 25), (0, 0, "deactivate", 7)]
    )


def _update(n: int, rid: ObjectId, fields: dict[str, Any], looked_up: dict[str, Any]) -> Any:
    """An update as the stream delivers it: the fields it set, and the document as looked up
    when it was delivered (which may be later than the update)."""
    return {
        "operationType": "update",
        "documentKey": {"_id": rid},
        "clusterTime": Timestamp(1_800_000_000, n),
        "updateDescription": {"updatedFields": fields, "removedFields": []},
        "fullDocument": looked_up,
    }


async def _heard(
    mongo_uri: str,
    org: int,
    customer: int,
    feed: Callable[[ObjectId], list[Any]],
    read: bool = True,
) -> list[tuple[ChangeKind, int]]:
    """What a subscriber to `customer` hears when the hub is fed `feed(record_id)`'s events
    (as the stream would deliver them) directly: each change's kind and count. With `read`,
    the customer's records (none) were read first, as a subscription reads them on joining."""
    hub = Hub(mongo_uri, f"gql_badges_hub_{uuid4().hex[:8]}")
    try:
        subscriber = await hub.subscribe(org, customer)
        if read:
            hub.know(subscriber.key, [])
        for event in feed(ObjectId()):
            hub.route(event)
        heard = []
        while (change := await subscriber.next(wait=0.2)) is not None:
            heard.append((change.kind, change.earn_count))
        return heard
    finally:
        await hub.close()


@pytest.mark.parametrize("read", [True, False], ids=["records read", "before the read"])
async def test_a_record_looked_up_after_it_moved_in_arrives_once(
    mongo_uri: str, read: bool
) -> None:
    """The example the property found in CI: a record of a customer nobody watches is
    incremented, moved to a watched customer, deactivated, deleted; delivered late, the
    increment's looked-up document already names the watched customer. Once the customer's
    records are read, the increment is no news (the record was not theirs) and the move brings
    it. Before they are read, the hub takes the increment to be theirs and learns of the
    record there, with its count; the move that follows is then no news. Before the fix, it was
    an UPDATED more than the model's EARNED, REMOVED, REMOVED."""
    org, watched = 910_001, 5

    def feed(rid: ObjectId) -> list[Any]:
        there = {"_id": rid, "orgId": org, "customerId": watched, "badgeMetaId": ObjectId()}
        return [
            _update(1, rid, {"earnCount": 2}, {**there, "earnCount": 2, "active": True}),
            _update(2, rid, {"customerId": watched}, {**there, "earnCount": 2, "active": True}),
            _update(3, rid, {"active": False}, {**there, "earnCount": 2, "active": False}),
            {
                "operationType": "delete",
                "documentKey": {"_id": rid},
                "clusterTime": Timestamp(1_800_000_000, 4),
            },
        ]

    assert await _heard(mongo_uri, org, watched, feed, read) == [
        (ChangeKind.EARNED, 2),
        (ChangeKind.REMOVED, 2),
        (ChangeKind.REMOVED, 0),
    ]


async def test_changes_made_before_a_record_moved_in_are_not_the_new_customers(
    mongo_uri: str,
) -> None:
    """A record of a customer nobody watches is incremented twice, then moved to a watched
    customer; all three delivered after the move, so each looked-up document names the
    watched customer. The watched customer hears of the record once, on arrival, with its
    count (EARNED 3), as the model of the property above says. Before, it heard EARNED 2 at the
    first increment and EARNED 3 at the second: changes made before the move, elsewhere."""
    org, watched = 910_002, 5

    def feed(rid: ObjectId) -> list[Any]:
        there = {"_id": rid, "orgId": org, "customerId": watched, "badgeMetaId": ObjectId()}
        return [
            _update(1, rid, {"earnCount": 2}, {**there, "earnCount": 3, "active": True}),
            _update(2, rid, {"earnCount": 3}, {**there, "earnCount": 3, "active": True}),
            _update(3, rid, {"customerId": watched}, {**there, "earnCount": 3, "active": True}),
        ]

    assert await _heard(mongo_uri, org, watched, feed) == [(ChangeKind.EARNED, 3)]


async def test_an_update_before_the_customers_records_are_read_reaches_them(
    mongo_uri: str,
) -> None:
    """Between joining the hub and reading the customer's records, the hub does not know them
    all: an update of a record it does not know, looked up at the customer, is theirs as far
    as it can tell, and reaches them (rather than be lost if the record was theirs)."""
    org, watched = 910_003, 5

    def feed(rid: ObjectId) -> list[Any]:
        there = {"_id": rid, "orgId": org, "customerId": watched, "badgeMetaId": ObjectId()}
        return [_update(1, rid, {"earnCount": 2}, {**there, "earnCount": 2, "active": True})]

    assert await _heard(mongo_uri, org, watched, feed, read=False) == [(ChangeKind.EARNED, 2)]


@pytest.mark.xfail(
    strict=True,
    reason="known limit: a record moved in from a customer nobody watches arrives as the "
    "stream's lookup of it, which may already show the changes made after the move",
)
async def test_a_record_moved_in_arrives_as_it_was_at_the_move(mongo_uri: str) -> None:
    """A record of a customer nobody watches (earned once) is moved to a watched customer and
    incremented; both delivered after the increment, so the move's looked-up document already
    counts 2. The watched customer should hear EARNED 1 (its arrival) and EARNED 2, as the
    model of the property says; the hub sends EARNED 2, then UPDATED 2. Only the document as it
    was at the move tells them apart: MongoDB's post-images (`changeStreamPreAndPostImages`,
    `fullDocument: whenAvailable`), with which the stream would deliver the move with a count
    of 1 (this feed would change with it). The embedded server takes both options, but its
    `whenAvailable` document is the current one, as a lookup's: no test here could show them."""
    org, watched = 910_004, 5

    def feed(rid: ObjectId) -> list[Any]:
        now = {"_id": rid, "orgId": org, "customerId": watched, "badgeMetaId": ObjectId()}
        return [
            _update(1, rid, {"customerId": watched}, {**now, "earnCount": 2, "active": True}),
            _update(2, rid, {"earnCount": 2}, {**now, "earnCount": 2, "active": True}),
        ]

    assert await _heard(mongo_uri, org, watched, feed) == [
        (ChangeKind.EARNED, 1),
        (ChangeKind.EARNED, 2),
    ]
