"""The item table against everything derived from it: GraphQL types, REST keys, OpenAPI."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from bson import ObjectId
from bson.tz_util import utc as DRIVER_UTC
from graphql import (
    GraphQLEnumType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLUnionType,
    get_named_type,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from gql_badges.badges.items import (
    BY_NAME,
    ITEM_FIELDS,
    Endpoint,
    Item,
    ItemField,
    Kind,
    derive,
    graphql_fields,
    rest_fields,
    rest_keys,
)
from gql_badges.badges.projection import needs_groups, stored_fields
from gql_badges.badges.repository import BadgeRow
from gql_badges.enums import BadgeStatus
from gql_badges.graphql._internals import graphql_schema
from gql_badges.graphql.schema import create_schema
from gql_badges.graphql.selection import ITEM_TYPES
from gql_badges.rest.openapi import openapi_document
from gql_badges.rest.render import WRITERS
from gql_badges.timefmt import (
    as_utc,
    epoch_and_iso,
    epoch_seconds,
    epochs_and_isos,
    format_iso,
    format_iso_column,
    parse_iso,
)
from tests.support import stored_badge, stored_record

SCHEMA = graphql_schema(create_schema())
SCALARS = {
    Kind.INSTANT: "DateTime",
    Kind.ID: "ID",
    Kind.JSON: "JSON",
    Kind.INT: "Int",
    Kind.TEXT: "String",
    Kind.BOOL: "Boolean",
}


def kind_problems(field: ItemField, declared: GraphQLOutputType) -> list[str]:
    """How the GraphQL type of a field disagrees with the table's kind and nullability."""
    problems = []
    if isinstance(declared, GraphQLNonNull) == field.nullable:
        problems.append(f"{field.name}: nullable {field.nullable} but declared {declared}")
    inner = declared.of_type if isinstance(declared, GraphQLNonNull) else declared
    named = get_named_type(inner)
    assert named is not None
    if field.kind in SCALARS:
        if isinstance(inner, GraphQLList) or named.name != SCALARS[field.kind]:
            problems.append(f"{field.name}: {field.kind} but declared {declared}")
    elif field.kind is Kind.ENUM:
        assert field.enum is not None
        members = {member.value for member in field.enum}
        if not isinstance(named, GraphQLEnumType) or set(named.values) != members:
            problems.append(f"{field.name}: enum {field.enum.__name__} but declared {declared}")
    else:
        objects = GraphQLObjectType | GraphQLUnionType | GraphQLInterfaceType
        listed = isinstance(inner, GraphQLList)
        if not isinstance(named, objects) or listed != (field.kind is Kind.LIST):
            problems.append(f"{field.name}: {field.kind} but declared {declared}")
    return problems


@pytest.mark.parametrize("endpoint", list(Endpoint))
def test_graphql_item_types_have_exactly_the_tables_fields(endpoint: Endpoint) -> None:
    declared = SCHEMA.type_map[ITEM_TYPES[endpoint]]
    assert isinstance(declared, GraphQLObjectType)
    assert set(declared.fields) == {field.name for field in graphql_fields(endpoint)}
    problems = [
        problem
        for field in graphql_fields(endpoint)
        for problem in kind_problems(field, declared.fields[field.name].type)
    ]
    assert problems == []


def test_the_item_interface_has_the_fields_both_item_types_share() -> None:
    interface = SCHEMA.type_map["BadgeItem"]
    assert isinstance(interface, GraphQLInterfaceType)
    shared = {field.name for field in ITEM_FIELDS if field.graphql == set(Endpoint)}
    assert set(interface.fields) == shared


def test_kind_problems_are_found() -> None:
    """The check above can fail: a table that says otherwise than the types is caught."""
    badge = SCHEMA.type_map["Badge"]
    assert isinstance(badge, GraphQLObjectType)
    wrong = [
        replace(BY_NAME["orgId"], kind=Kind.TEXT),
        replace(BY_NAME["tags"], nullable=False),
        replace(BY_NAME["images"], kind=Kind.OBJECT),
        replace(BY_NAME["earnType"], enum=BadgeStatus),
    ]
    for field in wrong:
        assert kind_problems(field, badge.fields[field.name].type) != [], field


