"""Query cost protection: every legitimate query passes, abuse is refused naming its limit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import get_introspection_query

from gql_badges.badges.items import Endpoint
from gql_badges.demo.handles import SWATI
from gql_badges.graphql._internals import graphql_schema
from gql_badges.graphql.limits import MAX_VALIDATION_ERRORS, QueryLimits
from gql_badges.graphql.schema import create_schema
from gql_badges.graphql.selection import every_item_field
from tests.support import graphql

# Every field of each item type, as the benchmark asks for them: the largest legitimate queries.
ALL_FIELDS = every_item_field(graphql_schema(create_schema()), Endpoint.CUSTOMER)
MANAGEMENT_ITEM_FIELDS = every_item_field(graphql_schema(create_schema()), Endpoint.MANAGEMENT)
CUSTOMER = f'{{id: "{SWATI.key}"}}'
LARGEST = f"""{{
  customerBadges(customer: {CUSTOMER}, limit: 100) {{
    badges {{ {ALL_FIELDS} }} pagination {{ page size total totalPages }} }}
  badgeManagement(customer: {CUSTOMER}, size: 100) {{
    customerBadges {{ {MANAGEMENT_ITEM_FIELDS} }} pagination {{ page size total totalPages }} }}
}}"""


@pytest.mark.usefixtures("demo")
async def test_the_largest_legitimate_query_passes(
    client: httpx.AsyncClient, org_b_auth: dict[str, str]
) -> None:
    body = await graphql(client, LARGEST, org_b_auth)
    assert "errors" not in body, body["errors"]
    assert body["data"]["customerBadges"]["pagination"]["size"] >= 1


async def test_the_largest_legitimate_query_with_a_variable_page_passes() -> None:
    query = LARGEST.replace("limit: 100", "limit: $n").replace("{\n", "query($n: Int) {\n", 1)
    result = await create_schema().execute(query, variable_values={"n": 100})
    assert not any(
        (e.extensions or {}).get("code") == "QUERY_TOO_COMPLEX" for e in result.errors or ()
    )


async def refused(query: str, **schema_options: Any) -> dict[str, Any]:
    result = await create_schema(**schema_options).execute(query)
    assert result.errors, "the document was accepted"
    extensions = result.errors[0].extensions or {}
    assert extensions.get("code") == "QUERY_TOO_COMPLEX", result.errors
    assert extensions["limit"] in result.errors[0].message or extensions["limit"] == "maxTokens"
    return extensions


INTROSPECTION = json.loads(
    (Path(__file__).parent / "introspection" / "graphql-js.json").read_text()
)
GRAPHQL_CORE_INTROSPECTION = {
    "graphql-core-default": get_introspection_query(),
    "graphql-core-all-options": get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
        one_of=True,
    ),
}


@pytest.mark.parametrize(
    "document",
    [*INTROSPECTION.values(), *GRAPHQL_CORE_INTROSPECTION.values()],
    ids=[*INTROSPECTION, *GRAPHQL_CORE_INTROSPECTION],
)
async def test_real_tools_introspection_passes_the_default_limits(document: str) -> None:
    """GraphiQL's, codegen's and graphql-core's own documents, as they send them."""
    result = await create_schema().execute(document)
    assert result.errors is None, result.errors
    assert result.data is not None
    names = {t["name"] for t in result.data["__schema"]["types"]}
    assert {"Query", "BadgePage", "CustomerRef"} <= names


async def test_deep_of_type_chains_are_refused() -> None:
    nested = "name"
    for _ in range(40):
        nested = f"ofType {{ {nested} }}"
    extensions = await refused(f"{{ __schema {{ types {{ fields {{ type {{ {nested} }} }} }} }} }}")
    assert extensions["limit"] == "maxIntrospectionDepth" and extensions["maximum"] == 16


async def test_type_recursion_is_refused() -> None:
    """`__type` nested through fields and types: each level multiplies the work."""
    nested = "name"
    for _ in range(5):
        nested = f"fields {{ type {{ {nested} }} }}"
    extensions = await refused(f'{{ __type(name: "Query") {{ {nested} }} }}')
    assert extensions["limit"] in ("maxCost", "maxIntrospectionDepth"), extensions


