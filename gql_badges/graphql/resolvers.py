"""The two root fields, mirroring the two REST URIs, over the one query layer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, cast

import strawberry
from strawberry.types import Info

from gql_badges.badges.items import Row, derive
from gql_badges.badges.projection import needs_groups, stored_fields
from gql_badges.badges.repository import RowPage
from gql_badges.badges.request import (
    BadgeQuery,
    CustomerRef,
    customer_badges_query,
    customer_ref,
    management_query,
)
from gql_badges.enums import (
    BadgeAction,
    BadgeStatus,
    BadgeType,
    CustomerSortOn,
    DateOperator,
    IdentifierType,
    ManagementSortOn,
    Owner,
    SortOrder,
)
from gql_badges.errors import InvalidParameter
from gql_badges.graphql.context import GraphQLContext
from gql_badges.graphql.item_rows import item_writer
from gql_badges.graphql.plan import PlannedRoot, Rows
from gql_badges.graphql.selection import selected_item_fields
from gql_badges.graphql.types import (
    BadgePage,
    CustomerBadgePage,
    to_badges,
    to_customer_badges,
    to_pagination,
)


@strawberry.input(
    name="CustomerRef", one_of=True, description="Exactly one way of naming the customer."
)
class CustomerInput:
    id: strawberry.ID | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    mobile: str | None = strawberry.UNSET
    external_id: str | None = strawberry.UNSET
    card_number: str | None = strawberry.UNSET

    def to_ref(self) -> CustomerRef:
        for kind, value in (
            (IdentifierType.ID, self.id),
            (IdentifierType.EMAIL, self.email),
            (IdentifierType.MOBILE, self.mobile),
            (IdentifierType.EXTERNAL_ID, self.external_id),
            (IdentifierType.CARD_NUMBER, self.card_number),
        ):
            if value is not strawberry.UNSET and value is not None:
                return customer_ref(kind, str(value), reference="customer")
        raise InvalidParameter(reference="customer")


@dataclass(frozen=True, slots=True)
class ItemSelection:
    """What a page's items need read and built, from the item fields selected: computed once
    per selection (once per compiled plan), not per item."""

    fields: frozenset[str]  # the item fields selected: the only ones the items are built with
    projection: frozenset[str]
    with_groups: bool
    # The items as rows a compiled plan writes (`plan.Rows`), not as Strawberry objects.
    as_rows: bool = False

    @classmethod
    def of(cls, item_fields: Iterable[str], as_rows: bool = False) -> ItemSelection:
        names = frozenset(item_fields)
        return cls(names, frozenset(stored_fields(names)), needs_groups(names), as_rows)

    @classmethod
    def planned(cls, item_fields: Iterable[str]) -> ItemSelection:
        return cls.of(item_fields, as_rows=True)


T = TypeVar("T")


def _items(
    result: RowPage,
    now: datetime,
    items: ItemSelection,
    build: Callable[[Iterable[Row], datetime, frozenset[str]], list[T]],
) -> list[T]:
    """The page's items: Strawberry objects, or for a plan that writes them, their rows."""
    if not items.as_rows:
        return build(result.rows, now, items.fields)
    rows = Rows(derive(result.rows, now), lambda: build(result.rows, now, items.fields))
    # The plan writes these rows; graphql-core, if the plan gives up, iterates the objects.
    return cast(list[T], rows)


async def _fetch(context: GraphQLContext, query: BadgeQuery, items: ItemSelection) -> RowPage:
    caller = await context.caller()
    return await context.repository.badge_page(
        caller.org_id,
        query,
        context.now,
        projection=items.projection,
        with_groups=items.with_groups,
    )


@dataclass(frozen=True, slots=True)
class FieldRequest:
    """What a root field's work needs of its request: the context, and what the page's items
    need. graphql-core's path reads it off the resolve info (`from_info`); a compiled plan
    (`graphql/executor.py`) gives the item selection it worked out once from the document."""

    context: GraphQLContext
    items: ItemSelection

    @classmethod
    def from_info(cls, info: Info, list_field: str) -> FieldRequest:
        context: GraphQLContext = info.context
        return cls(context, ItemSelection.of(selected_item_fields(info, list_field)))


async def customer_badges(
    request: FieldRequest,
    *,
    customer: CustomerInput,
    badge_type: BadgeType | None,
    include_expired: bool | None,
    group_id: strawberry.ID | None,
    sort_on: CustomerSortOn | None,
    limit: int | None,
    page: int | None,
) -> BadgePage:
    """The `customerBadges` field's work (every argument given: the schema has the defaults)."""
    context, items = request.context, request.items
    query = customer_badges_query(
        customer.to_ref(),
        badge_type,
        include_expired,
        group_id,
        sort_on,
        limit,
        page,
        max_size=context.max_page_size,
    )
    result = await _fetch(context, query, items)
    return BadgePage(
        badges=_items(result, context.now, items, to_badges),
        pagination=to_pagination(result),
    )


