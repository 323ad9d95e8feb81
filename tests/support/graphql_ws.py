"""A small graphql-transport-ws client over the `websockets` package, for the live tests: it
speaks the protocol frame by frame, so a test can see exactly what the server sends (close
codes, pings, the order of messages)."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

PROTOCOL = "graphql-transport-ws"

BADGE_CHANGED = """
subscription Live($customer: CustomerRef!) {
  badgeChanged(customer: $customer) {
    kind badgeMetaId earnCount changedOn
    badge { badgeMetaId name earnCount issueStatus badgeStatus lastEarnedOn active }
  }
}
"""


def ws_url(base: str) -> str:
    return base.replace("http://", "ws://", 1) + "/graphql"


class LiveClient:
    """One open, acknowledged graphql-transport-ws connection."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self._ids = itertools.count(1)
        self.pings = 0

    async def send(self, message: Mapping[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def receive(self, within: float = 10) -> dict[str, Any]:
        """The next message other than a server ping (answered with a pong, as clients do)."""
        while True:
            raw = await asyncio.wait_for(self.connection.recv(), within)
            message: dict[str, Any] = json.loads(raw)
            if message.get("type") == "ping":
                self.pings += 1
                await self.send({"type": "pong"})
                continue
            return message

    async def subscribe(self, customer: Mapping[str, Any], query: str = BADGE_CHANGED) -> str:
        """Start a badgeChanged subscription; its id."""
        operation_id = str(next(self._ids))
        await self.send(
            {
                "id": operation_id,
                "type": "subscribe",
                "payload": {"query": query, "variables": {"customer": dict(customer)}},
            }
        )
        return operation_id

    async def next_event(self, operation_id: str, within: float = 10) -> dict[str, Any]:
        """The data of the operation's next `next` message; fails on anything else."""
        message = await self.receive(within)
        assert message.get("id") == operation_id, message
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        event: dict[str, Any] = message["payload"]["data"]["badgeChanged"]
        return event

    async def close_code(self, within: float = 10) -> int | None:
        """Wait for the server to close the socket; its close code."""
        try:
            while True:
                await asyncio.wait_for(self.connection.recv(), within)
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else None


@asynccontextmanager
async def live_client(
    base: str, payload: Mapping[str, Any] | None, *, acknowledge: bool = True, max_queue: int = 16
) -> AsyncIterator[LiveClient]:
    """A connection to the gateway at `base`, initialised with `payload` (None: no init);
    with `acknowledge`, checked to be acknowledged. `max_queue`: the frames the client buffers
    before it stops reading its socket (as a stalled application would)."""
    protocols = [Subprotocol(PROTOCOL)]
    async with connect(
        ws_url(base), subprotocols=protocols, compression=None, max_queue=max_queue
    ) as connection:
        client = LiveClient(connection)
        if payload is not None:
            await client.send({"type": "connection_init", "payload": dict(payload)})
            if acknowledge:
                ack = await client.receive()
                assert ack["type"] == "connection_ack", ack
        yield client
