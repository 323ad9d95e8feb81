"""REST and GraphQL, through the real app, against the rules' oracle on generated data.

For each generated request of either endpoint, the REST URI and the GraphQL root field must
return the badges the oracle expects, in its order, with its pagination. Parameter names and
enum values go to REST in random case. The app's clock is fixed to the data's `NOW`, so the
millisecond boundaries of the rules are exercised.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import AsyncIterator

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gql_badges.app import create_app
from gql_badges.badges.request import CustomerRef, customer_badges_query, management_query
from gql_badges.enums import IdentifierType
from gql_badges.services import Services
from tests.support import (
    database_examples,
    draw_seeded_org,
)
from tests.support.generated import NOW, org_data
from tests.support.generated_requests import (
    CUSTOMER_REFS,
    ENDPOINTS,
    endpoint_requests,
    graphql_arguments,
    rest_params,
)
from tests.support.oracle import expected_order


@pytest.fixture(scope="session")
async def fixed_clock_client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    fixed = dataclasses.replace(services, clock=lambda: NOW)
    app = create_app(services.settings, services=fixed)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        yield http


@pytest.mark.slow  # a property test on the database
@database_examples(10)
@given(data=st.data())
async def test_rest_and_graphql_answer_as_the_rules_say(
    fixed_clock_client: httpx.AsyncClient, services: Services, data: st.DataObject
) -> None:
    client = fixed_clock_client
    docs, auth = await draw_seeded_org(services, data, org_data)

    customer = docs["customers"][0]
    records = {r["badgeMetaId"]: r for r in docs["customer_badges"]}
    groups = {g["_id"]: g for g in docs["badge_groups"]}
    for _ in range(4):
        endpoint, arguments = data.draw(endpoint_requests(list(groups)), label="request")
        path, params, root_field, list_name = ENDPOINTS[endpoint]
        kind = data.draw(st.sampled_from(CUSTOMER_REFS), label="customer ref")
        value = str(customer["_id"]) if kind == "id" else (
            customer["email"] if kind == "email" else customer["cardNumbers"][0]
        )  # fmt: skip

        build = customer_badges_query if endpoint == "customer" else (
            management_query
        )  # fmt: skip
        query = build(CustomerRef(IdentifierType(kind), value), **arguments)
        order = expected_order(query, docs["badge_meta"], records, groups, NOW)
        start = query.page * query.size
        expected_ids = [str(badge_id) for badge_id in order[start : start + query.size]]
        expected_pagination = {
            "page": query.page,
            "size": len(expected_ids),
            "total": len(order),
            "totalPages": math.ceil(len(order) / query.size),
        }

        headers = auth if kind == "id" else auth | {"X-CAP-CUSTOMER-IDENTIFIER": kind}
        response = await client.get(
            path + value, params=rest_params(data.draw, params, arguments), headers=headers
        )
        assert response.status_code == 200, response.text
        rest = response.json()["data"]
        assert [item["badgeMetaId"] for item in rest[list_name]] == expected_ids
        assert rest["pagination"] == expected_pagination

        graphql_args = graphql_arguments(params, arguments)
        text = f"""{{ {root_field}(customer: {{{kind}: {json.dumps(value)}}}
            {", " + graphql_args if graphql_args else ""}) {{
            {list_name} {{ badgeMetaId }} pagination {{ page size total totalPages }} }} }}"""
        body = (await client.post("/graphql", json={"query": text}, headers=auth)).json()
        assert "errors" not in body, (text, body)
        answer = body["data"][root_field]
        assert [item["badgeMetaId"] for item in answer[list_name]] == expected_ids
        assert answer["pagination"] == expected_pagination
