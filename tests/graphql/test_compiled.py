"""Compiled execution answers byte for byte as graphql-core does (a differential property test).

Two apps over the same services and a fixed clock: one runs queries from compiled plans, the
other (`graphql_compiled=False`) through graphql-core's field-by-field execution. Hypothesis
writes documents over the whole schema: both root fields, several root fields at once, aliases,
named fragments and inline fragments (on the constraint union, the item interface, the type
itself, untyped), `__typename`, `@include`/`@skip` with literals and variables, every argument
as a literal or a variable, and error cases: an unknown customer, bad input (page sizes, enum
and DateTime variables, ids), no or bad credentials. Every answer must have the same status and
the very same bytes. Generated data (with every kind of constraint) and the demo data set.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import AsyncIterator
from itertools import count
from typing import Any

import httpx
import orjson
import pytest
import strawberry
from bson import ObjectId
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    is_composite_type,
)
from hypothesis import event, given
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.routing import Route

from gql_badges.app import create_app
from gql_badges.graphql._internals import graphql_schema
from gql_badges.graphql.executor import plan_cache
from gql_badges.graphql.manifest import PersistedOperation, Safelist
from gql_badges.graphql.plan_cache import PlanStats
from gql_badges.graphql.schema import create_schema
from gql_badges.graphql.view import GraphQLView
from gql_badges.services import Services
from gql_badges.timefmt import format_iso
from tests.support import basic_auth, database_examples, new_org_id, seed_org
from tests.support.generated import NOW, dates, names, org_data

SCHEMA: GraphQLSchema = graphql_schema(create_schema())
ROOT_FIELDS = ["customerBadges", "badgeManagement"]


def _stats(app: Starlette) -> PlanStats:
    (view,) = [r.endpoint for r in app.routes if isinstance(r, Route) and r.path == "/graphql"]
    assert isinstance(view, GraphQLView)
    assert isinstance(view.schema, strawberry.Schema)
    return plan_cache(view.schema).stats


@pytest.fixture(scope="session")
async def twin_clients(
    services: Services,
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient, PlanStats]]:
    """(compiled, graphql-core, the compiled app's plan stats), both on the data's clock."""
    fixed = dataclasses.replace(services, clock=lambda: NOW)
    compiled = create_app(services.settings, services=fixed)
    plain = create_app(
        services.settings.model_copy(update={"graphql_compiled": False}), services=fixed
    )
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=compiled), base_url="http://a") as a,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=plain), base_url="http://b") as b,
    ):
        yield a, b, _stats(compiled)


# --- documents ------------------------------------------------------------------------------


@dataclasses.dataclass
class Document:
    """A document being written: its variables and fragments, with fresh names for each."""

    customers: list[str]  # customer references (GraphQL literals) that exist
    group_ids: list[str]
    variables: dict[str, tuple[str, Any]] = dataclasses.field(default_factory=dict)
    fragments: list[str] = dataclasses.field(default_factory=list)
    names: count[int] = dataclasses.field(default_factory=count)

    def variable(self, type_: str, value: Any) -> str:
        name = f"v{next(self.names)}"
        self.variables[name] = (type_, value)
        return f"${name}"

    def text(self, selections: str) -> str:
        declared = ", ".join(f"${name}: {type_}" for name, (type_, _) in self.variables.items())
        head = f"query Q({declared})" if declared else "query Q"
        return "\n".join([f"{head} {{ {selections} }}", *self.fragments])

    def values(self) -> dict[str, Any]:
        return {name: value for name, (_, value) in self.variables.items()}


def _alias(draw: st.DrawFn, doc: Document) -> str:
    return f"a{next(doc.names)}: " if draw(st.integers(0, 5)) == 0 else ""


def _directive(draw: st.DrawFn, doc: Document) -> str:
    choice = draw(st.integers(0, 9))
    if choice > 1:
        return ""
    name = "include" if choice == 0 else "skip"
    flag = draw(st.booleans())
    condition = doc.variable("Boolean!", flag) if draw(st.booleans()) else str(flag).lower()
    return f" @{name}(if: {condition})"


def _conditions(type_: GraphQLNamedType) -> list[GraphQLNamedType]:
    """Types a fragment inside a selection on `type_` may be on (and still apply)."""
    if isinstance(type_, GraphQLUnionType):
        return [type_, *type_.types]
    if isinstance(type_, GraphQLInterfaceType):
        return [type_, *SCHEMA.get_possible_types(type_)]
    assert isinstance(type_, GraphQLObjectType)
    return [type_, *type_.interfaces]


@st.composite
def selections(
    draw: st.DrawFn, doc: Document, type_: GraphQLNamedType, depth: int = 0, nest: int = 0
) -> str:
    """One to four selections on `type_`: fields, `__typename`, fragments (`nest` deep)."""
    fields = getattr(type_, "fields", {})
    out = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["field"] * 8 + ["typename", "inline", "spread"]))
        if kind == "field" and fields:
            name = draw(st.sampled_from(sorted(fields)))
            target = get_named_type(fields[name].type)
            sub = ""
            if is_composite_type(target):
                sub = " { " + draw(selections(doc, target, depth + 1)) + " }"
            out.append(_alias(draw, doc) + name + _directive(draw, doc) + sub)
        elif kind in ("inline", "spread") and nest < 2:
            condition = draw(st.sampled_from(_conditions(type_)))
            inner = draw(selections(doc, condition, depth, nest + 1))
            if kind == "inline":
                # Untyped, the fragment is on the enclosing type.
                untyped = condition is type_ and draw(st.booleans())
                on = "" if untyped else f" on {condition.name}"
                out.append(f"...{on}{_directive(draw, doc)} {{ {inner} }}")
            else:
                name = f"F{next(doc.names)}"
                doc.fragments.append(f"fragment {name} on {condition.name} {{ {inner} }}")
                out.append(f"...{name}{_directive(draw, doc)}")
        else:
            out.append(_alias(draw, doc) + "__typename" + _directive(draw, doc))
    return " ".join(out)


def _good_value(draw: st.DrawFn, doc: Document, arg_name: str, type_: Any) -> Any:
    """A value of the argument's type, as JSON (a variable's value)."""
    named = get_named_type(type_)
    if isinstance(named, GraphQLEnumType):
        return draw(st.sampled_from(sorted(named.values)))
    if named.name == "Boolean":
        return draw(st.booleans())
    if named.name == "Int":
        return draw(st.integers(1, 6) if arg_name in ("limit", "size") else st.integers(0, 3))
    if named.name == "ID":
        return draw(st.sampled_from([*doc.group_ids, str(ObjectId())]))
    if named.name == "DateTime":
        return format_iso(draw(dates))
    return draw(names)


_BAD_VALUES: dict[str, list[Any]] = {
    "Int": [0, -1, 5000],
    "ID": ["not-an-id", ""],
    "DateTime": ["2024-13-01T00:00:00Z", "yesterday", 5],
    "String": ["", "x" * 300],
    "Boolean": ["yes"],
}


def _literal(value: Any, named: GraphQLNamedType) -> str:
    if isinstance(named, GraphQLEnumType) and isinstance(value, str) and value in named.values:
        return value
    return json.dumps(value)


@st.composite
def root_field(
    draw: st.DrawFn, doc: Document, bad_input: bool, unknown_customer: bool, taken: set[str]
) -> str:
    name = draw(st.sampled_from(ROOT_FIELDS))
    # Fields of one response name must have the same arguments: a second one gets an alias.
    alias = _alias(draw, doc) if name not in taken else f"a{next(doc.names)}: "
    taken.add(alias or name)
    assert SCHEMA.query_type is not None
    definition = SCHEMA.query_type.fields[name]
    arguments = []
    for arg_name, arg in definition.args.items():
        if arg_name == "customer":
            ref = '{id: "999999999"}' if unknown_customer else draw(st.sampled_from(doc.customers))
            if draw(st.booleans()):  # the whole input object as a variable
                key, _, value = ref.strip("{}").partition(": ")
                ref = doc.variable("CustomerRef!", {key: json.loads(value)})
            arguments.append(f"customer: {ref}")
            continue
        if draw(st.integers(0, 2)) != 0:
            continue
        named = get_named_type(arg.type)
        assert not isinstance(named, GraphQLInputObjectType)
        value = _good_value(draw, doc, arg_name, arg.type)
        as_variable = draw(st.booleans())
        if bad_input and draw(st.integers(0, 2)) == 0:
            as_variable = True  # a bad enum or DateTime literal is a validation error instead
            value = draw(st.sampled_from(_BAD_VALUES.get(named.name, ["NOT_A_MEMBER", 1])))
        text = doc.variable(str(arg.type), value) if as_variable else _literal(value, named)
        arguments.append(f"{arg_name}: {text}")
    field_type = get_named_type(definition.type)
    body = draw(selections(doc, field_type, 1))
    return f"{alias}{name}({', '.join(arguments)}){_directive(draw, doc)} {{ {body} }}"


@st.composite
def documents(
    draw: st.DrawFn, customers: list[str], group_ids: list[str]
) -> tuple[str, dict[str, Any]]:
    doc = Document(customers, group_ids)
    bad_input = draw(st.integers(0, 4)) == 0
    missing = draw(st.integers(0, 5))  # which root field names an unknown customer, if any
    roots: list[str] = []
    taken: set[str] = set()
    for index in range(draw(st.integers(1, 3))):
        if draw(st.integers(0, 5)) == 0:
            roots.append(_alias(draw, doc) + "__typename")
        else:
            roots.append(draw(root_field(doc, bad_input, index == missing, taken)))
    return doc.text(" ".join(roots)), doc.values()


# --- data -----------------------------------------------------------------------------------

CONSTRAINTS: list[dict[str, Any]] = [
    {"constraintType": "CUSTOMER_BADGE_FIXED_VALUE", "maxEarnLimit": 2},
    {"constraintType": "BADGE_FIXED_VALUE", "maxEarnLimit": None},
    {
        "constraintType": "CUSTOMER_BADGE_ROLLING_WINDOW",
        "maxEarnForDays": 1,
        "rollForDays": 7,
        "maxEarnForWeeks": None,
        "rollForWeeks": 2,
        "maxEarnForMonths": 3,
        "rollForMonths": None,
    },
    {"constraintType": "BADGE_ROLLING_WINDOW", "rollType": "DAYS", "rollValue": 3},
    {
        "constraintType": "CUSTOMER_BADGE_FIXED_WINDOW",
        "referenceId": "w",
        "durationType": "MONTHS",
        "refreshRate": 1,
        "startDayOfTheWeek": "MONDAY",
        "maxEarnLimit": 4,
        "cycleStatus": "ACTIVE",
        "startDate": NOW,
        "endDate": None,
    },
    {"constraintType": "BADGE_FIXED_WINDOW", "durationType": "WEEKS", "endDate": NOW},
    {"constraintType": "CUSTOMER_BADGE_NO_LIMIT"},
    {"constraintType": "BADGE_NO_LIMIT"},
    {"constraintType": "SOMETHING_NEW", "nested": {"a": [1, "b", None]}},
    {"maxEarnLimit": 1},  # no type at all
    # Values the schema cannot answer (an Int over 32 bits, a null for a non-null String): a
    # field error with its path, then a null where the schema allows one.
    {"constraintType": "BADGE_FIXED_VALUE", "maxEarnLimit": 2**40},
    {"constraintType": "BADGE_ROLLING_WINDOW", "rollValue": "three"},
]
IMAGES = [
    {"name": "e", "fileSvcHandle": "h1", "url": "https://img/e.png", "tag": "EARNED"},
    {"name": "u", "url": "https://img/u.png", "tag": "NOT_A_TAG"},
    {"fileSvcHandle": "h3"},
]


@st.composite
def rich_org_data(draw: st.DrawFn, org_id: int) -> dict[str, Any]:
    """`org_data` with every kind of constraint, images, tags and custom fields."""
    docs = draw(org_data(org_id))
    some = st.lists(st.sampled_from(CONSTRAINTS), max_size=3)
    for badge in docs["badge_meta"]:
        badge["badgeConstraints"] = draw(some)
        badge["customerConstraints"] = badge["customerConstraints"] + draw(some)
        badge["images"] = draw(st.lists(st.sampled_from(IMAGES), max_size=2))
        badge["tags"] = draw(st.sampled_from([[], ["a", "b"], None]))
        badge["customFields"] = draw(st.sampled_from([{}, {"k": "v", "n": 1}, None]))
        badge["description"] = draw(st.sampled_from([None, "d", ""]))
        badge["badgeRank"] = draw(st.sampled_from([badge["badgeRank"], 2**33]))
    return docs


async def _org_with_client(
    services: Services, data: st.DataObject
) -> tuple[dict[str, Any], dict[str, str]]:
    org_id = new_org_id()
    docs = data.draw(rich_org_data(org_id), label="data")
    return docs, await seed_org(services, org_id, docs)


_REQUEST_ID = re.compile(rb'"requestId":"[0-9a-f]+"')


def _same_ids(body: bytes) -> bytes:
    """The body with its request ids (one per request, by design) made equal."""
    return _REQUEST_ID.sub(b'"requestId":"-"', body)


async def _same_answer(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient, PlanStats],
    text: str,
    variables: dict[str, Any],
    headers: dict[str, str],
) -> httpx.Response:
    compiled, plain, _ = clients
    body = {"query": text, "variables": variables}
    got = await compiled.post("/graphql", json=body, headers=headers)
    want = await plain.post("/graphql", json=body, headers=headers)
    if _nulled_by_a_root_error(got) and _nulled_by_a_root_error(want):
        # A failed non-null root field nulls `data`, and graphql-core then drops the errors of
        # sibling fields still running: which of those make it in depends on timing, in either
        # executor. The errors that nulled the answer must be the same.
        assert got.status_code == want.status_code
        assert _root_errors(got) == _root_errors(want)
        return got
    assert (got.status_code, _same_ids(got.content)) == (want.status_code, _same_ids(want.content))
    return got


def _nulled_by_a_root_error(response: httpx.Response) -> bool:
    body = response.json()
    return body.get("data", ...) is None and bool(_root_errors(response))


def _root_errors(response: httpx.Response) -> list[str]:
    """The errors of root fields themselves (their path is the root field alone), as text."""
    errors = response.json().get("errors") or []
    return sorted(
        _same_ids(orjson.dumps(e, option=orjson.OPT_SORT_KEYS)).decode()
        for e in errors
        if len(e.get("path") or []) == 1
    )


def _outcome(response: httpx.Response) -> None:
    """What the answer was, in Hypothesis's statistics (`--hypothesis-show-statistics`)."""
    body = response.json()
    codes = sorted({str((e.get("extensions") or {}).get("code")) for e in body.get("errors", ())})
    event(f"data: {body.get('data') is not None}, codes: {codes}")


