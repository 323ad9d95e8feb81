"""Choosing the response media type from `Accept`."""

from __future__ import annotations

import pytest

from gql_badges.graphql._accept import GRAPHQL_RESPONSE_JSON, JSON, negotiate

CASES = [
    (None, JSON),  # no header: the legacy type
    ("", JSON),
    ("*/*", JSON),
    ("application/*", JSON),
    ("application/json", JSON),
    (GRAPHQL_RESPONSE_JSON, GRAPHQL_RESPONSE_JSON),
    (f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8, {JSON}; charset=utf-8", GRAPHQL_RESPONSE_JSON),
    (f"{JSON}, {GRAPHQL_RESPONSE_JSON}", JSON),  # equal weights: the one listed first
    (f"{JSON};q=0.5, {GRAPHQL_RESPONSE_JSON}", GRAPHQL_RESPONSE_JSON),
    (f"{GRAPHQL_RESPONSE_JSON};q=0.2, {JSON};q=0.9", JSON),
    (f"*/*;q=0.1, {GRAPHQL_RESPONSE_JSON}", GRAPHQL_RESPONSE_JSON),
    (f"{GRAPHQL_RESPONSE_JSON};q=0, */*", JSON),  # q=0: refused even when */* allows it
    (f"{JSON};q=0, */*", GRAPHQL_RESPONSE_JSON),
    ("text/html,application/xhtml+xml,*/*;q=0.8", JSON),  # a browser
    ("APPLICATION/GRAPHQL-RESPONSE+JSON", GRAPHQL_RESPONSE_JSON),  # media types ignore case
    ("text/html", None),
    ("text/*, image/png", None),
    (f"{JSON};q=0", None),
    ("application/xml, nonsense", None),
    (f"{JSON};q=oops", None),  # a malformed weight accepts nothing
]


@pytest.mark.parametrize(("accept", "expected"), CASES)
def test_negotiate(accept: str | None, expected: str | None) -> None:
    assert negotiate(accept) == expected