async def test_data_depth_keeps_its_own_limit() -> None:
    nested = "name"
    for _ in range(12):
        nested = f"group {{ {nested} }}"  # not a real nesting: refused before validation
    query = f"{{ customerBadges(customer: {CUSTOMER}) {{ badges {{ {nested} }} }} }}"
    extensions = await refused(query)
    assert extensions["limit"] == "maxDepth" and extensions["maximum"] == 12


async def test_too_many_aliases_are_refused() -> None:
    aliases = " ".join(f"a{n}: __typename" for n in range(31))
    extensions = await refused(f"{{ {aliases} }}")
    assert extensions == {"code": "QUERY_TOO_COMPLEX", "limit": "maxAliases", "maximum": 30,
                          "actual": 31}  # fmt: skip


async def test_wide_pages_through_aliases_and_fragments_are_refused() -> None:
    """Ten aliased largest pages: within the alias limit, far over the cost."""
    roots = " ".join(
        f"p{n}: customerBadges(customer: {CUSTOMER}, limit: 100) {{ badges {{ ...All }} }}"
        for n in range(10)
    )
    query = f"{{ {roots} }} fragment All on Badge {{ {ALL_FIELDS} }}"
    extensions = await refused(query)
    assert extensions["limit"] == "maxCost" and extensions["actual"] > extensions["maximum"]


async def test_a_page_size_in_a_variable_is_counted_at_its_value() -> None:
    query = f"""query($n: Int) {{ customerBadges(customer: {CUSTOMER}, limit: $n) {{
        badges {{ {ALL_FIELDS} }} }} }}"""
    schema = create_schema(QueryLimits(max_cost=20_000), largest_page=1000)
    small = await schema.execute(query, variable_values={"n": 5})  # runs (and fails: no context)
    assert not any(
        (e.extensions or {}).get("code") == "QUERY_TOO_COMPLEX" for e in small.errors or ()
    )
    large = await schema.execute(query, variable_values={"n": 1000})
    assert large.errors and (large.errors[0].extensions or {}).get("limit") == "maxCost"


async def test_huge_documents_are_refused_while_parsing() -> None:
    fields = " ".join("__typename" for _ in range(6_000))
    extensions = await refused(f"{{ {fields} }}")
    assert extensions["limit"] == "maxTokens"


async def test_introspection_can_be_turned_off() -> None:
    result = await create_schema(introspection=False).execute("{ __schema { types { name } } }")
    assert result.errors and "introspection" in result.errors[0].message.lower()
    assert (await create_schema().execute("{ __schema { types { name } } }")).errors is None


async def test_graphql_cores_own_refusals_carry_our_code() -> None:
    """Its rule against `fields` nested in introspection, within our limits otherwise."""
    nested = "name"
    for _ in range(4):
        nested = f"fields {{ type {{ {nested} }} }}"
    result = await create_schema().execute(f'{{ __type(name: "Query") {{ {nested} }} }}')
    assert result.errors and result.errors[0].message == "Maximum introspection depth exceeded"
    assert result.errors[0].extensions == {
        "code": "QUERY_TOO_COMPLEX",
        "limit": "maxIntrospectionDepth",
    }


async def test_graphql_cores_validation_aborts_carry_our_code() -> None:
    """More validation errors than graphql-core reports: its abort is named like our limits."""
    unknown = " ".join(f"unknown{n}" for n in range(MAX_VALIDATION_ERRORS + 1))
    result = await create_schema().execute(f"{{ {unknown} }}")
    assert result.errors is not None and len(result.errors) == MAX_VALIDATION_ERRORS + 1
    assert not any(e.extensions for e in result.errors[:-1])  # the rule's own errors
    assert result.errors[-1].extensions == {
        "code": "QUERY_TOO_COMPLEX",
        "limit": "maxValidationErrors",
    }
