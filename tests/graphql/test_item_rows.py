"""A plan writes a page's items from their rows: no object per item, and the same answer as the
plan's completion of the Strawberry objects the resolvers build (which `test_compiled.py`
checks byte for byte against graphql-core over HTTP)."""

from __future__ import annotations

import functools
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from bson import SON, ObjectId
from bson.tz_util import utc as DRIVER_UTC
from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse
from hypothesis import given, settings
from hypothesis import strategies as st

from gql_badges.badges.items import Endpoint, derive
from gql_badges.badges.repository import BadgeRow, RowPage
from gql_badges.demo import demo_documents
from gql_badges.enums import ConstraintType, ImageTag, Owner
from gql_badges.graphql import types
from gql_badges.graphql._internals import (
    collect_root_fields,
    graphql_schema,
    operation_of_document,
)
from gql_badges.graphql.executor import plan_cache
from gql_badges.graphql.plan import GiveUp, RootField, Rows
from gql_badges.graphql.schema import create_schema
from gql_badges.graphql.selection import every_item_field
from gql_badges.graphql.types import (
    BadgePage,
    CustomerBadgePage,
    to_badges,
    to_customer_badges,
    to_pagination,
)
from gql_badges.storage.collections import BadgeGroup, BadgeMeta, BadgeRecord

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _rows() -> list[BadgeRow]:
    """The demo's badges, each with a record of some customer (or none) and its group."""
    documents = demo_documents()
    groups = {group["_id"]: group for group in documents["badge_groups"]}
    records = {record["badgeMetaId"]: record for record in documents["customer_badges"]}
    # The demo's documents are the collections' documents, typed as plain dicts.
    return [
        BadgeRow(
            cast(BadgeMeta, badge),
            cast(BadgeRecord | None, records.get(badge["_id"])),
            cast(BadgeGroup | None, groups.get(badge.get("badgeGroupId"))),
        )
        for badge in documents["badge_meta"]
    ]


def _root_field(text: str) -> RootField:
    schema = create_schema()
    core = graphql_schema(schema)
    node, *fragments = parse(text).definitions
    assert isinstance(node, OperationDefinitionNode) and core.query_type is not None
    assert all(isinstance(fragment, FragmentDefinitionNode) for fragment in fragments)
    operation = operation_of_document(core, node, cast(list[FragmentDefinitionNode], fragments))
    fields = collect_root_fields(operation, core.query_type)
    plan = plan_cache(schema).plan(operation, core.query_type, fields)
    assert plan is not None
    ((_, root),) = plan.fields
    assert root is not None
    return root


def _never_built() -> list[Any]:
    raise AssertionError("the plan built the items' objects")


def _ordered(value: Any) -> Any:
    """`value` compared as its JSON is written: each object's keys in order, each leaf with its
    type (`True == 1`, but not in JSON)."""
    if isinstance(value, dict):
        return [(key, _ordered(entry)) for key, entry in value.items()]
    if isinstance(value, list):
        return [_ordered(entry) for entry in value]
    return (type(value), value)


@pytest.mark.parametrize(
    ("root_field", "list_field", "page_of", "build", "endpoint"),
    [
        (
            "customerBadges",
            "badges",
            lambda items, pagination: BadgePage(badges=items, pagination=pagination),
            to_badges,
            Endpoint.CUSTOMER,
        ),
        (
            "badgeManagement",
            "customerBadges",
            lambda items, pagination: CustomerBadgePage(
                customer_badges=items, pagination=pagination
            ),
            to_customer_badges,
            Endpoint.MANAGEMENT,
        ),
    ],
)
def test_the_plan_writes_items_from_rows_as_it_completes_their_objects(
    root_field: str, list_field: str, page_of: Any, build: Any, endpoint: Endpoint
) -> None:
    schema = graphql_schema(create_schema())
    items = every_item_field(schema, endpoint)
    text = f"""query Q($c: CustomerRef!) {{ {root_field}(customer: $c) {{
        {list_field} {{ __typename {items} }} again: {list_field} {{ name badgeMetaId }}
        pagination {{ total }} }} }}"""
    root = _root_field(text)
    rows = _rows()
    page = RowPage(rows=rows, page=0, requested_size=len(rows), total=len(rows), now=NOW)
    pagination = to_pagination(page)

    from_rows = root.complete(page_of(Rows(derive(rows, NOW), _never_built), pagination))
    from_objects = root.complete(page_of(build(rows, NOW), pagination))

    assert _ordered(from_rows) == _ordered(from_objects)
    assert len(from_rows[list_field]) == len(rows) == len(from_rows["again"])