@pytest.mark.parametrize("endpoint", list(Endpoint))
def test_rest_places_are_one_order(endpoint: Endpoint) -> None:
    places = sorted(field.rest[endpoint] for field in rest_fields(endpoint))
    assert places == list(range(len(places)))


@pytest.mark.parametrize("endpoint", list(Endpoint))
def test_the_openapi_item_schemas_follow_the_table(endpoint: Endpoint) -> None:
    name = {Endpoint.CUSTOMER: "Badge", Endpoint.MANAGEMENT: "CustomerBadge"}[endpoint]
    schema = openapi_document()["components"]["schemas"][name]
    assert list(schema["properties"]) == list(rest_keys(endpoint))
    assert schema["required"] == list(rest_keys(endpoint, earned=False))


def test_only_earned_badges_carry_the_earn_dates() -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    badge = {"_id": ObjectId(), "orgId": 1, "startOn": now}
    earned = {"earnCount": 2, "lastEarnedOn": now, "lastEarnEventDate": None}
    for endpoint, writer in WRITERS.items():
        (item,) = writer.write(
            [_item(BadgeRow(stored_badge(badge), stored_record(earned), None), now)]
        )
        assert tuple(item) == rest_keys(endpoint)
        assert item["lastEarnedOnDate"] == epoch_seconds(now)
        assert item["lastEarnEventDate"] is None
        for record in (None, {"earnCount": 0, "lastEarnedOn": now}):
            (item,) = writer.write(
                [_item(BadgeRow(stored_badge(badge), stored_record(record), None), now)]
            )
            assert tuple(item) == rest_keys(endpoint, earned=False)


def _item(row: BadgeRow, now: datetime) -> Item:
    return derive([row], now)[0]


def test_projection_reads_what_the_fields_need() -> None:
    assert stored_fields(["badgeStatus", "startsOn"]) == {"startOn", "expiresOn"}
    assert stored_fields(["earnedCount", "badgeMetaId", "nonsense"]) == set()
    assert needs_groups(["badgeGroupName"]) and needs_groups(["group"])
    assert not needs_groups(["badgeGroupId", "name"])


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (datetime(2024, 5, 1, tzinfo=UTC), "2024-05-01T00:00:00Z"),
        (datetime(2024, 5, 1, 1, 2, 3, 45_000, tzinfo=UTC), "2024-05-01T01:02:03.045Z"),
        (datetime(2024, 5, 1, 1, 2, 3, 999), "2024-05-01T01:02:03.000Z"),  # naive: UTC
        (datetime(5, 1, 2, tzinfo=UTC), "0005-01-02T00:00:00Z"),  # four digits, as ISO says
        (datetime(2024, 5, 1, 1, 2, 3, tzinfo=DRIVER_UTC), "2024-05-01T01:02:03Z"),
        (
            datetime(2024, 5, 1, 3, 2, 3, tzinfo=timezone(timedelta(hours=2))),
            "2024-05-01T01:02:03Z",
        ),
        (datetime(2024, 5, 1, 1, 2, 3, 7, tzinfo=DRIVER_UTC), "2024-05-01T01:02:03.000Z"),
    ],
)
def test_instants_are_written_in_iso_8601(value: datetime, text: str) -> None:
    assert format_iso(value) == text
    milliseconds = value.microsecond // 1000 * 1000
    assert parse_iso(text) == as_utc(value).replace(microsecond=milliseconds)


