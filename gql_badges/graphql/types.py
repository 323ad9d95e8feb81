"""The GraphQL object types, and how a `BadgeRow` becomes one.

Rows are converted once per item into plain Strawberry dataclasses: every field then resolves
as a plain attribute, with no per-field resolver work.
"""

from __future__ import annotations

import functools
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, TypeVar

import strawberry
from strawberry.scalars import JSON

from gql_badges.badges import model
from gql_badges.badges.model import ConstraintType, Document, badge_status, customer_state
from gql_badges.badges.repository import BadgePage as BadgePageResult
from gql_badges.badges.repository import BadgeRow

BadgeType = strawberry.enum(model.BadgeType, description="Which badges of the customer to list.")
BadgeStatus = strawberry.enum(model.BadgeStatus)
EarnType = strawberry.enum(model.EarnType)
Owner = strawberry.enum(model.Owner, description="A module that may own or claim a badge.")
ImageTag = strawberry.enum(model.ImageTag)
BadgeAction = strawberry.enum(model.BadgeAction)
SortOrder = strawberry.enum(model.SortOrder)
DateOperator = strawberry.enum(model.DateOperator)
ManagementSortOn = strawberry.enum(model.ManagementSortOn)
CustomerSortOn = strawberry.enum(model.CustomerSortOn)

E = TypeVar("E", bound=StrEnum)


def _enum(enum: type[E], value: Any) -> E | None:
    """The member for a stored value; None for a value outside the closed set.

    Looked up where `enum(value)` looks first (these enums define no `_missing_`), without the
    call's cost: it runs for every enum field of every item.
    """
    try:
        return enum._value2member_map_.get(value)  # type: ignore[return-value]
    except TypeError:  # unhashable (a stored list or object): no member equals it
        return None


@strawberry.type
class BadgeImage:
    name: str | None
    file_svc_handle: str | None
    url: str | None
    tag: ImageTag | None  # type: ignore[valid-type]


@strawberry.type
class Claim:
    owner_type: Owner | None  # type: ignore[valid-type]
    reference_id: str | None
    is_active: bool | None


@strawberry.type
class Ownership:
    restricted_to_owners: list[Owner]  # type: ignore[valid-type]
    claims: list[Claim]


@strawberry.type
class BadgeGroup:
    id: strawberry.ID
    name: str | None
    rank: int | None


@strawberry.type
class Pagination:
    page: int
    size: int = strawberry.field(description="The number of items on this page.")
    total: int
    total_pages: int


# --- constraints ----------------------------------------------------------------------------


@strawberry.type
class CustomerBadgeFixedValueConstraint:
    constraint_type: str
    max_earn_limit: int | None


@strawberry.type
class BadgeFixedValueConstraint:
    constraint_type: str
    max_earn_limit: int | None


@strawberry.type
class CustomerBadgeRollingWindowConstraint:
    constraint_type: str
    max_earn_for_days: int | None
    roll_for_days: int | None
    max_earn_for_weeks: int | None
    roll_for_weeks: int | None
    max_earn_for_months: int | None
    roll_for_months: int | None


@strawberry.type
class BadgeRollingWindowConstraint:
    constraint_type: str
    roll_type: str | None
    roll_value: int | None
    max_earn_limit: int | None


@strawberry.type
class CustomerBadgeFixedWindowConstraint:
    constraint_type: str
    reference_id: str | None
    duration_type: str | None
    refresh_rate: int | None
    start_day_of_the_week: str | None
    max_earn_limit: int | None
    cycle_status: str | None
    start_date: datetime | None
    end_date: datetime | None


@strawberry.type
class BadgeFixedWindowConstraint(CustomerBadgeFixedWindowConstraint):
    pass


@strawberry.type
class CustomerBadgeNoLimitConstraint:
    constraint_type: str


@strawberry.type
class BadgeNoLimitConstraint:
    constraint_type: str


