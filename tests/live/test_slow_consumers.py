"""A subscriber that stops reading: its subscription ends (SUBSCRIBER_TOO_SLOW) once its bounded
queue is full (its buffered events dropped), and everybody else keeps receiving, on time."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from bson import ObjectId

from gql_badges.app import create_app
from gql_badges.services import Services
from gql_badges.settings import Driver
from gql_badges.storage.collections import BADGE_META, CUSTOMER_BADGES
from tests.support import make_settings, served_in_loop
from tests.support.graphql_ws import live_client
from tests.support.live import live_org, wait_active

# Events of ~50 KB each fill the stalled socket's buffers after a few hundred.
HEAVY = """
subscription Live($customer: CustomerRef!) {
  badgeChanged(customer: $customer) { kind earnCount badge { name description } }
}
"""
QUEUE = 20


def ended_too_slow(services: Services) -> float:
    assert services.metrics is not None
    value = services.metrics.registry.get_sample_value(
        "gql_badges_subscriptions_ended_total", {"reason": "SUBSCRIBER_TOO_SLOW"}
    )
    return value or 0.0


@pytest.mark.slow
async def test_a_stalled_reader_is_ended_and_nobody_waits_for_it(services: Services) -> None:
    settings = make_settings(
        Driver.PYMONGO, database=services.settings.database, live_queue_size=QUEUE
    )
    own = Services.create(settings, services.database.uri)
    org = await live_org(services, customers=2)
    await own.database.db[BADGE_META].update_one(
        {"_id": org.badge_meta_id}, {"$set": {"description": "x" * 50_000}}
    )
    records = own.database.db[CUSTOMER_BADGES]
    stalled_id, reader_id = org.customer_id, org.customer_id + 1
    app = create_app(settings, services=own)
    app.state.live_sockets.send_timeout = 3  # give up on a blocked socket quickly here
    try:
        async with (
            served_in_loop(app) as base,
            live_client(base, org.oauth, max_queue=1) as stalled,
            live_client(base, org.oauth) as reader,
        ):
            await stalled.subscribe({"id": str(stalled_id)}, HEAVY)
            sub = await reader.subscribe({"id": str(reader_id)}, HEAVY)
            await wait_active(own, 2)
            received: list[int] = []

            async def read() -> None:
                while True:
                    received.append((await reader.next_event(sub, within=30))["earnCount"])

            stalled_record, reader_record = ObjectId(), ObjectId()
            await records.insert_one(org.record(stalled_record))
            await records.insert_one(org.record(reader_record, customerId=reader_id))
            reading = asyncio.create_task(read())
            written = 0
            # The stalled reader's events pile up (in its socket, then in its queue) until the
            # hub ends it; the reader's events keep arriving meanwhile.
            while ended_too_slow(own) < 1:
                assert written < 3_000, "the stalled subscriber was never ended"
                await records.update_one({"_id": stalled_record}, {"$inc": {"earnCount": 1}})
                if written % 10 == 0:
                    await records.update_one({"_id": reader_record}, {"$inc": {"earnCount": 1}})
                written += 1
            expected = [0] + [n // 10 + 1 for n in range(0, written, 10)]
            for _ in range(300):
                if received == expected:
                    break
                await asyncio.sleep(0.05)
            assert received == expected
            assert own.hub is not None
            assert own.hub.subscribers == 1  # the reader's; the stalled one is gone
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reading
    finally:
        assert own.hub is not None
        await own.hub.close()
        await own.store.close()
        await own.database.close()
