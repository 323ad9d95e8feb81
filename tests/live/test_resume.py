"""The database stopped and started again under open subscriptions: the same sockets keep
receiving, and what was written as the stream came back is not lost (it resumes from its
token)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from bson import ObjectId

from gql_badges.app import create_app
from gql_badges.services import Services
from gql_badges.settings import Driver
from gql_badges.storage.collections import CUSTOMER_BADGES
from gql_badges.storage.embedded import EmbeddedServer
from tests.support import make_settings, served_in_loop
from tests.support.graphql_ws import live_client
from tests.support.live import live_org, wait_active


@pytest.mark.slow
async def test_subscriptions_ride_out_a_database_restart(tmp_path: Path) -> None:
    database = EmbeddedServer(tmp_path)
    uri = database.start()
    port = int(uri.rsplit(":", 1)[1].split("/")[0])
    settings = make_settings(Driver.PYMONGO, server_selection_timeout_ms=500)
    services = Services.create(settings, uri)
    try:
        org = await live_org(services)
        records = services.database.db[CUSTOMER_BADGES]
        async with (
            served_in_loop(create_app(settings, services=services)) as base,
            live_client(base, org.oauth) as client,
        ):
            sub = await client.subscribe({"id": str(org.customer_id)})
            await wait_active(services, 1)
            record_id = ObjectId()
            await records.insert_one(org.record(record_id, earnCount=1))
            assert (await client.next_event(sub))["earnCount"] == 1

            database.stop()
            # Down for longer than server selection waits: the driver gives up on the stream
            # (it does not resume after a server-selection failure); the hub resumes it.
            await asyncio.sleep(2)
            database = EmbeddedServer(tmp_path, port=port)
            database.start()
            # Written as soon as the database is back, perhaps before the hub's stream is:
            # the stream resumes from its token and delivers it.
            await records.update_one({"_id": record_id}, {"$inc": {"earnCount": 1}})
            await records.update_one({"_id": record_id}, {"$inc": {"earnCount": 1}})
            assert (await client.next_event(sub, within=30))["earnCount"] == 2
            assert (await client.next_event(sub))["earnCount"] == 3
            await records.delete_one({"_id": record_id})
            assert (await client.next_event(sub))["kind"] == "REMOVED"

        assert services.metrics is not None
        restarts = services.metrics.registry.get_sample_value(
            "gql_badges_change_stream_restarts_total"
        )
        assert restarts is not None and restarts >= 1
    finally:
        assert services.hub is not None
        await services.hub.close()
        await services.store.close()
        await services.database.close()
        database.stop()