@strawberry.type(description="A constraint of a type this gateway does not know; `raw` as stored.")
class UnknownConstraint:
    constraint_type: str = strawberry.field(
        description="As stored; empty when the stored constraint names no type."
    )
    raw: JSON


BadgeConstraint = Annotated[
    CustomerBadgeFixedValueConstraint
    | BadgeFixedValueConstraint
    | CustomerBadgeRollingWindowConstraint
    | BadgeRollingWindowConstraint
    | CustomerBadgeFixedWindowConstraint
    | BadgeFixedWindowConstraint
    | CustomerBadgeNoLimitConstraint
    | BadgeNoLimitConstraint
    | UnknownConstraint,
    strawberry.union("BadgeConstraint"),
]

_CONSTRAINT_TYPES: dict[str, type] = {
    ConstraintType.CUSTOMER_BADGE_FIXED_VALUE: CustomerBadgeFixedValueConstraint,
    ConstraintType.BADGE_FIXED_VALUE: BadgeFixedValueConstraint,
    ConstraintType.CUSTOMER_BADGE_ROLLING_WINDOW: CustomerBadgeRollingWindowConstraint,
    ConstraintType.BADGE_ROLLING_WINDOW: BadgeRollingWindowConstraint,
    ConstraintType.CUSTOMER_BADGE_FIXED_WINDOW: CustomerBadgeFixedWindowConstraint,
    ConstraintType.BADGE_FIXED_WINDOW: BadgeFixedWindowConstraint,
    ConstraintType.CUSTOMER_BADGE_NO_LIMIT: CustomerBadgeNoLimitConstraint,
    ConstraintType.BADGE_NO_LIMIT: BadgeNoLimitConstraint,
}

# The stored (camelCase) name of each snake_case field of the constraint types.
_CAMEL = {
    name: name.split("_")[0] + "".join(part.title() for part in name.split("_")[1:])
    for cls in _CONSTRAINT_TYPES.values()
    for name in cls.__annotations__
}


def to_constraint(stored: Any) -> Any:
    kind = stored.get("constraintType") if isinstance(stored, dict) else None
    cls = _CONSTRAINT_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        return UnknownConstraint(constraint_type=kind if isinstance(kind, str) else "", raw=stored)
    fields = strawberry_fields(cls)
    return cls(**{name: stored.get(_CAMEL[name]) for name in fields})


@functools.cache  # per class, not per constraint of every item
def strawberry_fields(cls: type) -> tuple[str, ...]:
    return tuple(f.python_name for f in cls.__strawberry_definition__.fields)  # type: ignore[attr-defined]


# --- badges ---------------------------------------------------------------------------------


@strawberry.interface(description="What every badge item has, on either root field.")
class BadgeItem:
    badge_meta_id: strawberry.ID
    name: str | None
    description: str | None
    badge_group_id: strawberry.ID | None
    badge_group_name: str | None
    group: BadgeGroup | None
    badge_rank: int | None
    expires_on: datetime | None
    images: list[BadgeImage]
    ownership: Ownership | None
    active: bool | None
    badge_status: BadgeStatus  # type: ignore[valid-type]
    last_earned_on_date: datetime | None = strawberry.field(
        description="When the customer last earned it (null unless earned)."
    )
    last_earn_event_date: datetime | None = strawberry.field(
        description="The event that last earned it (null unless earned)."
    )


@strawberry.type(description="A badge as the customer endpoint lists it.")
class Badge(BadgeItem):
    org_id: int
    start_on: datetime | None
    tags: JSON | None
    earn_type: EarnType | None  # type: ignore[valid-type]
    customer_constraints: list[BadgeConstraint]
    badge_constraints: list[BadgeConstraint]
    earned_count: int | None = strawberry.field(description="Null when the customer has no record.")
    custom_fields: JSON | None


