"""The domain: the rules of docs/semantics.md in plain Python, over the enums of `enums`.

No web or driver imports here. Documents are the MongoDB documents as the driver returns them
(dicts with camelCase keys, timezone-aware datetimes), typed by `storage.collections`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from gql_badges.enums import (
    BadgeStatus,
    BadgeType,
    ConstraintType,
    CustomerSortOn,
    EarnType,
    ManagementSortOn,
)
from gql_badges.storage.collections import BadgeMeta, BadgeRecord


class SortSource(Enum):
    BADGE = "badge"
    RECORD = "record"


SortOn = ManagementSortOn | CustomerSortOn
"""An order either endpoint can ask for; each ends with badgeMetaId ascending. The two enums
share their common members' values, so either member names the same order."""

# Every distinct order, for tests and tools that go through them all.
EVERY_SORT: tuple[SortOn, ...] = (*ManagementSortOn, CustomerSortOn.RANK)


# Where each single-key order reads its key: the badge_meta document or the customer's record.
# (Keyed by value: a CustomerSortOn member finds its ManagementSortOn twin's entry.)
SORT_KEYS: dict[str, tuple[SortSource, str]] = {
    ManagementSortOn.EXPIRES_ON: (SortSource.BADGE, "expiresOn"),
    ManagementSortOn.LAST_MODIFIED_DATE: (SortSource.BADGE, "lastUpdatedOn"),
    ManagementSortOn.LAST_ISSUED_DATE: (SortSource.RECORD, "issuedOn"),
    ManagementSortOn.LAST_EXPIRED_BADGE: (SortSource.RECORD, "earnExpiresOn"),
    ManagementSortOn.LAST_EARNED_EVENT_DATE: (SortSource.RECORD, "lastEarnEventDate"),
    ManagementSortOn.LAST_EARNED_ON_DATE: (SortSource.RECORD, "lastEarnedOn"),
}

REVOKED = "REVOKED"

# The fields of a customer_badges record that the rules, the sorts and the items read.
RECORD_FIELDS = (
    "badgeMetaId",
    "issuedOn",
    "issueStatus",
    "earnCount",
    "active",
    "earnExpiresOn",
    "lastEarnedOn",
    "lastEarnEventDate",
)
# The fields of a badge group that the RANK order and the items read (its `_id` comes too).
GROUP_FIELDS = ("name", "rank")


def stored_date(value: object) -> datetime | None:
    """A stored date as the rules read it: any other value (a string, a number) counts as
    absent. The pipeline's comparisons agree, since MongoDB compares a date with dates only."""
    return value if isinstance(value, datetime) else None


def stored_count(value: object) -> int | float:
    """A stored earnCount as the rules read it: a number, else 0 (as without a count).
    (A boolean is not a count, though Python's bool is an int.)"""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return 0


def badge_status(badge: BadgeMeta, now: datetime) -> BadgeStatus:
    """UPCOMING before startOn, EXPIRED from expiresOn on, LIVE between.

    A missing startOn counts as started, a missing expiresOn as never expiring; so does one
    stored as anything but a date (docs/semantics.md, "Stored values").
    """
    expires_on = stored_date(badge.get("expiresOn"))
    if expires_on is not None and expires_on <= now:
        return BadgeStatus.EXPIRED
    start_on = stored_date(badge.get("startOn"))
    if start_on is not None and now < start_on:
        return BadgeStatus.UPCOMING
    return BadgeStatus.LIVE


@dataclass(frozen=True, slots=True)
class CustomerState:
    """What one customer_badges record (or its absence) says about a badge for the customer."""

    earn_count: int | float
    enrolled: bool
    earn_active: bool

    @property
    def blocks_issue(self) -> bool:
        """Enrolled or already earned: the badge is no longer AVAILABLE_TO_ISSUE."""
        return self.enrolled or self.earn_count != 0

    def is_earned(self, include_expired: bool) -> bool:
        return self.earn_count >= 1 and (self.earn_active or include_expired)


NO_RECORD = CustomerState(earn_count=0, enrolled=False, earn_active=False)


def customer_state(record: BadgeRecord | None, now: datetime) -> CustomerState:
    if record is None:
        return NO_RECORD
    earn_count = stored_count(record.get("earnCount"))
    earn_expires_on = stored_date(record.get("earnExpiresOn"))
    return CustomerState(
        earn_count=earn_count,
        enrolled=stored_date(record.get("issuedOn")) is not None
        and record.get("issueStatus") != REVOKED,
        earn_active=earn_count >= 1
        and record.get("active") is True
        and (earn_expires_on is None or earn_expires_on > now),
    )


def customer_limit(badge: BadgeMeta) -> int | float | None:
    """The smallest maxEarnLimit among the badge's CUSTOMER_BADGE_FIXED_VALUE constraints."""
    limits: list[int | float] = []
    constraints = badge.get("customerConstraints")
    for constraint in constraints if isinstance(constraints, list) else ():
        if not isinstance(constraint, dict):
            continue
        limit = constraint.get("maxEarnLimit")
        # A number, as MongoDB's `$lte` compares it (within a type): a boolean is no limit,
        # though Python's bool is an int.
        if (
            constraint.get("constraintType") == ConstraintType.CUSTOMER_BADGE_FIXED_VALUE
            and isinstance(limit, int | float)
            and not isinstance(limit, bool)
        ):
            limits.append(limit)
    return min(limits) if limits else None


def matches_badge_type(
    badge_type: BadgeType,
    badge: BadgeMeta,
    state: CustomerState,
    now: datetime,
    include_expired: bool = False,
) -> bool:
    """The badgeType rule for one badge and the customer's state of it (docs/semantics.md)."""
    status = badge_status(badge, now)
    match badge_type:
        case BadgeType.AVAILABLE_TO_ISSUE:
            return (
                badge.get("earnType") == EarnType.EARN
                and badge.get("active") is True
                and status is not BadgeStatus.EXPIRED
                and not state.blocks_issue
            )
        case BadgeType.AVAILABLE:
            limit = customer_limit(badge)
            return (
                badge.get("earnType") == EarnType.ISSUE_EARN
                and badge.get("active") is True
                and status is not BadgeStatus.EXPIRED
                and (limit is None or state.earn_count < limit)
            )
        case BadgeType.EARNED:
            return state.is_earned(include_expired)
        case BadgeType.EXPIRED:
            return status is BadgeStatus.EXPIRED
