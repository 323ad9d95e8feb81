"""The WebSocket transport's guards (gql_badges/graphql/subscriptions.py): credentials in
`connection_init`, the init timeout, token expiry, deactivation, and the limits."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from bson import ObjectId
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from gql_badges.app import create_app
from gql_badges.services import Services
from gql_badges.settings import Driver
from gql_badges.storage.collections import API_CLIENTS, CUSTOMER_BADGES
from tests.support import basic_header, jwt_token, make_settings, oauth_header, served_in_loop
from tests.support.graphql_ws import BADGE_CHANGED, live_client, ws_url
from tests.support.live import active_subscriptions, live_org, wait_active


@pytest.fixture(scope="module")
async def gateway(services: Services) -> AsyncIterator[str]:
    settings = make_settings(
        Driver.PYMONGO,
        database=services.settings.database,
        live_init_timeout_seconds=0.5,
        live_max_subscriptions_per_connection=3,
        live_ping_seconds=0.3,
    )
    async with served_in_loop(create_app(settings, services=services)) as base:
        yield base


def auth_failures(services: Services) -> float:
    assert services.metrics is not None
    total = 0.0
    for metric in services.metrics.registry.collect():
        if metric.name == "gql_badges_auth_failures":
            total += sum(s.value for s in metric.samples if s.name.endswith("_total"))
    return total


async def test_wrong_or_missing_credentials_close_4403_before_the_ack(
    services: Services, gateway: str
) -> None:
    org = await live_org(services)
    wrong_password = basic_header(f"u{org.org_id}:{'0' * 32}")
    unknown_user = basic_header(f"nobody{org.org_id}:{'0' * 32}")
    forged = oauth_header(jwt_token(org.org_id, f"k{org.org_id}", secret="not-the-secret" * 3))
    failures = auth_failures(services)
    reasons = []
    for payload in ({}, wrong_password, unknown_user, forged, {"Authorization": 7}):
        async with live_client(gateway, payload, acknowledge=False) as client:
            try:
                message = await client.receive()
            except Exception:
                message = None
            assert message is None, f"{payload}: {message}"  # no ack, nothing at all
            closed = client.connection.close_code
            assert closed == 4403, (payload, closed)
            reasons.append(client.connection.close_reason)
    # A wrong password and an unknown user read the same: nothing tells which one exists.
    assert reasons[1] == reasons[2]
    assert auth_failures(services) >= failures + 5
    assert services.hub is not None and services.hub.subscribers == 0


async def test_credential_names_in_any_case_over_basic_and_bearer(
    services: Services, gateway: str
) -> None:
    org = await live_org(services)
    token = org.oauth["X-CAP-API-OAUTH-TOKEN"]
    for payload in (
        {"x-cap-api-oauth-token": token},
        {"AUTHORIZATION": "Bearer " + token},
        {"authorization": org.basic["Authorization"]},
    ):
        async with live_client(gateway, payload) as client:
            sub = await client.subscribe({"id": str(org.customer_id)})
            await client.send({"id": sub, "type": "complete"})


async def test_connection_init_must_come_within_the_timeout(gateway: str) -> None:
    async with live_client(gateway, None) as client:
        started = time.monotonic()
        assert await client.close_code() == 4408
        assert time.monotonic() - started < 5


async def test_the_server_pings_and_limits_subscriptions_per_connection(
    services: Services, gateway: str
) -> None:
    org = await live_org(services)
    async with live_client(gateway, org.oauth) as client:
        for _ in range(3):
            await client.subscribe({"id": str(org.customer_id)})
        refused = await client.subscribe({"id": str(org.customer_id)})
        message = await client.receive()
        assert (message["id"], message["type"]) == (refused, "error")
        assert "limit" in message["payload"][0]["message"]
        # The server pings (every 0.3 s here); the client answers with pongs, as graphql-ws does.
        raw = await asyncio.wait_for(client.connection.recv(), 5)
        assert json.loads(raw) == {"type": "ping"}


async def test_a_message_over_the_size_limit_closes_the_socket(
    services: Services, gateway: str
) -> None:
    org = await live_org(services)
    async with live_client(gateway, org.oauth) as client:
        await client.subscribe({"id": "1" * 70_000})
        assert await client.close_code() == 1009


async def test_an_expired_token_ends_its_subscriptions_unauthenticated(
    services: Services, gateway: str
) -> None:
    org = await live_org(services)
    secret = services.settings.jwt_secret.get_secret_value()
    token = jwt_token(org.org_id, f"k{org.org_id}", secret=secret, ttl=2)
    async with live_client(gateway, oauth_header(token)) as client:
        before = active_subscriptions(services)
        sub = await client.subscribe({"id": str(org.customer_id)})
        await wait_active(services, before + 1)
        message = await client.receive(within=10)
        assert (message["id"], message["type"]) == (sub, "next"), message
        assert message["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert (await client.receive())["type"] == "complete"
    assert services.hub is not None
    assert services.hub.subscribers == 0


async def test_a_deactivated_client_loses_its_subscriptions(services: Services) -> None:
    """Checked again every `live_recheck_seconds` (30 s by default; short here)."""
    settings = make_settings(
        Driver.PYMONGO,
        database=services.settings.database,
        live_recheck_seconds=0.3,
        auth_cache_seconds=0,
    )
    own = Services.create(settings, services.database.uri)
    org = await live_org(services)
    try:
        async with (
            served_in_loop(create_app(settings, services=own)) as base,
            live_client(base, org.basic) as client,
        ):
            sub = await client.subscribe({"id": str(org.customer_id)})
            await wait_active(own, 1)
            records = own.database.db[CUSTOMER_BADGES]
            await records.insert_one(org.record(ObjectId(), earnCount=1))
            assert (await client.next_event(sub))["kind"] == "EARNED"
            await own.database.db[API_CLIENTS].update_one(
                {"username": f"u{org.org_id}"}, {"$set": {"active": False}}
            )
            message = await client.receive(within=10)
            assert message["payload"]["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    finally:
        assert own.hub is not None
        await own.hub.close()
        await own.store.close()
        await own.database.close()
    await asyncio.sleep(0)


async def test_the_legacy_protocol_is_not_spoken(gateway: str) -> None:
    """subscriptions-transport-ws ("graphql-ws" subprotocol) is off: unmaintained, and it had
    an authentication advisory in Strawberry."""
    legacy = [Subprotocol("graphql-ws")]
    async with connect(ws_url(gateway), subprotocols=legacy, compression=None) as connection:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(connection.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4406


async def test_a_quiet_socket_is_pinged_every_interval(services: Services, gateway: str) -> None:
    """One timer per process pings the sockets that sent nothing for the interval (0.3 s
    here), so that proxies keep them; answered pongs keep the socket open."""
    org = await live_org(services)
    async with live_client(gateway, org.basic) as client:
        deadline = time.monotonic() + 10
        while client.pings < 3 and time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                await client.receive(within=0.2)
        assert client.pings >= 3
        sub = await client.subscribe({"id": str(org.customer_id)})  # still open, still served
        await wait_active(services, 1)
        await services.database.db[CUSTOMER_BADGES].insert_one(org.record(ObjectId(), earnCount=1))
        assert (await client.next_event(sub))["kind"] == "EARNED"


async def test_a_client_that_answers_no_ping_is_closed(services: Services, gateway: str) -> None:
    """A peer gone without a close is found by the pings it leaves unanswered (three intervals
    of 0.3 s here): its socket is closed, as uvicorn's own ping timeout (off) used to do."""
    org = await live_org(services)
    async with live_client(gateway, org.basic) as client:
        started = time.monotonic()
        with pytest.raises(ConnectionClosed) as closed:
            while time.monotonic() - started < 10:
                await client.connection.recv()  # read, never answer: the pings go unanswered
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
        assert time.monotonic() - started < 5


