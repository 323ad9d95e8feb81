"""Real subscription clients against a real gateway process: npm `graphql-ws` (WebSocket,
graphql-transport-ws), npm `graphql-sse` (distinct connections) and `gql` from PyPI (websockets,
graphql-transport-ws). Each receives an insert, an earnCount increment, an issue and a delete
of the customer's record, written straight into MongoDB, as the right events."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport

from tests.live.harness import (
    SUBSCRIPTION,
    Events,
    LiveGateway,
    LiveOrg,
    create_live_org,
    expect_each_kind,
    node_subscribers,
    wait_until_listening,
)


async def _org(gateway: LiveGateway) -> LiveOrg:
    return await create_live_org(gateway.database, gateway.jwt_secret)


@pytest.mark.parametrize("transport", ["ws", "sse"])
async def test_the_npm_client_receives_each_kind_of_change(
    subscribe_script: Path, live_gateway: LiveGateway, transport: str
) -> None:
    org = await _org(live_gateway)
    (customer,) = org.customers
    subscriber = {"id": "one", "headers": org.headers, "variables": org.variables(customer)}
    async with node_subscribers(
        subscribe_script, transport, live_gateway.base, [subscriber]
    ) as clients:
        events = clients.events["one"]
        await wait_until_listening(live_gateway.platform, org, {customer: events})
        await expect_each_kind(live_gateway.base, live_gateway.platform, org, customer, events)


@contextlib.asynccontextmanager
async def gql_subscription(base: str, org: LiveOrg, customer: int) -> AsyncIterator[Events]:
    """`gql` subscribed over graphql-transport-ws, the credentials in connection_init."""
    transport = WebsocketsTransport(
        url=base.replace("http", "ws", 1) + "/graphql",
        init_payload=org.headers,
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
    )
    events = Events()

    async def receive() -> None:
        request = GraphQLRequest(SUBSCRIPTION, variable_values=org.variables(customer))
        try:
            async with Client(transport=transport) as session:
                async for result in session.subscribe(request):
                    events.put_result({"data": result})
        except Exception as error:  # the test sees why events stopped, not a bare timeout
            events.queue.put_nowait({"error": repr(error)})

    task = asyncio.create_task(receive())
    try:
        yield events
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_the_python_gql_client_receives_each_kind_of_change(
    live_gateway: LiveGateway,
) -> None:
    org = await _org(live_gateway)
    (customer,) = org.customers
    async with gql_subscription(live_gateway.base, org, customer) as events:
        await wait_until_listening(live_gateway.platform, org, {customer: events})
        await expect_each_kind(live_gateway.base, live_gateway.platform, org, customer, events)
