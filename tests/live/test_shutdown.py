"""SIGTERM with open live sockets: `gql-badges serve` stops listening, closes them with 1001
(clients reconnect to another replica) within the drain time, and exits."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import pytest
from bson import ObjectId

from gql_badges.services import Services
from gql_badges.storage.collections import CUSTOMER_BADGES
from tests.support import GatewayProcess
from tests.support.graphql_ws import live_client
from tests.support.live import live_org


@pytest.mark.slow
async def test_sigterm_closes_live_sockets_with_1001(
    services: Services, mongo_uri: str, tmp_path: Path
) -> None:
    org = await live_org(services)
    gateway = GatewayProcess(mongo_uri, services.settings.database, tmp_path).start()
    records = services.database.db[CUSTOMER_BADGES]
    try:
        async with (
            live_client(gateway.base, org.basic) as first,
            live_client(gateway.base, org.basic) as second,
        ):
            subs = [
                await client.subscribe({"id": str(org.customer_id)}) for client in (first, second)
            ]
            # Subscribed once an event arrives (the gateway is another process).
            record_id = ObjectId()
            await records.insert_one(org.record(record_id, earnCount=1))
            for client, sub in zip((first, second), subs, strict=True):
                while True:
                    try:
                        await client.next_event(sub, within=2)
                        break
                    except TimeoutError:  # written before the subscription joined: again
                        await records.update_one({"_id": record_id}, {"$inc": {"earnCount": 1}})
            assert gateway.process is not None
            started = time.monotonic()
            gateway.process.send_signal(signal.SIGTERM)
            codes = await asyncio.gather(first.close_code(within=15), second.close_code(within=15))
            assert list(codes) == [1001, 1001]
            assert time.monotonic() - started < 10  # the default drain time
        gateway.process.wait(timeout=30)  # and the process is gone
    finally:
        gateway.stop()
