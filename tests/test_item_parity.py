"""REST and GraphQL items, value by value, on generated data, through the real app.

For random customers and requests of either endpoint, the REST URI's items and the GraphQL root
field's items (every field selected) must agree on every field both have: instants as instants
(REST epoch seconds and their ISO twin against GraphQL's DateTime), ids as strings, enums,
JSON as stored, sub-documents field by field (the dates inside constraints as instants too).
`test_parity.py` checks which badges come back; this checks what each says.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from bson import ObjectId
from hypothesis import given
from hypothesis import strategies as st

from gql_badges.app import create_app
from gql_badges.badges.items import Endpoint, ItemField, Kind, rest_fields
from gql_badges.enums import ImageTag
from gql_badges.graphql._internals import graphql_schema
from gql_badges.graphql.schema import create_schema
from gql_badges.graphql.selection import every_item_field
from gql_badges.services import Services
from gql_badges.timefmt import parse_iso
from tests.support import database_examples, draw_seeded_org
from tests.support.generated import NOW, dates, maybe_dates, org_data
from tests.support.generated_requests import (
    CUSTOMER_REFS,
    ENDPOINTS,
    endpoint_requests,
    graphql_arguments,
    rest_params,
)

SELECTIONS = {
    endpoint: every_item_field(graphql_schema(create_schema()), endpoint) for endpoint in Endpoint
}


@pytest.fixture(scope="session")
async def clocked_client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    fixed = dataclasses.replace(services, clock=lambda: NOW)
    app = create_app(services.settings, services=fixed)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        yield http


@st.composite
def window_constraints(draw: st.DrawFn, prefix: str) -> dict[str, Any]:
    """A fixed-window constraint: the kind with dates inside (any of its fields may be absent)."""
    stored = {
        "constraintType": f"{prefix}FIXED_WINDOW",
        "referenceId": "w1",
        "durationType": draw(st.sampled_from(["DAYS", "MONTHS"])),
        "refreshRate": draw(st.none() | st.integers(1, 3)),
        "startDayOfTheWeek": "MONDAY",
        "maxEarnLimit": draw(st.integers(0, 3)),
        "cycleStatus": "ACTIVE",
        "startDate": draw(maybe_dates),
        "endDate": draw(dates),
    }
    absent = draw(st.sets(st.sampled_from(sorted(stored)[1:]), max_size=2))
    return {key: value for key, value in stored.items() if key not in absent}


@st.composite
def rich_org_data(draw: st.DrawFn, org_id: int) -> dict[str, Any]:
    """`org_data` with the fields it leaves empty filled in: images, tags, custom fields,
    descriptions, and constraints of every kind (dates inside included)."""
    docs = draw(org_data(org_id))
    for badge in docs["badge_meta"]:
        badge["description"] = draw(st.none() | st.text("ab é", max_size=5))
        badge["images"] = [
            {"name": "i", "fileSvcHandle": "h", "url": "https://x/i.png", "tag": tag}
            for tag in draw(st.lists(st.sampled_from(list(ImageTag)), max_size=2))
        ]
        badge["tags"] = draw(st.lists(st.sampled_from(["a", "b"]), max_size=2))
        badge["customFields"] = draw(st.dictionaries(st.sampled_from(["k", "K"]), st.text("xy")))
        badge["createdOn"] = draw(dates)
        windows = st.lists(window_constraints("CUSTOMER_BADGE_"), max_size=1)
        badge["customerConstraints"] += draw(windows)
        badge["badgeConstraints"] = draw(
            st.lists(
                window_constraints("BADGE_")
                | st.just({"constraintType": "BADGE_ROLLING_WINDOW", "rollType": "DAYS",
                           "rollValue": 3, "maxEarnLimit": 2})
                | st.just({"constraintType": "BADGE_NO_LIMIT"}),
                max_size=2,
            )
        )  # fmt: skip
        for claim in badge["ownership"]["claims"]:
            claim["referenceId"] = str(ObjectId())
    return docs


MISSING = object()


def same_instant(epoch: Any, iso: Any, graphql: Any) -> bool:
    if graphql is None:
        return epoch is None and iso is None
    instant = parse_iso(graphql)
    return parse_iso(iso) == instant and datetime.fromtimestamp(epoch, UTC) == instant


def document_problems(path: str, rest: Any, graphql: Any) -> list[str]:
    """A GraphQL object against the REST sub-document it was made of: every GraphQL field
    equals the stored one (instants: the REST epoch seconds and twin); `raw` is the whole."""
    if not isinstance(rest, dict) or not isinstance(graphql, dict):
        return [] if rest == graphql else [f"{path}: {rest!r} != {graphql!r}"]
    problems = []
    for key, value in graphql.items():
        if key == "__typename":
            continue
        if key == "raw":
            problems += document_problems(f"{path}.raw", rest, value)
        elif key + "ISO" in rest:
            if not same_instant(rest[key], rest[key + "ISO"], value):
                problems.append(f"{path}.{key}: {rest[key]}, {rest[key + 'ISO']} != {value}")
        elif isinstance(value, list):
            stored = rest.get(key) or []
            if len(stored) != len(value):
                problems.append(f"{path}.{key}: {stored!r} != {value!r}")
            for n, (one, other) in enumerate(zip(stored, value, strict=False)):
                problems += document_problems(f"{path}.{key}[{n}]", one, other)
        elif isinstance(value, dict):
            problems += document_problems(f"{path}.{key}", rest.get(key), value)
        elif key == "constraintType" and "raw" in graphql:
            stored = rest.get(key)
            if value != (stored if isinstance(stored, str) else ""):
                problems.append(f"{path}.{key}: {stored!r} != {value!r}")
        elif rest.get(key) != value:
            problems.append(f"{path}.{key}: {rest.get(key)!r} != {value!r}")
    return problems


def field_problems(field: ItemField, rest: dict[str, Any], graphql: dict[str, Any]) -> list[str]:
    name = field.name
    value = graphql[name]
    if name not in rest:
        if field.only_when_earned and value is None:
            return []
        return [f"{name}: missing in REST, {value!r} in GraphQL"]
    stored = rest[name]
    if field.kind is Kind.INSTANT:
        iso = rest[name + "ISO"]
        return [] if same_instant(stored, iso, value) else [f"{name}: {stored}, {iso} != {value}"]
    if field.kind is Kind.ENUM:
        assert field.enum is not None
        members = {member.value for member in field.enum}
        expected = stored if stored in members else None
        return [] if value == expected else [f"{name}: {stored!r} != {value!r}"]
    if field.kind in (Kind.OBJECT, Kind.LIST):
        return document_problems(name, {name: stored}, {name: value})
    return [] if stored == value else [f"{name}: {stored!r} != {value!r}"]


@pytest.mark.slow  # a property test on the database
@database_examples(8)
@given(data=st.data())
async def test_rest_and_graphql_items_agree_value_by_value(
    clocked_client: httpx.AsyncClient, services: Services, data: st.DataObject
) -> None:
    client = clocked_client
    docs, auth = await draw_seeded_org(services, data, rich_org_data)
    customer = docs["customers"][0]
    groups = [group["_id"] for group in docs["badge_groups"]]

    for _ in range(3):
        endpoint, arguments = data.draw(endpoint_requests(groups), label="request")
        path, params, root_field, list_name = ENDPOINTS[endpoint]
        kind = data.draw(st.sampled_from(CUSTOMER_REFS), label="customer ref")
        value = {"id": str(customer["_id"]), "email": customer["email"],
                 "cardNumber": customer["cardNumbers"][0]}[kind]  # fmt: skip
        headers = auth if kind == "id" else auth | {"X-CAP-CUSTOMER-IDENTIFIER": kind}
        response = await client.get(
            path + value, params=rest_params(data.draw, params, arguments), headers=headers
        )
        assert response.status_code == 200, response.text
        rest_items = response.json()["data"][list_name]

        graphql_args = graphql_arguments(params, arguments)
        text = f"""{{ {root_field}(customer: {{{kind}: {json.dumps(value)}}}
            {", " + graphql_args if graphql_args else ""}) {{
            {list_name} {{ {SELECTIONS[Endpoint(endpoint)]} }} }} }}"""
        body = (await client.post("/graphql", json={"query": text}, headers=auth)).json()
        assert "errors" not in body, (text, body)
        graphql_items = body["data"][root_field][list_name]

        assert len(rest_items) == len(graphql_items)
        fields = rest_fields(Endpoint(endpoint))
        for rest, graphql in zip(rest_items, graphql_items, strict=True):
            problems = [p for field in fields for p in field_problems(field, rest, graphql)]
            assert problems == [], (endpoint, rest["badgeMetaId"], problems)