async def resolve_customer_badges(
    info: Info,
    customer: CustomerInput,
    badge_type: BadgeType | None = BadgeType.AVAILABLE_TO_ISSUE,
    include_expired: bool | None = False,
    group_id: strawberry.ID | None = None,
    sort_on: CustomerSortOn | None = None,
    limit: int | None = 10,
    page: int | None = 0,
) -> BadgePage:
    return await customer_badges(
        FieldRequest.from_info(info, "badges"),
        customer=customer,
        badge_type=badge_type,
        include_expired=include_expired,
        group_id=group_id,
        sort_on=sort_on,
        limit=limit,
        page=page,
    )


async def badge_management(
    request: FieldRequest,
    *,
    customer: CustomerInput,
    page: int | None,
    size: int | None,
    sort_on: ManagementSortOn | None,
    order: SortOrder | None,
    name: str | None,
    badge_type: BadgeType | None,
    action: BadgeAction | None,
    badge_status: BadgeStatus | None,
    owner: Owner | None,
    claimed_by: Owner | None,
    start_on: datetime | None,
    start_on_operator: DateOperator | None,
    expires_on: datetime | None,
    expires_on_operator: DateOperator | None,
    group_id: strawberry.ID | None,
) -> CustomerBadgePage:
    """The `badgeManagement` field's work (every argument given: the schema has the defaults)."""
    context, items = request.context, request.items
    query = management_query(
        customer.to_ref(),
        page=page,
        size=size,
        sort_on=sort_on,
        order=order,
        name=name,
        badge_type=badge_type,
        action=action,
        badge_status=badge_status,
        owner=owner,
        claimed_by=claimed_by,
        start_on=start_on,
        start_on_operator=start_on_operator,
        expires_on=expires_on,
        expires_on_operator=expires_on_operator,
        group_id=group_id,
        max_size=context.max_page_size,
    )
    result = await _fetch(context, query, items)
    return CustomerBadgePage(
        customer_badges=_items(result, context.now, items, to_customer_badges),
        pagination=to_pagination(result),
    )


async def resolve_badge_management(
    info: Info,
    customer: CustomerInput,
    page: int | None = 0,
    size: int | None = 10,
    sort_on: ManagementSortOn | None = ManagementSortOn.EXPIRES_ON,
    order: SortOrder | None = SortOrder.DESC,
    name: str | None = None,
    badge_type: BadgeType | None = BadgeType.AVAILABLE_TO_ISSUE,
    action: BadgeAction | None = None,
    badge_status: BadgeStatus | None = None,
    owner: Owner | None = None,
    claimed_by: Owner | None = None,
    start_on: datetime | None = None,
    start_on_operator: DateOperator | None = None,
    expires_on: datetime | None = None,
    expires_on_operator: DateOperator | None = None,
    group_id: strawberry.ID | None = None,
) -> CustomerBadgePage:
    return await badge_management(
        FieldRequest.from_info(info, "customerBadges"),
        customer=customer,
        page=page,
        size=size,
        sort_on=sort_on,
        order=order,
        name=name,
        badge_type=badge_type,
        action=action,
        badge_status=badge_status,
        owner=owner,
        claimed_by=claimed_by,
        start_on=start_on,
        start_on_operator=start_on_operator,
        expires_on=expires_on,
        expires_on_operator=expires_on_operator,
        group_id=group_id,
    )


@strawberry.type
class Query:
    customer_badges: BadgePage = strawberry.field(
        resolver=resolve_customer_badges,
        description="Badges of a customer, as GET /badges/customer/{customerId}.",
    )
    badge_management: CustomerBadgePage = strawberry.field(
        resolver=resolve_badge_management,
        description="Badges of a customer, as GET /badges/management/{customerId}.",
    )


def _planned(work: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """A field's work as a plan calls it: (context, selection, **arguments)."""

    def call(context: GraphQLContext, items: ItemSelection, **arguments: Any) -> Awaitable[Any]:
        return work(FieldRequest(context, items), **arguments)

    return call


# The root fields a compiled plan runs: the same work as their resolvers, given the plan's
# selection instead of reading it off the resolve info.
PLANNED_ROOTS = {
    "customerBadges": PlannedRoot(
        _planned(customer_badges), "badges", ItemSelection.planned, item_writer
    ),
    "badgeManagement": PlannedRoot(
        _planned(badge_management), "customerBadges", ItemSelection.planned, item_writer
    ),
}