_IMAGES = """query Q($c: CustomerRef!) { customerBadges(customer: $c) {
    badges { images { __typename n: name fileSvcHandle url tag name } } } }"""


def _badge_page(badges: Any, page: RowPage) -> BadgePage:
    """A page of `badges`: their objects, or their rows (`Rows`, the plan's own)."""
    return BadgePage(badges=badges, pagination=to_pagination(page))


def _with_images(images: object) -> list[BadgeRow]:
    (row,) = _rows()[:1]
    return [replace(row, badge=cast(BadgeMeta, {**row.badge, "images": images}))]


@pytest.mark.parametrize(
    "images",
    [
        [{"name": "a", "fileSvcHandle": "h", "url": "u", "tag": "EARNED"}, {}],
        [{"tag": "NOT_A_TAG", "url": None, "other": 1}, {"tag": ["EARNED"]}],
        [],
        None,  # stored as null or absent: no images
    ],
)
def test_images_are_written_from_their_stored_documents_as_their_objects_complete(
    images: object,
) -> None:
    root = _root_field(_IMAGES)
    rows = _with_images(images)
    page = RowPage(rows=rows, page=0, requested_size=1, total=1, now=NOW)

    from_rows = root.complete(_badge_page(Rows(derive(rows, NOW), _never_built), page))
    from_objects = root.complete(_badge_page(to_badges(rows, NOW), page))

    assert _ordered(from_rows) == _ordered(from_objects)


@pytest.mark.parametrize(
    "images",
    [
        [{"name": 5}],  # STORED_VALUE_INVALID: graphql-core says so
        [{"url": b"u"}],
        ["an image"],  # not an object
        "images",  # not a list
    ],
)
def test_images_stored_wrongly_are_left_to_graphql_core(images: object) -> None:
    root = _root_field(_IMAGES)
    rows = _with_images(images)
    page = RowPage(rows=rows, page=0, requested_size=1, total=1, now=NOW)

    with pytest.raises(GiveUp):
        root.complete(_badge_page(Rows(derive(rows, NOW), _never_built), page))
    with pytest.raises(GiveUp):  # as it gives up on the objects made of them
        root.complete(_badge_page(to_badges(rows, NOW), page))


# --- every sub-object written from its stored documents --------------------------------------

# Every field of a badge (the constraints through every member of their union), and the
# sub-objects again under aliases, with their type names.
_EVERY_SUB_OBJECT = """query Q($c: CustomerRef!) { customerBadges(customer: $c) {
    badges { %s }
    again: badges { i: images { t: tag __typename } o: ownership { c: claims { __typename
      owner: ownerType } } g: group { __typename rank } customerConstraints { __typename
      ... on CustomerBadgeFixedWindowConstraint { kind: constraintType from: startDate } } } } }"""

# Stored values as the platform writes them, and as it should not: each sub-object's fields of
# the right type, of the wrong type, out of GraphQL's range, missing, or the whole value wrong.
_ODD: st.SearchStrategy[object] = st.sampled_from(
    [None, 7, 2**40, 1.5, 3.0, "text", True, [], {}, [1], NOW]
)
_INTS = st.one_of(st.integers(-5, 400), st.just(2**31), _ODD)
_TEXTS = st.one_of(st.sampled_from(["DAYS", "WEEKLY", "ACTIVE", "r-1"]), _ODD)
_CONSTRAINT_FIELDS = {
    "maxEarnLimit": _INTS,
    "maxEarnForDays": _INTS,
    "rollForDays": _INTS,
    "rollType": _TEXTS,
    "rollValue": _INTS,
    "referenceId": _TEXTS,
    "durationType": _TEXTS,
    "refreshRate": _INTS,
    "startDayOfTheWeek": _TEXTS,
    "cycleStatus": _TEXTS,
    "startDate": st.one_of(st.just(NOW), _ODD),
    "endDate": st.one_of(st.just(NOW), _ODD),
}


