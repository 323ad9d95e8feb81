"""The server `gql-badges serve` runs (`serving.DrainingServer`)."""

from __future__ import annotations

import asyncio
import gc
import socket
import weakref

import httpx
import uvicorn

from gql_badges.app import create_app
from gql_badges.services import Services
from gql_badges.serving import DrainingServer


class _Cycle:
    def __init__(self) -> None:
        self.me = self


async def test_what_start_up_built_is_left_out_of_the_collectors_generations(
    services: Services,
) -> None:
    """Once started, what start-up made is frozen (a full collection no longer walks it), its
    garbage excepted: an unreachable cycle left before start-up is collected, not kept."""
    app = create_app(services.settings, services=services)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning")
    server = DrainingServer(config, app, drain_seconds=1)
    collected = asyncio.Event()
    garbage = _Cycle()
    weakref.finalize(garbage, collected.set)
    del garbage
    gc.disable()  # nothing but the server's start-up collects it
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        for _ in range(600):
            if server.started or task.done():
                break
            await asyncio.sleep(0.05)
        assert server.started
        assert gc.get_freeze_count() > 10_000  # the modules, the schema, the clients, ...
        assert collected.is_set()
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200
    finally:
        gc.unfreeze()
        gc.enable()
        server.should_exit = True
        await task
