"""uvicorn's server, with a first step on SIGTERM for the live connections."""

from __future__ import annotations

import gc
import socket

import uvicorn
from starlette.applications import Starlette

from gql_badges.app import drain


class DrainingServer(uvicorn.Server):
    """On SIGTERM, before uvicorn's own shutdown (which would close WebSockets with 1012 and
    wait for event streams to end by themselves): stop listening, close the live WebSockets
    with 1001 and end the event streams, so that clients reconnect to another replica, all
    within `drain_seconds`."""

    def __init__(self, config: uvicorn.Config, app: Starlette, drain_seconds: float) -> None:
        super().__init__(config)
        self.app = app
        self.drain_seconds = drain_seconds

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            # What start-up built lives as long as the process: the modules, the schema, the
            # clients (some 120,000 objects). Out of the collector's generations (its garbage
            # collected first), it is no longer walked by each full collection, which a page of
            # 1,000 items (tens of thousands of new containers) sets off every third request.
            gc.collect()
            gc.freeze()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for listener in self.servers:  # no new sockets
            listener.close()
        await drain(self.app, self.drain_seconds)
        await super().shutdown(sockets)


__all__ = ["DrainingServer"]
