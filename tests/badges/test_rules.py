"""The domain rules of docs/semantics.md, in plain Python."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gql_badges.badges.rules import badge_status, customer_limit, customer_state, matches_badge_type
from gql_badges.enums import BadgeStatus, BadgeType
from gql_badges.storage.collections import BadgeMeta, Document
from tests.support import stored_badge, stored_record

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
MS = timedelta(milliseconds=1)


@pytest.mark.parametrize(
    ("start", "expires", "status"),
    [
        (NOW + MS, NOW + 2 * MS, BadgeStatus.UPCOMING),
        (NOW, NOW + MS, BadgeStatus.LIVE),  # startOn <= now
        (NOW - MS, NOW, BadgeStatus.EXPIRED),  # expiresOn <= now
        (None, None, BadgeStatus.LIVE),
        (NOW + MS, NOW - MS, BadgeStatus.EXPIRED),  # expiry wins over a later start
    ],
)
def test_badge_status_boundaries(
    start: datetime | None, expires: datetime | None, status: BadgeStatus
) -> None:
    assert badge_status(stored_badge({"startOn": start, "expiresOn": expires}), NOW) is status


def test_customer_state_without_record_is_nothing() -> None:
    state = customer_state(None, NOW)
    assert (state.earn_count, state.enrolled, state.earn_active) == (0, False, False)


@pytest.mark.parametrize(
    ("record", "enrolled", "earn_active"),
    [
        ({"issuedOn": NOW, "issueStatus": None, "earnCount": 0, "active": True}, True, False),
        ({"issuedOn": NOW, "issueStatus": "REVOKED", "earnCount": 0, "active": True}, False, False),
        ({"issuedOn": None, "earnCount": 1, "active": True}, False, True),
        ({"earnCount": 1, "active": False}, False, False),
        ({"earnCount": 1, "active": True, "earnExpiresOn": NOW}, False, False),
        ({"earnCount": 1, "active": True, "earnExpiresOn": NOW + MS}, False, True),
    ],
)
def test_customer_state(record: Document | None, enrolled: bool, earn_active: bool) -> None:
    state = customer_state(stored_record(record), NOW)
    assert state.enrolled is enrolled
    assert state.earn_active is earn_active


def test_customer_limit_is_the_smallest_customer_fixed_value() -> None:
    badge = {
        "customerConstraints": [
            {"constraintType": "CUSTOMER_BADGE_FIXED_VALUE", "maxEarnLimit": 5},
            {"constraintType": "CUSTOMER_BADGE_FIXED_VALUE", "maxEarnLimit": 2},
            {"constraintType": "BADGE_FIXED_VALUE", "maxEarnLimit": 1},
            {"constraintType": "CUSTOMER_BADGE_FIXED_VALUE", "maxEarnLimit": None},
        ]
    }
    assert customer_limit(stored_badge(badge)) == 2
    assert customer_limit(stored_badge({"customerConstraints": []})) is None


def _badge(**fields: object) -> BadgeMeta:
    base = {"earnType": "EARN", "active": True, "startOn": NOW - MS, "expiresOn": NOW + MS}
    return stored_badge(base | fields)


def test_available_to_issue_needs_an_unenrolled_unearned_live_earn_badge() -> None:
    rule = BadgeType.AVAILABLE_TO_ISSUE
    none = customer_state(None, NOW)
    assert matches_badge_type(rule, _badge(), none, NOW)
    assert matches_badge_type(rule, _badge(startOn=NOW + MS), none, NOW)  # upcoming is fine
    assert not matches_badge_type(rule, _badge(expiresOn=NOW), none, NOW)
    assert not matches_badge_type(rule, _badge(active=False), none, NOW)
    assert not matches_badge_type(rule, _badge(earnType="ISSUE_EARN"), none, NOW)
    enrolled = customer_state(stored_record({"issuedOn": NOW, "earnCount": 0}), NOW)
    assert not matches_badge_type(rule, _badge(), enrolled, NOW)
    revoked = customer_state(
        stored_record({"issuedOn": NOW, "issueStatus": "REVOKED", "earnCount": 0}), NOW
    )
    assert matches_badge_type(rule, _badge(), revoked, NOW)


def test_available_respects_the_customer_limit() -> None:
    limited = _badge(
        earnType="ISSUE_EARN",
        customerConstraints=[{"constraintType": "CUSTOMER_BADGE_FIXED_VALUE", "maxEarnLimit": 2}],
    )
    rule = BadgeType.AVAILABLE
    assert matches_badge_type(
        rule, limited, customer_state(stored_record({"earnCount": 1}), NOW), NOW
    )
    assert not matches_badge_type(
        rule, limited, customer_state(stored_record({"earnCount": 2}), NOW), NOW
    )


def test_earned_counts_expired_earns_only_when_asked() -> None:
    expired_earn = customer_state(
        stored_record({"earnCount": 1, "active": True, "earnExpiresOn": NOW - MS}), NOW
    )
    assert not matches_badge_type(BadgeType.EARNED, _badge(), expired_earn, NOW)
    assert matches_badge_type(BadgeType.EARNED, _badge(), expired_earn, NOW, include_expired=True)


def test_expired_is_the_badge_status() -> None:
    none = customer_state(None, NOW)
    assert matches_badge_type(BadgeType.EXPIRED, _badge(expiresOn=NOW), none, NOW)
    assert not matches_badge_type(BadgeType.EXPIRED, _badge(), none, NOW)