@strawberry.type(description="A badge as the management endpoint lists it.")
class CustomerBadge(BadgeItem):
    badge_type: EarnType | None  # type: ignore[valid-type]
    created_on: datetime | None
    last_updated_on: datetime | None
    last_earned_on: datetime | None
    starts_on: datetime | None
    earn_count: int
    issue_status: str | None


@strawberry.type
class BadgePage:
    badges: list[Badge]
    pagination: Pagination


@strawberry.type
class CustomerBadgePage:
    customer_badges: list[CustomerBadge]
    pagination: Pagination


def _image(stored: Document) -> BadgeImage:
    return BadgeImage(
        name=stored.get("name"),
        file_svc_handle=stored.get("fileSvcHandle"),
        url=stored.get("url"),
        tag=_enum(model.ImageTag, stored.get("tag")),
    )


def _ownership(stored: Document | None) -> Ownership | None:
    if stored is None:
        return None
    owners = (_enum(model.Owner, owner) for owner in stored.get("restrictedToOwners") or ())
    claims = [
        Claim(
            owner_type=_enum(model.Owner, claim.get("ownerType")),
            reference_id=claim.get("referenceId"),
            is_active=claim.get("isActive"),
        )
        for claim in stored.get("claims") or ()
    ]
    return Ownership(restricted_to_owners=[o for o in owners if o is not None], claims=claims)


def _group(stored: Document | None) -> BadgeGroup | None:
    if stored is None:
        return None
    return BadgeGroup(
        id=strawberry.ID(str(stored["_id"])), name=stored.get("name"), rank=stored.get("rank")
    )


def _common(row: BadgeRow, now: datetime) -> dict[str, Any]:
    badge, record, group = row.badge, row.record, row.group
    earned = customer_state(record, now).earn_count >= 1
    group_id = badge.get("badgeGroupId")
    return {
        "badge_meta_id": strawberry.ID(str(badge["_id"])),
        "name": badge.get("name"),
        "description": badge.get("description"),
        "badge_group_id": strawberry.ID(str(group_id)) if group_id is not None else None,
        "badge_group_name": group.get("name") if group else None,
        "group": _group(group),
        "badge_rank": badge.get("badgeRank"),
        "expires_on": badge.get("expiresOn"),
        "images": [_image(image) for image in badge.get("images") or ()],
        "ownership": _ownership(badge.get("ownership")),
        "active": badge.get("active"),
        "badge_status": badge_status(badge, now),
        "last_earned_on_date": record.get("lastEarnedOn") if earned and record else None,
        "last_earn_event_date": record.get("lastEarnEventDate") if earned and record else None,
    }


def to_badge(row: BadgeRow, now: datetime) -> Badge:
    badge, record = row.badge, row.record
    return Badge(
        **_common(row, now),
        org_id=badge["orgId"],
        start_on=badge.get("startOn"),
        tags=badge.get("tags"),
        earn_type=_enum(model.EarnType, badge.get("earnType")),
        customer_constraints=[to_constraint(c) for c in badge.get("customerConstraints") or ()],
        badge_constraints=[to_constraint(c) for c in badge.get("badgeConstraints") or ()],
        earned_count=record.get("earnCount") if record is not None else None,
        custom_fields=badge.get("customFields"),
    )


def to_customer_badge(row: BadgeRow, now: datetime) -> CustomerBadge:
    badge, record = row.badge, row.record
    return CustomerBadge(
        **_common(row, now),
        badge_type=_enum(model.EarnType, badge.get("earnType")),
        created_on=badge.get("createdOn"),
        last_updated_on=badge.get("lastUpdatedOn"),
        last_earned_on=record.get("lastEarnedOn") if record else None,
        starts_on=badge.get("startOn"),
        earn_count=customer_state(record, now).earn_count,
        issue_status=record.get("issueStatus") if record else None,
    )


def to_pagination(page: BadgePageResult) -> Pagination:
    return Pagination(
        page=page.page, size=len(page.rows), total=page.total, total_pages=page.total_pages
    )
