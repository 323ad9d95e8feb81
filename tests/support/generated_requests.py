"""Generated requests of either endpoint, written for REST and for GraphQL.

A request is an endpoint and some of its arguments by `badges.request` keyword; `rest_params`
writes them as a query string (names and enum values in random case), `graphql_arguments` as
a GraphQL argument list. The parity tests send both and compare the answers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any

from bson import ObjectId
from hypothesis import strategies as st

from gql_badges.enums import BadgeType
from gql_badges.rest.params import CUSTOMER_PARAMS, MANAGEMENT_PARAMS, Param
from gql_badges.timefmt import format_iso
from tests.support import CUSTOMER, MANAGEMENT
from tests.support.generated import dates, names

ENDPOINTS = {
    "customer": (f"{CUSTOMER}", CUSTOMER_PARAMS, "customerBadges", "badges"),
    "management": (
        f"{MANAGEMENT}",
        MANAGEMENT_PARAMS,
        "badgeManagement",
        "customerBadges",
    ),
}

CUSTOMER_REFS = ["id", "email", "cardNumber"]


def _values(param: Param, group_ids: list[ObjectId]) -> st.SearchStrategy[Any]:
    if param.enum is not None:
        return st.sampled_from(list(param.enum))
    return {
        "badge_type": st.sampled_from(list(BadgeType)),
        "include_expired": st.booleans(),
        "limit": st.integers(1, 6),
        "size": st.integers(1, 6),
        "page": st.integers(0, 3),
        "name": names,
        "start_on": dates,
        "expires_on": dates,
        "group_id": st.sampled_from([*group_ids, ObjectId()]).map(str),
    }[param.argument]


@st.composite
def endpoint_requests(draw: st.DrawFn, group_ids: list[ObjectId]) -> tuple[str, dict[str, Any]]:
    """An endpoint and some of its arguments (by `badges.request` keyword)."""
    endpoint = draw(st.sampled_from(sorted(ENDPOINTS)))
    params = ENDPOINTS[endpoint][1]
    chosen = draw(st.sets(st.sampled_from([param.argument for param in params]), max_size=4))
    arguments = {
        param.argument: draw(_values(param, group_ids))
        for param in params
        if param.argument in chosen
    }
    # An operator needs its date: drop a lone operator (that case is a 400, tested elsewhere).
    for date in ("start_on", "expires_on"):
        if f"{date}_operator" in arguments and date not in arguments:
            del arguments[f"{date}_operator"]
    return endpoint, arguments


def _random_case(draw: Callable[..., Any], text: str) -> str:
    spelled: str = draw(st.sampled_from([text, text.lower(), text.upper()]))
    return spelled


def rest_params(
    draw: Callable[..., Any], params: tuple[Param, ...], arguments: dict[str, Any]
) -> dict[str, str]:
    out = {}
    for param in params:
        if param.argument not in arguments:
            continue
        value = arguments[param.argument]
        if isinstance(value, StrEnum):
            text = _random_case(draw, value.value)
        elif isinstance(value, bool):
            text = _random_case(draw, str(value).lower())
        elif isinstance(value, datetime):
            text = format_iso(value)
        else:
            text = str(value)
        out[_random_case(draw, param.name)] = text
    return out


def graphql_arguments(params: tuple[Param, ...], arguments: dict[str, Any]) -> str:
    parts = []
    for param in params:
        if param.argument not in arguments:
            continue
        value = arguments[param.argument]
        if isinstance(value, StrEnum):
            literal = value.name
        elif isinstance(value, bool):
            literal = str(value).lower()
        elif isinstance(value, datetime):
            literal = json.dumps(format_iso(value))
        elif isinstance(value, str):
            literal = json.dumps(value)
        else:
            literal = str(value)
        parts.append(f"{param.name}: {literal}")
    return ", ".join(parts)