async def test_a_clients_websockets_and_event_streams_share_one_connection_limit(
    services: Services,
) -> None:
    """`live_max_connections_per_client` counts an API client's WebSockets and event streams
    together: with a limit of 2, a WebSocket and an event stream leave no room for either a
    second stream (429 before it starts) or a second WebSocket (4429), and a stream that
    ends gives its place back. Before, event streams had no limit at all."""
    settings = make_settings(
        Driver.PYMONGO, database=services.settings.database, live_max_connections_per_client=2
    )
    org = await live_org(services)
    body = {"query": BADGE_CHANGED, "variables": {"customer": {"id": str(org.customer_id)}}}
    headers = {"Accept": "text/event-stream", **org.oauth}
    async with (
        served_in_loop(create_app(settings, services=services)) as base,
        httpx.AsyncClient(base_url=base, timeout=10) as http,
        live_client(base, org.oauth),
    ):
        async with http.stream("POST", "/graphql", json=body, headers=headers) as stream:
            assert stream.status_code == 200
            refused = await http.post("/graphql", json=body, headers=headers)
            assert refused.status_code == 429
            error = refused.json()["errors"][0]
            assert error["extensions"]["code"] == "RATE_LIMITED"
            assert "Too many open connections" in error["message"]
            async with live_client(base, org.oauth, acknowledge=False) as third:
                with contextlib.suppress(ConnectionClosed):
                    await third.receive()
                assert third.connection.close_code == 4429

        async def stream_opens() -> bool:
            async with http.stream("POST", "/graphql", json=body, headers=headers) as again:
                return again.status_code == 200

        # The closed stream's place is given back (at once, here; bounded, to be safe).
        for _ in range(50):
            if await stream_opens():
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the ended stream's place was not given back")