AUTH_CASES = st.sampled_from(["ok"] * 8 + ["none", "bad"])
BAD_AUTH = {"none": {}, "bad": {"X-CAP-API-OAUTH-TOKEN": "not.a.token"}}


@pytest.mark.slow  # a property test on the database
@database_examples(8)
@given(data=st.data())
async def test_compiled_answers_as_graphql_core_on_generated_data(
    twin_clients: tuple[httpx.AsyncClient, httpx.AsyncClient, PlanStats],
    services: Services,
    data: st.DataObject,
) -> None:
    docs, auth = await _org_with_client(services, data)
    customer = docs["customers"][0]
    customers = [
        f'{{id: "{customer["_id"]}"}}',
        f"{{email: {json.dumps(customer['email'])}}}",
        f"{{cardNumber: {json.dumps(customer['cardNumbers'][0])}}}",
    ]
    group_ids = [str(group["_id"]) for group in docs["badge_groups"]]
    for _ in range(4):
        text, variables = data.draw(documents(customers, group_ids), label="document")
        case = data.draw(AUTH_CASES, label="auth")
        _outcome(await _same_answer(twin_clients, text, variables, BAD_AUTH.get(case, auth)))


@pytest.mark.slow  # a property test on the database
@database_examples(6)
@given(data=st.data())
@pytest.mark.usefixtures("demo")
async def test_compiled_answers_as_graphql_core_on_the_demo_data(
    twin_clients: tuple[httpx.AsyncClient, httpx.AsyncClient, PlanStats], data: st.DataObject
) -> None:
    customers = ['{id: "62090013"}', '{email: "swati.jain@example.com"}']
    auth = basic_auth("demo.100606", "demo-password-100606")
    for _ in range(3):
        text, variables = data.draw(documents(customers, ["65c3600c60d9261bdd8a6410"]))
        _outcome(await _same_answer(twin_clients, text, variables, auth))


