"""A TCP proxy in front of MongoDB that counts what a client sends through it and reads back.

It reads only the wire protocol's message headers and each OP_MSG's command name, so it sees
what left the gateway independently of the driver's own monitoring. Two views of one stream:

- `commands`: the name of every command, handshakes (`hello`, legacy `isMaster` in OP_QUERY)
  left out: what the tests compare with the spans and metrics the gateway reports;
- `counts`: round trips (every message but the drivers' monitoring: `hello`, `ping`, ...) and
  the bytes of the replies to them: the benchmark's accounting, taken with `reset()`.

The tests and the benchmark (`bench/run.py`) both use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from dataclasses import dataclass
from urllib.parse import urlparse

import bson

_HEADER = struct.Struct("<iiii")  # messageLength, requestID, responseTo, opCode
_OP_MSG = 2013
_HANDSHAKES = {"hello", "ismaster", "isMaster"}
_MONITORING = _HANDSHAKES | {"ping", "buildinfo", "buildInfo", "endSessions"}


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
    def __init__(self, upstream_uri: str) -> None:
        parsed = urlparse(upstream_uri)
        self.upstream = (parsed.hostname or "127.0.0.1", parsed.port or 27017)
        self.commands: list[str] = []
        self.counts = Counts()
        self._counted_requests: set[int] = set()
        self.server: asyncio.Server | None = None
        self.port = 0
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def reset(self) -> Counts:
        """The counts since the last reset, and zero from here on."""
        counts, self.counts = self.counts, Counts()
        return counts

    async def start(self) -> CountingProxy:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        """Stop listening and cut the open connections (a driver closing its client then need
        not wait for its monitor's long-polling `hello` to come back)."""
        for writer in list(self._writers):
            writer.close()
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.server.wait_closed(), 2)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        self._writers |= {writer, up_writer}
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(
                self._pump(reader, up_writer, from_client=True),
                self._pump(up_reader, writer, from_client=False),
                return_exceptions=True,
            )

    def _count(self, message: bytes, from_client: bool) -> None:
        _, request_id, response_to, _ = _HEADER.unpack_from(message)
        if from_client:
            name = _command_name(message)
            if name and name not in _HANDSHAKES:
                self.commands.append(name)
            if name not in _MONITORING:
                self.counts.round_trips += 1
                self._counted_requests.add(request_id)
        elif response_to in self._counted_requests:
            self._counted_requests.discard(response_to)
            self.counts.bytes_read += len(message)

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, from_client: bool
    ) -> None:
        try:
            while True:
                header = await reader.readexactly(16)
                (length,) = struct.unpack_from("<i", header)
                message = header + await reader.readexactly(length - 16)
                self._count(message, from_client)
                writer.write(message)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