def _stored(
    fields: dict[str, st.SearchStrategy[object]], **required: st.SearchStrategy[object]
) -> st.SearchStrategy[dict[str, object]]:
    """Stored documents: all of `required` and `fields`, in that order (the platform's, and the
    selection's), or some of `fields` in any order, sometimes with a key the gateway does not
    know. The answer's keys are in the selection's order whatever the stored order."""
    whole = st.fixed_dictionaries({**required, **fields})
    some = st.fixed_dictionaries(required, optional={**fields, "note": _TEXTS})
    shuffled = some.flatmap(lambda document: st.permutations(list(document.items())))
    return st.one_of(whole, shuffled.map(dict))


_CONSTRAINT = st.one_of(
    *(  # each known type's fields, in its GraphQL type's order
        _stored(
            {
                stored: _CONSTRAINT_FIELDS.get(stored, _ODD)
                for stored, _ in types.CONSTRAINT_FIELDS[cls].values()
                if stored != types.CONSTRAINT_KIND
            },
            constraintType=st.just(str(kind)),  # as the driver decodes it: plain text
        )
        for kind, cls in types.CONSTRAINT_TYPES.items()
    ),
    _stored(
        _CONSTRAINT_FIELDS,
        constraintType=st.sampled_from([*ConstraintType, "SOMETHING_NEW", 5]),
    ),
    _ODD,
)
_CONSTRAINTS = st.one_of(st.lists(_CONSTRAINT, max_size=4), _ODD)
# Owners as the driver decodes them (plain text) and as the enum's members.
_OWNERS = st.one_of(
    st.lists(
        st.sampled_from([*Owner, *(owner.value for owner in Owner), "Nobody", 3, [1], True]),
        max_size=3,
    ),
    _ODD,
)
_CLAIM_FIELDS = _stored(
    {
        "ownerType": st.sampled_from([*Owner, *(owner.value for owner in Owner), "Nobody"]),
        "referenceId": _TEXTS,
        "isActive": st.one_of(st.booleans(), _ODD),
    }
)
# A claim as stored, as a driver configured with another document class decodes it, or wrong.
_CLAIM = st.one_of(_CLAIM_FIELDS, _CLAIM_FIELDS.map(SON), _ODD)
_OWNERSHIP = st.one_of(
    _stored(
        {
            "restrictedToOwners": _OWNERS,
            "claims": st.one_of(st.lists(_CLAIM, max_size=3), _ODD),
        }
    ),
    _ODD,
)
_IMAGE_LISTS = st.one_of(
    st.lists(
        st.one_of(
            _stored(
                {
                    "name": _TEXTS,
                    "fileSvcHandle": _TEXTS,
                    "url": _TEXTS,
                    "tag": st.one_of(st.sampled_from([*ImageTag, "NOT_A_TAG"]), _ODD),
                }
            ),
            _ODD,
        ),
        max_size=3,
    ),
    _ODD,
)
_GROUP = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {"_id": st.just(ObjectId("65c3600c60d9261bdd8a6410"))},
        optional={"name": _TEXTS, "rank": _INTS},
    ),
)


def _completed(complete: Any, page: Any) -> Any:
    """The plan's completion of `page`, or GiveUp when it leaves the page to graphql-core (as the
    executor does on any exception)."""
    try:
        return complete(page)
    except Exception:
        return GiveUp


@settings(max_examples=300, deadline=None)
@given(
    images=_IMAGE_LISTS,
    ownership=_OWNERSHIP,
    group=_GROUP,
    customer_constraints=_CONSTRAINTS,
    badge_constraints=_CONSTRAINTS,
)
def test_sub_objects_are_written_from_their_stored_documents_as_their_objects_complete(
    images: object,
    ownership: object,
    group: Any,
    customer_constraints: object,
    badge_constraints: object,
) -> None:
    root = _sub_objects_root()
    (row,) = _rows()[:1]
    stored = {
        **row.badge,
        "images": images,
        "ownership": ownership,
        "customerConstraints": customer_constraints,
        "badgeConstraints": badge_constraints,
    }
    from_rows, from_objects = _written_both_ways(
        root, [replace(row, badge=cast(BadgeMeta, stored), group=group)]
    )

    assert _ordered(from_rows) == _ordered(from_objects)


