"""An independent, in-memory answer to a BadgeQuery: what MongoDB must return.

It applies the domain rules of `gql_badges.badges.rules` badge by badge and sorts in Python, so
a test can compare it with the query layer's MongoDB pipeline on any generated data.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from gql_badges.badges.request import BadgeQuery, DateBound
from gql_badges.badges.rules import (
    SORT_KEYS,
    SortSource,
    badge_status,
    customer_state,
    matches_badge_type,
)
from gql_badges.enums import BadgeAction, CustomerSortOn, DateOperator, SortOrder
from gql_badges.storage.collections import Document
from tests.support import stored_badge, stored_record


def _date_ok(value: datetime | None, bound: DateBound | None) -> bool:
    if bound is None:
        return True
    if value is None:
        return False
    if bound.operator is DateOperator.LESS_THAN:
        return value < bound.value
    return value > bound.value


def matches(query: BadgeQuery, badge: Document, record: Document | None, now: datetime) -> bool:
    f = query.filter
    state = customer_state(stored_record(record), now)
    if not matches_badge_type(f.badge_type, stored_badge(badge), state, now, f.include_expired):
        return False
    if f.name is not None and f.name.lower() not in badge["name"].lower():
        return False
    if f.action is BadgeAction.ACTIVATED and badge.get("active") is not True:
        return False
    if f.action in (BadgeAction.DEACTIVATED, BadgeAction.DE_ACTIVATED) and badge.get("active"):
        return False
    if f.badge_status is not None and badge_status(stored_badge(badge), now) is not f.badge_status:
        return False
    ownership = badge.get("ownership") or {}
    if f.owner is not None and f.owner.value not in ownership.get("restrictedToOwners", []):
        return False
    if f.claimed_by is not None and not any(
        c["ownerType"] == f.claimed_by.value and c["isActive"] is True
        for c in ownership.get("claims", [])
    ):
        return False
    if not _date_ok(badge.get("startOn"), f.start_on):
        return False
    if not _date_ok(badge.get("expiresOn"), f.expires_on):
        return False
    return f.group_id is None or badge.get("badgeGroupId") == f.group_id


def _stable_sort(items: list[Any], key: Callable[[Any], Any], descending: bool) -> list[Any]:
    """Sort by `key` keeping the current order of ties; None keys last in both directions."""
    present = [item for item in items if key(item) is not None]
    missing = [item for item in items if key(item) is None]
    return sorted(present, key=key, reverse=descending) + missing


def expected_order(
    query: BadgeQuery,
    badges: Sequence[Document],
    records: dict[Any, Document],
    groups: dict[Any, Document],
    now: datetime,
) -> list[Any]:
    """badgeMetaIds of every match, in the order the query asks for."""
    rows = [b for b in badges if matches(query, b, records.get(b["_id"]), now)]
    rows.sort(key=lambda b: b["_id"])
    # Keys from the least significant to the most, each a stable sort.
    keys: list[tuple[Callable[[Document], Any], bool]]
    if query.sort is CustomerSortOn.RANK:

        def group(b: Document) -> Document:
            return groups.get(b.get("badgeGroupId")) or {}

        keys = [
            (lambda b: b.get("expiresOn"), True),
            (lambda b: b.get("badgeRank"), False),
            (lambda b: group(b).get("_id"), False),
            (lambda b: group(b).get("name"), False),
            (lambda b: group(b).get("rank"), False),
            (lambda b: 0 if group(b) else 1, False),
        ]
    else:
        source, field = SORT_KEYS[query.sort]
        descending = query.order is SortOrder.DESC
        if source is SortSource.BADGE:
            keys = [(lambda b: b.get(field), descending)]
        else:
            keys = [(lambda b: (records.get(b["_id"]) or {}).get(field), descending)]
    for key, descending in keys:
        rows = _stable_sort(rows, key, descending)
    return [b["_id"] for b in rows]