EVERY_FIELD = """query Every($customer: CustomerRef!) {
  customerBadges(customer: $customer, badgeType: AVAILABLE, limit: 100) {
    badges { ...Item orgId startOn tags earnType earnedCount customFields
      customerConstraints { ...Constraint } badgeConstraints { ...Constraint } }
    pagination { page size total totalPages } }
  badgeManagement(customer: $customer, size: 100) {
    customerBadges { ...Item badgeType createdOn lastUpdatedOn lastEarnedOn startsOn earnCount
                     issueStatus }
    pagination { total } } }
fragment Item on BadgeItem { __typename badgeMetaId name description badgeGroupId
  badgeGroupName group { id name rank } badgeRank expiresOn
  images { name fileSvcHandle url tag } ownership { restrictedToOwners
  claims { ownerType referenceId isActive } } active badgeStatus lastEarnedOnDate
  lastEarnEventDate }
fragment Constraint on BadgeConstraint { __typename
  ... on CustomerBadgeFixedValueConstraint { constraintType maxEarnLimit }
  ... on BadgeFixedValueConstraint { constraintType maxEarnLimit }
  ... on CustomerBadgeRollingWindowConstraint { constraintType maxEarnForDays rollForDays
      maxEarnForWeeks rollForWeeks maxEarnForMonths rollForMonths }
  ... on BadgeRollingWindowConstraint { constraintType rollType rollValue maxEarnLimit }
  ... on CustomerBadgeFixedWindowConstraint { constraintType referenceId durationType
      refreshRate startDayOfTheWeek maxEarnLimit cycleStatus startDate endDate }
  ... on BadgeFixedWindowConstraint { constraintType referenceId startDate endDate }
  ... on CustomerBadgeNoLimitConstraint { constraintType }
  ... on BadgeNoLimitConstraint { constraintType }
  ... on UnknownConstraint { constraintType raw } }"""


