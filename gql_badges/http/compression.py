"""Compressed answers: Brotli or gzip, as the request's `Accept-Encoding` prefers.

    Middleware(Compression)

Starlette's `GZipMiddleware` has no Brotli and looks for "gzip" anywhere in the header, so a
client that refuses gzip (`gzip;q=0`) still gets it. The Brotli middlewares on PyPI
(`brotli-asgi`) match "br" the same way, compress event streams, and build on Starlette's
undocumented responder classes. This one reads the header as RFC 9110 says (q-values, `*`,
`identity`), over the `brotli` package (Google's own bindings) and the standard library's zlib.

What is never compressed: bodies under `MINIMUM_SIZE` (the headers would outweigh the saving),
answers already encoded, partial content, HEAD, and streams whose chunks must reach the client
as they are written: server-sent events (`text/event-stream`) and multipart answers (Apollo's
multipart subscriptions, `multipart/mixed`). WebSocket connections are not HTTP responses and
pass untouched. The levels were chosen from `python -m bench.compression` (bench/README.md).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import brotli
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

BROTLI = "br"
GZIP = "gzip"
# Preferred first when the client weighs both alike: Brotli is smaller at the same CPU.
ENCODINGS = (BROTLI, GZIP)
MINIMUM_SIZE = 1024
# From `python -m bench.compression` (bench/README.md): each is the knee of its curve on the
# gateway's pages. gzip 6 shrinks a REST page of 1000 by 21x (1 and 3: 16x) for 6.8 ms; 9 adds
# 8% at twice the CPU. Brotli 4 shrinks it by 29x for 4.4 ms, smaller and cheaper than gzip 6
# at every page size; 5 adds 7% at twice the CPU, 9 and 11 cost 30 ms and a second.
GZIP_LEVEL = 6
BROTLI_QUALITY = 4
_STREAMED_TYPES = ("text/event-stream", "multipart/")
_ALIASES = {"x-gzip": GZIP}


def negotiate(accept_encoding: str | None) -> str | None:
    """The encoding to answer in (`br` or `gzip`), or None for the body as it is (identity).

    Each coding's weight is its own q-value, else the `*` entry's, else 0 (not acceptable);
    q=0 refuses. The highest weight wins, Brotli on a tie. No header: identity.
    """
    weights = _weights(accept_encoding)
    best, best_weight = None, 0.0
    for encoding in ENCODINGS:
        weight = weights.get(encoding, weights.get("*", 0.0))
        if weight > best_weight:
            best, best_weight = encoding, weight
    return best


def accepts(accept_encoding: str | None, encoding: str) -> bool:
    """Whether the header accepts `encoding` at all (a weight above 0)."""
    weights = _weights(accept_encoding)
    return weights.get(encoding, weights.get("*", 0.0)) > 0


def _weights(accept_encoding: str | None) -> dict[str, float]:
    weights: dict[str, float] = {}
    if not accept_encoding:
        return weights
    for entry in accept_encoding.split(","):
        coding, _, parameters = entry.partition(";")
        coding = coding.strip().lower()
        coding = _ALIASES.get(coding, coding)
        if not coding:
            continue
        weight = 1.0
        for parameter in parameters.split(";"):
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value.strip())
                except ValueError:
                    weight = 0.0  # a malformed weight accepts nothing
        weights[coding] = weight
    return weights


def compressor(encoding: str, level: int | None = None) -> Callable[[bytes, bool], bytes]:
    """A streaming compressor: `compress(chunk, last)` gives the bytes to send for the chunk
    (flushed, so a streamed chunk is never held back); `last` ends the stream. `level`: the
    benchmark's, else the gateway's (`BROTLI_QUALITY`, `GZIP_LEVEL`)."""
    if encoding == BROTLI:
        quality = BROTLI_QUALITY if level is None else level
        brotli_stream = brotli.Compressor(mode=brotli.MODE_TEXT, quality=quality)

        def compress_brotli(chunk: bytes, last: bool) -> bytes:
            out: bytes = brotli_stream.process(chunk)
            end: bytes = brotli_stream.finish() if last else brotli_stream.flush()
            return out + end

        return compress_brotli
    gzip_level = GZIP_LEVEL if level is None else level
    gzip_stream = zlib.compressobj(gzip_level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)

    def compress_gzip(chunk: bytes, last: bool) -> bytes:
        out = gzip_stream.compress(chunk)
        return out + gzip_stream.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)

    return compress_gzip


def compress(body: bytes, encoding: str, level: int | None = None) -> bytes:
    """`body` whole in `encoding`, as the middleware sends a one-message answer."""
    return compressor(encoding, level)(body, True)


def _compressible(start: Message, headers: Headers) -> bool:
    media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
    return (
        start["status"] not in (204, 206, 304)
        and "content-encoding" not in headers
        and not media_type.startswith(_STREAMED_TYPES)
    )


class Compression:
    def __init__(self, app: ASGIApp, minimum_size: int = MINIMUM_SIZE) -> None:
        self.app = app
        self.minimum_size = minimum_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "HEAD":
            await self.app(scope, receive, send)
            return
        encoding = negotiate(Headers(scope=scope).get("accept-encoding"))
        start: Message | None = None
        encode: Callable[[bytes, bool], bytes] | None = None
        passing = False  # the answer goes out as the app writes it

        async def compressing_send(message: Message) -> None:
            nonlocal start, encode, passing
            if passing or message["type"] not in ("http.response.start", "http.response.body"):
                await send(message)
                return
            if message["type"] == "http.response.start":
                if _compressible(message, Headers(raw=message.get("headers", []))):
                    start = message  # held until the first body says how large it is
                else:
                    passing = True
                    await send(message)
                return
            assert start is not None
            body: bytes = message.get("body", b"")
            more = bool(message.get("more_body", False))
            if encode is None:
                if len(body) < self.minimum_size and not more:
                    passing = True
                    await send(start)
                    await send(message)
                    return
                headers = MutableHeaders(raw=start.setdefault("headers", []))
                headers.add_vary_header("Accept-Encoding")
                if encoding is None:
                    passing = True
                    await send(start)
                    await send(message)
                    return
                encode = compressor(encoding)
                headers["Content-Encoding"] = encoding
                del headers["Content-Length"]
                body = encode(body, not more)
                if not more:
                    headers["Content-Length"] = str(len(body))
                await send(start)
            else:
                body = encode(body, not more)
            await send({"type": "http.response.body", "body": body, "more_body": more})

        await self.app(scope, receive, compressing_send)


__all__ = ["BROTLI", "GZIP", "Compression", "accepts", "compress", "negotiate"]