def test_a_column_of_instants_is_each_instant_written_alone() -> None:
    whole = [datetime(2024, 5, 1, 1, 2, 3, tzinfo=UTC), datetime(1999, 1, 1, tzinfo=UTC)]
    mixed = [*whole, None, datetime(2024, 5, 1, 1, 2, 3, 45_000), whole[0].astimezone()]
    for values in (whole, mixed):  # the first takes the fast path, the second cannot
        epochs, texts = epochs_and_isos(values)
        assert epochs == [epoch_seconds(v) if v is not None else None for v in values]
        assert texts == [format_iso(v) if v is not None else None for v in values]


_COLUMN_VALUES = st.one_of(
    st.none(),
    st.datetimes(timezones=st.sampled_from([UTC, DRIVER_UTC])).map(
        lambda instant: instant.replace(microsecond=0)
    ),
    st.datetimes(timezones=st.sampled_from([UTC, DRIVER_UTC])),
    st.datetimes(timezones=st.timezones()),
    st.datetimes(),
    st.sampled_from(["2024-01-01", 0, False, 1.5]),
)


@settings(max_examples=500)
@given(st.lists(_COLUMN_VALUES, max_size=8), st.booleans())
def test_a_column_of_instants_is_written_at_once_as_each_alone(
    values: list[object], whole: bool
) -> None:
    """`format_iso_column` writes a column of whole seconds in UTC (and nulls) as `format_iso`
    writes each instant, and declines any other: it is then written an instant at a time."""
    if whole:  # the fast path's case, with both zones the driver and Python call UTC
        values = [
            v.replace(microsecond=0, tzinfo=DRIVER_UTC) if isinstance(v, datetime) else None
            for v in values
        ]
    texts = format_iso_column(values)
    fits = all(
        v is None or (type(v) is datetime and v.tzinfo in (UTC, DRIVER_UTC) and not v.microsecond)
        for v in values
    )
    assert (texts is not None) == fits
    if texts is not None:
        expected = [format_iso(v) if isinstance(v, datetime) else None for v in values]
        assert texts == expected


_INSTANTS = st.one_of(
    st.none(),
    st.datetimes(timezones=st.sampled_from([UTC, DRIVER_UTC])).map(
        lambda instant: instant.replace(microsecond=0)
    ),
    st.datetimes(timezones=st.timezones()),
    st.datetimes(),
)


@settings(max_examples=300)
@given(st.lists(_INSTANTS, max_size=8))
def test_rest_writes_a_column_of_instants_as_each_alone(values: list[datetime | None]) -> None:
    """Epoch seconds and ISO twins of a column, whichever path it takes (whole seconds in UTC
    with or without nulls, any other), are each instant's own."""
    epochs, texts = epochs_and_isos(values)
    alone = [epoch_and_iso(v) if v is not None else (None, None) for v in values]
    assert list(zip(epochs, texts, strict=True)) == alone


def test_a_page_renders_each_item_as_it_would_alone() -> None:
    """Columns take a fast path when no item of the page needs the slow one: one that does
    (dates inside a constraint, milliseconds, a null) must not change the others."""
    now = datetime(2025, 1, 1, tzinfo=UTC)
    window = {"constraintType": "BADGE_FIXED_WINDOW", "startDate": now, "endDate": None}
    badges = [
        {"_id": ObjectId(), "orgId": 1, "startOn": now, "badgeConstraints": [window]},
        {"_id": ObjectId(), "orgId": 1, "startOn": now.replace(microsecond=5000)},
        {"_id": ObjectId(), "orgId": 1, "badgeConstraints": [{"constraintType": "X"}]},
    ]
    items = [_item(BadgeRow(stored_badge(badge), None, None), now) for badge in badges]
    for writer in WRITERS.values():
        assert writer.write(items) == [writer.write([item])[0] for item in items]
    (dated,) = WRITERS[Endpoint.CUSTOMER].write(items[:1])
    assert dated["badgeConstraints"] == [
        {"constraintType": "BADGE_FIXED_WINDOW", "startDate": epoch_seconds(now),
         "startDateISO": format_iso(now), "endDate": None}
    ]  # fmt: skip