@pytest.mark.usefixtures("demo")
async def test_every_field_of_the_demo_data_is_planned_and_identical(
    twin_clients: tuple[httpx.AsyncClient, httpx.AsyncClient, PlanStats],
) -> None:
    stats = twin_clients[2]
    before = dataclasses.replace(stats)
    auth = basic_auth("demo.100606", "demo-password-100606")
    variables = {"customer": {"id": "62090013"}}
    response = await _same_answer(twin_clients, EVERY_FIELD, variables, auth)
    body = response.json()
    assert "errors" not in body and body["data"]["customerBadges"]["badges"]
    assert stats.planned == before.planned + 1
    assert stats.given_up == before.given_up  # the plan completed it itself


# Item fields selected in every way a document can (aliases of the list and of the fields,
# fragments on the item type, on its interface and on the page, directives with variables):
# the items are built with only the fields selected, and each must still have its value.
SELECTION_FORMS = [
    """query F($customer: CustomerRef!) {
      customerBadges(customer: $customer, badgeType: AVAILABLE, limit: 100) {
        x: badges { n: name } badges { ... on BadgeItem { expiresOn group { name } } ...B } } }
    fragment B on Badge { earnedCount badgeStatus customerConstraints { __typename } }""",
    """query F($customer: CustomerRef!) {
      customerBadges(customer: $customer, badgeType: AVAILABLE, limit: 100) { ...P } }
    fragment P on BadgePage { badges { lastEarnedOnDate ... { images { url } } } }""",
    """query F($customer: CustomerRef!, $on: Boolean!) {
      badgeManagement(customer: $customer, size: 100) {
        customerBadges { badgeGroupName @include(if: $on) issueStatus @skip(if: $on)
                         ... on CustomerBadge { earnCount o: ownership { claims { ownerType } } }
                         ...on BadgeItem { badgeMetaId } } } }""",
]


