"""Compressed answers: negotiation by Accept-Encoding (q-values, `*`, identity), the size floor,
and streams left alone (event streams, multipart, WebSocket), through the real app and through
tiny apps built here around the middleware."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator

import brotli
import httpx
import pytest
import websockets
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from gql_badges.demo.handles import SWATI
from gql_badges.http.compression import MINIMUM_SIZE, Compression, negotiate
from tests.support import CUSTOMER, served_in_loop

BIG_QUERY = "{ __schema { types { name description fields { name description } } } }"
SMALL_QUERY = "{ __typename }"


@pytest.mark.parametrize(
    ("header", "chosen"),
    [
        (None, None),
        ("", None),
        ("identity", None),
        ("gzip", "gzip"),
        ("x-gzip", "gzip"),
        ("br", "br"),
        ("gzip, deflate, br, zstd", "br"),  # Chromium's: equal weights, Brotli preferred
        ("gzip;q=1.0, br;q=0.5", "gzip"),
        ("GZIP;Q=0.3, br;q=0.2", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("gzip;q=0", None),
        ("gzip;q=0, br;q=0, identity", None),
        ("*", "br"),
        ("*;q=0", None),
        ("br;q=0, *;q=0.1", "gzip"),
        ("deflate, compress", None),
        ("gzip;q=nonsense", None),
    ],
)
def test_negotiation(header: str | None, chosen: str | None) -> None:
    assert negotiate(header) == chosen


def _decoded(response: httpx.Response, raw: bytes) -> bytes:
    """The body as sent on the wire, decoded by hand."""
    encoding = response.headers.get("content-encoding")
    if encoding == "gzip":
        return gzip.decompress(raw)
    if encoding == "br":
        return bytes(brotli.decompress(raw))
    assert encoding is None, encoding
    return raw


async def _sent(client: httpx.AsyncClient, request: httpx.Request) -> tuple[httpx.Response, bytes]:
    """The answer, and its body as it crossed the wire (not decoded by httpx)."""
    response = await client.send(request, stream=True)
    raw = b"".join([chunk async for chunk in response.aiter_raw()])
    await response.aclose()
    return response, raw


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize(
    ("accept_encoding", "expected"),
    [("gzip", "gzip"), ("br", "br"), ("gzip, br", "br"), ("br;q=0, gzip;q=0.5", "gzip"),
     ("identity", None), ("gzip;q=0", None), (None, None)],
)  # fmt: skip
async def test_graphql_and_rest_answers_are_compressed_as_asked(
    client: httpx.AsyncClient,
    org_b_auth: dict[str, str],
    accept_encoding: str | None,
    expected: str | None,
) -> None:
    headers = org_b_auth | ({"Accept-Encoding": accept_encoding} if accept_encoding else {})
    requests = [
        client.build_request("POST", "/graphql", json={"query": BIG_QUERY}, headers=headers),
        client.build_request("GET", CUSTOMER + SWATI.key, headers=headers),
    ]
    if accept_encoding is None:
        for request in requests:
            del request.headers["accept-encoding"]  # httpx's own default
    for request in requests:
        response, raw = await _sent(client, request)
        assert response.status_code == 200
        assert response.headers.get("content-encoding") == expected
        body = _decoded(response, raw)
        assert len(body) > MINIMUM_SIZE
        assert "errors" not in json.loads(body) or json.loads(body)["errors"] == []
        assert int(response.headers["content-length"]) == len(raw)
        if expected is not None:
            assert "accept-encoding" in response.headers["vary"].lower()
            assert len(raw) < len(body) * 0.6


async def test_small_answers_are_sent_as_they_are(client: httpx.AsyncClient) -> None:
    request = client.build_request(
        "POST", "/graphql", json={"query": SMALL_QUERY}, headers={"Accept-Encoding": "br, gzip"}
    )
    response, raw = await _sent(client, request)
    assert "content-encoding" not in response.headers
    assert json.loads(raw) == {"data": {"__typename": "Query"}}


# --- streams, through tiny apps ---------------------------------------------------------------

CHUNK = b"x" * (4 * MINIMUM_SIZE)


async def _stream(request: Request) -> Response:
    media_type = request.path_params["kind"].replace("~", "/", 1)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(3):
            yield CHUNK
            await asyncio.sleep(0)

    return StreamingResponse(chunks(), media_type=media_type)


async def _echo(websocket: WebSocket) -> None:
    await websocket.accept()
    text = await websocket.receive_text()
    await websocket.send_text(text * 2)
    await websocket.close()


def _tiny_app() -> Starlette:
    return Starlette(
        routes=[Route("/stream/{kind}", _stream), WebSocketRoute("/ws", _echo)],
        middleware=[Middleware(Compression)],
    )


@pytest.mark.parametrize("kind", ["text~event-stream", "multipart~mixed"])
async def test_event_streams_and_multipart_answers_are_never_compressed(kind: str) -> None:
    transport = httpx.ASGITransport(app=_tiny_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://tiny") as client:
        request = client.build_request(
            "GET", f"/stream/{kind}", headers={"Accept-Encoding": "gzip, br"}
        )
        response, raw = await _sent(client, request)
    assert "content-encoding" not in response.headers
    assert raw == CHUNK * 3


async def test_another_streamed_answer_is_compressed_chunk_by_chunk() -> None:
    transport = httpx.ASGITransport(app=_tiny_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://tiny") as client:
        request = client.build_request(
            "GET", "/stream/application~json", headers={"Accept-Encoding": "gzip"}
        )
        response, raw = await _sent(client, request)
    assert response.headers["content-encoding"] == "gzip"
    assert "content-length" not in response.headers
    assert gzip.decompress(raw) == CHUNK * 3


async def test_websocket_passes_untouched() -> None:
    async with served_in_loop(_tiny_app()) as base:
        url = base.replace("http://", "ws://") + "/ws"
        async with websockets.connect(url, compression=None) as socket:
            await socket.send("hello " * 400)
            assert await socket.recv() == "hello " * 800