def _written_both_ways(root: RootField, rows: list[BadgeRow]) -> tuple[Any, Any]:
    """The page of `rows` completed from the rows and from the objects the resolvers make of
    them: each the plan's answer, or GiveUp where it leaves the page to graphql-core."""
    page = RowPage(rows=rows, page=0, requested_size=len(rows), total=len(rows), now=NOW)
    from_rows = _completed(root.complete, _badge_page(Rows(derive(rows, NOW), _never_built), page))
    return from_rows, _completed(root.complete, _badge_page(to_badges(rows, NOW), page))


@functools.cache
def _sub_objects_root() -> RootField:
    every = every_item_field(graphql_schema(create_schema()), Endpoint.CUSTOMER)
    return _root_field(_EVERY_SUB_OBJECT % every)


def test_the_plan_makes_no_sub_object_of_a_page_written_from_its_rows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Images, ownership and claims, the group and the known constraints are all written from
    their stored documents: the item types' conversions, which make their objects, never run."""
    schema = graphql_schema(create_schema())
    root = _root_field(
        "query Q($c: CustomerRef!) { customerBadges(customer: $c) { badges { "
        + every_item_field(schema, Endpoint.CUSTOMER)
        + " } } }"
    )
    rows = [row for row in _rows() if row.badge.get("ownership") and row.group]
    known = [
        replace(
            row,
            badge=cast(
                BadgeMeta,
                {
                    **row.badge,
                    "customerConstraints": [
                        c
                        for c in row.badge.get("customerConstraints") or []
                        if c.get("constraintType") in set(ConstraintType)
                    ],
                },
            ),
        )
        for row in rows
    ]
    assert known, "the demo has badges with an ownership and a group"
    page = RowPage(rows=known, page=0, requested_size=len(known), total=len(known), now=NOW)
    expected = root.complete(_badge_page(to_badges(known, NOW), page))

    def made(*arguments: object) -> object:
        raise AssertionError("a sub-object was made")

    monkeypatch.setattr(types, "_made", made)
    assert root.complete(_badge_page(Rows(derive(known, NOW), _never_built), page)) == expected


@functools.cache
def _every_field_root() -> RootField:
    """`customerBadges { badges { every field } }`: each sub-object's fields in their order."""
    every = every_item_field(graphql_schema(create_schema()), Endpoint.CUSTOMER)
    return _root_field(
        f"query Q($c: CustomerRef!) {{ customerBadges(customer: $c) {{ badges {{ {every} }} }} }}"
    )


# Sub-documents as the platform stores them.
_AN_IMAGE = {"name": "a", "fileSvcHandle": "h", "url": "u", "tag": "EARNED"}
_A_CLAIM = {"ownerType": "Loyalty", "referenceId": "r", "isActive": True}
_A_LIMIT = {"constraintType": "CUSTOMER_BADGE_FIXED_VALUE", "maxEarnLimit": 3}