def _within(got: Any, every: Any, aliases: dict[str, str]) -> bool:
    """Whether each value of `got` is the every-field answer's (under the field's own name)."""
    if isinstance(got, dict):
        return isinstance(every, dict) and all(
            _within(value, every[aliases.get(key, key)], aliases) for key, value in got.items()
        )
    if isinstance(got, list):
        return (
            isinstance(every, list)
            and len(got) == len(every)
            and all(_within(g, e, aliases) for g, e in zip(got, every, strict=True))
        )
    return bool(got == every)


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize("text", SELECTION_FORMS)
async def test_items_built_with_the_selected_fields_only_have_each_value(
    twin_clients: tuple[httpx.AsyncClient, httpx.AsyncClient, PlanStats], text: str
) -> None:
    auth = basic_auth("demo.100606", "demo-password-100606")
    variables = {"customer": {"id": "62090013"}}
    every = (await _same_answer(twin_clients, EVERY_FIELD, variables, auth)).json()["data"]
    response = await _same_answer(twin_clients, text, {**variables, "on": True}, auth)
    body = response.json()
    assert "errors" not in body
    aliases = {"x": "badges", "n": "name", "o": "ownership"}
    (root,) = body["data"]
    items = body["data"][root]
    assert any(len(page) for page in items.values())
    assert _within(items, every[root], aliases), (items, every[root])


