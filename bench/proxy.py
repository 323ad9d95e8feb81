"""A counting TCP proxy in front of MongoDB: database round trips and bytes read, per request.

Between the server under test and the database, it reads the wire protocol's message headers:
each message from the client that is a command (not a monitoring `hello`/`ping`) is a round
trip, and every byte of the replies to those commands is a byte read from MongoDB.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from dataclasses import dataclass

import bson

_HEADER = struct.Struct("<iiii")  # messageLength, requestID, responseTo, opCode
_OP_MSG = 2013
_MONITORING = {"hello", "ismaster", "isMaster", "ping", "buildinfo", "buildInfo", "endSessions"}


@dataclass
class Counts:
    round_trips: int = 0
    bytes_read: int = 0


def _command_name(message: bytes) -> str:
    """The first key of an OP_MSG's body section, or "" for other messages."""
    _, _, _, op_code = _HEADER.unpack_from(message)
    if op_code != _OP_MSG or len(message) < 21 or message[20] != 0:
        return ""
    (doc_length,) = struct.unpack_from("<i", message, 21)
    body = bson.decode(message[21 : 21 + doc_length])
    return next(iter(body), "")


class CountingProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.counts = Counts()
        self._counted_requests: set[int] = set()
        self.server: asyncio.Server | None = None
        self.port = 0

    def reset(self) -> Counts:
        counts, self.counts = self.counts, Counts()
        return counts

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.server.wait_closed(), 2)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(
                self._pump(reader, up_writer, from_client=True),
                self._pump(up_reader, writer, from_client=False),
                return_exceptions=True,
            )

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, from_client: bool
    ) -> None:
        try:
            while True:
                header = await reader.readexactly(16)
                length, request_id, response_to, _ = _HEADER.unpack(header)
                message = header + await reader.readexactly(length - 16)
                if from_client:
                    if _command_name(message) not in _MONITORING:
                        self.counts.round_trips += 1
                        self._counted_requests.add(request_id)
                elif response_to in self._counted_requests:
                    self._counted_requests.discard(response_to)
                    self.counts.bytes_read += length
                writer.write(message)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