@pytest.mark.parametrize(
    "stored",
    [  # each key in place, a value not written as it is stored
        {"images": [{**_AN_IMAGE, "tag": "NOT_A_TAG"}]},
        {"images": [_AN_IMAGE, {**_AN_IMAGE, "name": 5}]},
        {"ownership": {"restrictedToOwners": ["Nobody"], "claims": []}},
        {"ownership": {"restrictedToOwners": [Owner.Loyalty], "claims": []}},
        {"ownership": {"restrictedToOwners": [["Loyalty"]], "claims": []}},
        {"ownership": {"restrictedToOwners": [], "claims": [{**_A_CLAIM, "ownerType": "Nobody"}]}},
        {"ownership": {"restrictedToOwners": [], "claims": [{**_A_CLAIM, "isActive": 1}]}},
        {"ownership": {"restrictedToOwners": None, "claims": None}},
        {"customerConstraints": [{**_A_LIMIT, "maxEarnLimit": 2**31}]},
        {"customerConstraints": [{**_A_LIMIT, "maxEarnLimit": True}]},
    ],
)
def test_a_stored_document_with_each_key_in_place_is_written_as_its_objects_complete(
    stored: dict[str, object],
) -> None:
    """Each key where the selection has it, but a value it does not write as it is (a text of
    no member, a value of the wrong type, an Int over 32 bits, a null list): the answer is the
    objects' answer, key for key."""
    (row,) = _rows()[:1]
    rows = [replace(row, badge=cast(BadgeMeta, {**row.badge, **stored}))]
    from_rows, from_objects = _written_both_ways(_every_field_root(), rows)
    assert _ordered(from_rows) == _ordered(from_objects)


_INSTANTS = st.one_of(
    st.none(),
    st.datetimes(timezones=st.just(UTC)),
    st.datetimes(timezones=st.sampled_from([UTC, DRIVER_UTC])).map(
        lambda instant: instant.replace(microsecond=0)
    ),
    st.datetimes(timezones=st.timezones()),
    st.sampled_from(["2024-01-01", 5]),
)


# The stored instants each item's dates are read from: the badge's and the record's.
_DATES = ("startOn", "expiresOn", "createdOn", "lastUpdatedOn")
_RECORD_DATES = ("lastEarnedOn", "lastEarnEventDate")


@functools.cache
def _every_field_roots() -> tuple[tuple[RootField, str, Any], ...]:
    """Every item field of both roots, each with its list's name and how a page is made."""
    schema = graphql_schema(create_schema())
    query = "query Q($c: CustomerRef!) {{ {0}(customer: $c) {{ {1} {{ {2} }} }} }}"
    return (
        (
            _root_field(query.format("customerBadges", "badges", every_item_field(
                schema, Endpoint.CUSTOMER))),
            "badges",
            _badge_page,
        ),
        (
            _root_field(query.format("badgeManagement", "customerBadges", every_item_field(
                schema, Endpoint.MANAGEMENT))),
            "customerBadges",
            lambda items, page: CustomerBadgePage(
                customer_badges=items, pagination=to_pagination(page)
            ),
        ),
    )  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(
    dates=st.lists(
        st.tuples(*(_INSTANTS for _ in (*_DATES, *_RECORD_DATES))), min_size=1, max_size=6
    ),
    whole=st.booleans(),
)
def test_a_page_of_instants_is_written_as_each_instant_completes(
    dates: list[tuple[object, ...]], whole: bool
) -> None:
    """The rows writer's `DateTime` fields (a page's column at once, or each value with its
    conversion skipped when it keeps the instant) complete as the objects' do, whatever the
    zone, precision or type stored, field by field, on both roots; or both give up."""
    if whole:  # columns the writer takes at once, each field's its own
        dates = [
            tuple(datetime(2024, 5, 1, n, field, tzinfo=UTC) for field in range(len(stored)))
            for n, stored in enumerate(dates)
        ]
    row = next(row for row in _rows() if row.record is not None and row.record.get("earnCount"))
    rows = [
        replace(
            row,
            badge=cast(BadgeMeta, {**row.badge, **dict(zip(_DATES, stored, strict=False))}),
            record=cast(
                BadgeRecord,
                {
                    **(row.record or {}),
                    **dict(zip(_RECORD_DATES, stored[len(_DATES) :], strict=True)),
                },
            ),
        )
        for stored in dates
    ]
    page = RowPage(rows=rows, page=0, requested_size=len(rows), total=len(rows), now=NOW)
    builds = (to_badges, to_customer_badges)
    for (root, _, page_of), build in zip(_every_field_roots(), builds, strict=True):
        from_rows = _completed(root.complete, page_of(Rows(derive(rows, NOW), _never_built), page))
        from_objects = _completed(root.complete, page_of(build(rows, NOW), page))

        assert _ordered(from_rows) == _ordered(from_objects)
