"""A plan writes a page's items from their rows: no object per item, and the same answer as the
plan's completion of the Strawberry objects the resolvers build (which `test_compiled.py`
checks byte for byte against graphql-core over HTTP)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from graphql import OperationDefinitionNode, parse

from gql_badges.badges.items import Endpoint, derive
from gql_badges.badges.repository import BadgeRow, RowPage
from gql_badges.demo import demo_documents
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
    (node,) = parse(text).definitions
    assert isinstance(node, OperationDefinitionNode) and core.query_type is not None
    operation = operation_of_document(core, node, [])
    fields = collect_root_fields(operation, core.query_type)
    plan = plan_cache(schema).plan(operation, core.query_type, fields)
    assert plan is not None
    ((_, root),) = plan.fields
    assert root is not None
    return root


def _never_built() -> list[Any]:
    raise AssertionError("the plan built the items' objects")


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

    assert from_rows == from_objects
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

    assert from_rows == from_objects


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
