"""One typed request for both endpoints, and how the arguments of either become one.

GraphQL hands these functions enums and datetimes already; the REST shim parses query strings
into the same types first. Range and consistency checks happen here, once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bson import ObjectId
from bson.errors import InvalidId

from gql_badges.badges.rules import SortOn
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

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 10


@dataclass(frozen=True, slots=True)
class CustomerRef:
    kind: IdentifierType
    value: str | int


@dataclass(frozen=True, slots=True)
class DateBound:
    operator: DateOperator
    value: datetime


@dataclass(frozen=True, slots=True)
class BadgeFilter:
    badge_type: BadgeType = BadgeType.AVAILABLE_TO_ISSUE
    include_expired: bool = False
    name: str | None = None
    action: BadgeAction | None = None
    badge_status: BadgeStatus | None = None
    owner: Owner | None = None
    claimed_by: Owner | None = None
    start_on: DateBound | None = None
    expires_on: DateBound | None = None
    group_id: ObjectId | None = None


@dataclass(frozen=True, slots=True)
class BadgeQuery:
    """One request of either endpoint, already validated."""

    customer: CustomerRef
    filter: BadgeFilter = field(default_factory=BadgeFilter)
    sort: SortOn = ManagementSortOn.EXPIRES_ON
    order: SortOrder = SortOrder.DESC
    page: int = 0
    size: int = DEFAULT_PAGE_SIZE


MAX_IDENTIFIER_LENGTH = 256
INT64_MAX = 2**63 - 1


def customer_ref(kind: IdentifierType, value: str, reference: str = "customerId") -> CustomerRef:
    """A customer reference; a numeric id must be a positive 64-bit integer."""
    if kind is IdentifierType.ID:
        text = value.strip()
        # The length first: Python refuses to convert strings of over 4,300 digits at all.
        if len(text) > 19 or not text.isascii() or not text.isdigit() or int(text) > INT64_MAX:
            details = "a customer id is a positive whole number"
            if reference == "customerId":  # the REST path
                details += (
                    "; to name the customer by email, mobile, externalId or cardNumber, "
                    "send the X-CAP-CUSTOMER-IDENTIFIER header"
                )
            raise InvalidParameter(reference=reference, details=details)
        return CustomerRef(kind, int(text))
    if not value or len(value) > MAX_IDENTIFIER_LENGTH or "\x00" in value:
        details = f"1 to {MAX_IDENTIFIER_LENGTH} characters, without NUL"
        raise InvalidParameter(reference=reference, details=details)
    return CustomerRef(kind, value)


def object_id(value: str | None, reference: str) -> ObjectId | None:
    if value is None:
        return None
    try:
        return ObjectId(value)
    except (InvalidId, TypeError):
        details = "expected an ObjectId: 24 hex digits"
        raise InvalidParameter(reference=reference, details=details) from None


def _in_range(value: int, low: int, high: int, reference: str, details: str = "") -> int:
    if not low <= value <= high:
        details = f"{reference} must be between {low} and {high}{details}"
        raise InvalidParameter(reference=reference, details=details)
    return value


def _paging(page: int | None, size: int | None, size_name: str, max_size: int) -> tuple[int, int]:
    """The page (0-based) and its size, checked; `page * size` must fit MongoDB's `$skip`."""
    size = DEFAULT_PAGE_SIZE if size is None else size
    size = _in_range(size, 1, max_size, size_name, f" ({max_size} is the largest page)")
    return _in_range(page or 0, 0, INT64_MAX // size, "page"), size


def _date_bound(
    value: datetime | None, operator: DateOperator | None, default: DateOperator, reference: str
) -> DateBound | None:
    if value is None:
        if operator is not None:  # an operator without its date
            details = f"{reference}Operator compares {reference}: send both, or neither"
            raise InvalidParameter(reference=f"{reference}Operator", details=details)
        return None
    return DateBound(operator or default, value)


def customer_badges_query(
    customer: CustomerRef,
    badge_type: BadgeType | None = None,
    include_expired: bool | None = None,
    group_id: str | None = None,
    sort_on: CustomerSortOn | None = None,
    limit: int | None = None,
    page: int | None = None,
    *,
    max_size: int = MAX_PAGE_SIZE,
) -> BadgeQuery:
    page, size = _paging(page, limit, "limit", max_size)
    return BadgeQuery(
        customer=customer,
        filter=BadgeFilter(
            badge_type=badge_type or BadgeType.AVAILABLE_TO_ISSUE,
            include_expired=bool(include_expired),
            group_id=object_id(group_id, "groupId"),
        ),
        sort=sort_on if sort_on is not None else ManagementSortOn.EXPIRES_ON,
        order=SortOrder.DESC,
        page=page,
        size=size,
    )


def management_query(
    customer: CustomerRef,
    page: int | None = None,
    size: int | None = None,
    sort_on: ManagementSortOn | None = None,
    order: SortOrder | None = None,
    name: str | None = None,
    badge_type: BadgeType | None = None,
    action: BadgeAction | None = None,
    badge_status: BadgeStatus | None = None,
    owner: Owner | None = None,
    claimed_by: Owner | None = None,
    start_on: datetime | None = None,
    start_on_operator: DateOperator | None = None,
    expires_on: datetime | None = None,
    expires_on_operator: DateOperator | None = None,
    group_id: str | None = None,
    *,
    max_size: int = MAX_PAGE_SIZE,
) -> BadgeQuery:
    page, size = _paging(page, size, "size", max_size)
    if name is not None and (len(name) > MAX_IDENTIFIER_LENGTH or "\x00" in name):
        details = f"at most {MAX_IDENTIFIER_LENGTH} characters, without NUL"
        raise InvalidParameter(reference="name", details=details)
    return BadgeQuery(
        customer=customer,
        filter=BadgeFilter(
            badge_type=badge_type or BadgeType.AVAILABLE_TO_ISSUE,
            name=name,
            action=action,
            badge_status=badge_status,
            owner=owner,
            claimed_by=claimed_by,
            start_on=_date_bound(start_on, start_on_operator, DateOperator.GREATER_THAN, "startOn"),
            expires_on=_date_bound(
                expires_on, expires_on_operator, DateOperator.LESS_THAN, "expiresOn"
            ),
            group_id=object_id(group_id, "groupId"),
        ),
        sort=sort_on or ManagementSortOn.EXPIRES_ON,
        order=order or SortOrder.DESC,
        page=page,
        size=size,
    )
