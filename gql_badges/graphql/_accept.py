"""Choosing the response's media type from a request's `Accept` header (RFC 9110 ranges and q),
and reading the request's own `Content-Type`.

>>> negotiate("application/graphql-response+json, application/json;q=0.9")
'application/graphql-response+json'
>>> negotiate("*/*")
'application/json'
>>> negotiate("text/html") is None
True
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from email.message import Message

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"

# What the gateway can answer in. When a client ranks both the same (no header, `*/*`,
# `application/*`), legacy JSON wins: clients that name neither predate the newer type, and
# the GraphQL-over-HTTP audit suite expects `application/json` for them.
SUPPORTED = (JSON, GRAPHQL_RESPONSE_JSON)


# A client sends the same few headers on every request: each value is read once. The caches are
# bounded, so a client sending new values evicts old ones and never grows memory.
_KNOWN_HEADERS = 64


def content_type(header: str) -> tuple[str, dict[str, str]]:
    """A `Content-Type` header's media type, as written, and its parameters.

    >>> content_type("application/json; charset=UTF-8")
    ('application/json', {'charset': 'UTF-8'})
    """
    media_type, params = _content_type(header)
    return media_type, dict(params)


@functools.lru_cache(maxsize=_KNOWN_HEADERS)
def _content_type(header: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    message = Message()
    message["content-type"] = header
    (media_type, _), *params = message.get_params() or [("", "")]
    return media_type, tuple((name, value) for name, value in params if isinstance(value, str))


@dataclass(frozen=True, slots=True)
class _Range:
    type: str
    subtype: str
    q: float
    position: int

    def specificity(self, media_type: str) -> int:
        """How closely this range names `media_type`: 2 exactly, 1 by `type/*`, 0 by `*/*`;
        -1 when it does not match at all."""
        type_, subtype = media_type.split("/", 1)
        if self.type == "*":
            return 0 if self.subtype == "*" else -1
        if self.type != type_:
            return -1
        if self.subtype == "*":
            return 1
        return 2 if self.subtype == subtype else -1


def _ranges(accept: str) -> list[_Range]:
    ranges = []
    for position, item in enumerate(accept.split(",")):
        media_range, *parameters = (part.strip() for part in item.split(";"))
        if media_range.count("/") != 1:
            continue  # not a media range: ignored, as a lenient server does
        type_, subtype = media_range.lower().split("/")
        q = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0  # a malformed weight accepts nothing rather than everything
        if type_ and subtype and 0.0 <= q <= 1.0:
            ranges.append(_Range(type_, subtype, q, position))
    return ranges


@functools.lru_cache(maxsize=_KNOWN_HEADERS)
def negotiate(accept: str | None) -> str | None:
    """The supported media type the client prefers; None when it accepts none of them.

    Each supported type takes the weight of the most specific range that names it; the highest
    weight wins, then the more specific range, then the one listed first.
    """
    if accept is None or not accept.strip():
        return JSON
    ranges = _ranges(accept)
    best: tuple[float, int, int] | None = None
    chosen = None
    for media_type in SUPPORTED:
        matches = [(r.specificity(media_type), r) for r in ranges]
        matches = [(s, r) for s, r in matches if s >= 0]
        if not matches:
            continue
        specificity, deciding = max(matches, key=lambda match: (match[0], -match[1].position))
        if deciding.q <= 0:
            continue
        key = (deciding.q, specificity, -deciding.position)
        if best is None or key > best:
            best, chosen = key, media_type
    return chosen


__all__ = ["GRAPHQL_RESPONSE_JSON", "JSON", "negotiate"]