async def test_a_plan_is_built_once_per_document_and_introspection_is_not_planned() -> None:
    schema = create_schema()
    plans = plan_cache(schema)
    query = "query Q($c: CustomerRef!) { customerBadges(customer: $c) { __typename } }"
    for _ in range(3):  # no context: the resolver fails (no caller), but the plan runs
        result = await schema.execute(query, variable_values={"c": {"id": "1"}})
        assert result.errors
    assert (plans.stats.compiled, plans.stats.planned, plans.stats.passed) == (1, 3, 0)

    result = await schema.execute("{ __schema { queryType { name } } }")
    assert result.errors is None and result.data == {"__schema": {"queryType": {"name": "Query"}}}
    result = await schema.execute('{ __typename __type(name: "Badge") { name } }')
    assert result.errors is None and result.data == {
        "__typename": "Query",
        "__type": {"name": "Badge"},
    }
    assert (plans.stats.compiled, plans.stats.planned, plans.stats.passed) == (1, 3, 2)


async def test_directive_values_get_a_plan_each() -> None:
    schema = create_schema()
    plans = plan_cache(schema)
    query = """query Q($c: CustomerRef!, $b: Boolean!) {
        customerBadges(customer: $c) { __typename @include(if: $b) } }"""
    for flag in (True, False, True, False):
        await schema.execute(query, variable_values={"c": {"id": "1"}, "b": flag})
    assert (plans.stats.compiled, plans.stats.planned) == (2, 4)


@pytest.mark.slow  # plans 300 documents
async def test_the_plan_cache_is_bounded() -> None:
    schema = create_schema()
    plans = plan_cache(schema)
    for n in range(300):
        await schema.execute(f'{{ a{n}: customerBadges(customer: {{id: "1"}}) {{ __typename }} }}')
    assert len(plans.operations) == plans.operations.maxsize < 300


async def test_safelisted_queries_are_planned_at_start_up() -> None:
    listed = 'query Listed { customerBadges(customer: {id: "1"}) { badges { name } } }'
    later = """query Later($b: Boolean!) {
        customerBadges(customer: {id: "1"}) { badges { name @include(if: $b) } } }"""
    safelist = Safelist.of(
        [
            PersistedOperation("1", "Listed", "query", listed),
            PersistedOperation("2", None, "query", later),
        ]
    )
    schema = create_schema(safelist=safelist)
    plans = plan_cache(schema)
    assert plans.stats.compiled == 1  # the second reads a variable: planned by its request
    await schema.execute(listed)
    assert (plans.stats.compiled, plans.stats.planned) == (1, 1)


@pytest.mark.usefixtures("demo")
async def test_a_directive_that_fails_where_fields_are_collected_fails_as_in_graphql_core(
    twin_clients: tuple[httpx.AsyncClient, httpx.AsyncClient, PlanStats],
) -> None:
    # A null for a defaulted Boolean passes validation; @include then refuses it, at the
    # field whose selections graphql-core is collecting (a field error there, not a refusal).
    query = """query Q($v: Boolean = true) {
        customerBadges(customer: {id: "62090013"}) { badges @include(if: $v) { name } } }"""
    auth = basic_auth("demo.100606", "demo-password-100606")
    response = await _same_answer(twin_clients, query, {"v": None}, auth)
    assert response.json()["errors"]
