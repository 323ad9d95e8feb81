"""Rows as the legacy callers read them, their keys in order (docs/semantics.md, REST rendering).

Instants become epoch seconds, each followed by an ISO-8601 twin named `<field>ISO`; ids become
hex strings; stored sub-documents (images, ownership, tags, custom fields, constraints) pass
through as stored, but for the dates inside constraints, which become epoch seconds too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gql_badges.badges.repository import BadgePage, BadgeRow
from gql_badges.badges.rules import badge_status, customer_state
from gql_badges.storage.collections import BadgeMeta, BadgeRecord, Constraint
from gql_badges.timefmt import epoch_seconds, format_iso

# The item fields each endpoint renders (GraphQL names them the same); they decide what is read.
CUSTOMER_ITEM_FIELDS = (
    "badgeMetaId", "orgId", "name", "description", "startOn", "expiresOn", "images", "tags",
    "badgeGroupId", "badgeGroupName", "badgeRank", "ownership", "earnType",
    "customerConstraints", "badgeConstraints", "earnedCount", "lastEarnedOnDate",
    "lastEarnEventDate", "customFields", "active",
)  # fmt: skip
MANAGEMENT_ITEM_FIELDS = (
    "name", "description", "badgeMetaId", "badgeType", "badgeGroupId", "badgeGroupName",
    "badgeRank", "createdOn", "lastUpdatedOn", "images", "badgeStatus", "lastEarnedOn",
    "startsOn", "expiresOn", "earnCount", "ownership", "issueStatus", "active",
    "lastEarnedOnDate", "lastEarnEventDate",
)  # fmt: skip


def _put_instant(item: dict[str, Any], name: str, value: datetime | None) -> None:
    item[name] = epoch_seconds(value) if value is not None else None
    item[name + "ISO"] = format_iso(value) if value is not None else None


def _constraints(stored: list[Constraint] | None) -> list[Any]:
    """Constraints as stored, their dates (`startDate`, `endDate`) as epoch seconds + twins."""
    out: list[Any] = []
    for constraint in stored or ():
        if isinstance(constraint, dict) and any(
            isinstance(value, datetime) for value in constraint.values()
        ):
            converted: dict[str, Any] = {}
            for key, value in constraint.items():
                if isinstance(value, datetime):
                    _put_instant(converted, key, value)
                else:
                    converted[key] = value
            out.append(converted)
        else:
            out.append(constraint)
    return out


def _group_id(badge: BadgeMeta) -> str | None:
    group_id = badge.get("badgeGroupId")
    return str(group_id) if group_id is not None else None


def _put_earn_dates(item: dict[str, Any], record: BadgeRecord | None, earn_count: int) -> None:
    """lastEarnedOnDate and lastEarnEventDate appear only for badges the customer has earned."""
    if record is not None and earn_count >= 1:
        _put_instant(item, "lastEarnedOnDate", record.get("lastEarnedOn"))
        _put_instant(item, "lastEarnEventDate", record.get("lastEarnEventDate"))


def render_customer_item(row: BadgeRow, now: datetime) -> dict[str, Any]:
    badge, record, group = row.badge, row.record, row.group
    item: dict[str, Any] = {
        "badgeMetaId": str(badge["_id"]),
        "orgId": badge.get("orgId"),
        "name": badge.get("name"),
        "description": badge.get("description"),
    }
    _put_instant(item, "startOn", badge.get("startOn"))
    _put_instant(item, "expiresOn", badge.get("expiresOn"))
    item["images"] = badge.get("images") or []
    item["tags"] = badge.get("tags")
    item["badgeGroupId"] = _group_id(badge)
    item["badgeGroupName"] = group.get("name") if group else None
    item["badgeRank"] = badge.get("badgeRank")
    item["ownership"] = badge.get("ownership")
    item["earnType"] = badge.get("earnType")
    item["customerConstraints"] = _constraints(badge.get("customerConstraints"))
    item["badgeConstraints"] = _constraints(badge.get("badgeConstraints"))
    item["earnedCount"] = record.get("earnCount") if record is not None else None
    _put_earn_dates(item, record, customer_state(record, now).earn_count)
    item["customFields"] = badge.get("customFields")
    item["active"] = badge.get("active")
    return item


def render_management_item(row: BadgeRow, now: datetime) -> dict[str, Any]:
    badge, record, group = row.badge, row.record, row.group
    earn_count = customer_state(record, now).earn_count
    item: dict[str, Any] = {
        "name": badge.get("name"),
        "description": badge.get("description"),
        "badgeMetaId": str(badge["_id"]),
        "badgeType": badge.get("earnType"),
        "badgeGroupId": _group_id(badge),
        "badgeGroupName": group.get("name") if group else None,
        "badgeRank": badge.get("badgeRank"),
    }
    _put_instant(item, "createdOn", badge.get("createdOn"))
    _put_instant(item, "lastUpdatedOn", badge.get("lastUpdatedOn"))
    item["images"] = badge.get("images") or []
    item["badgeStatus"] = badge_status(badge, now).value
    _put_instant(item, "lastEarnedOn", record.get("lastEarnedOn") if record else None)
    _put_instant(item, "startsOn", badge.get("startOn"))
    _put_instant(item, "expiresOn", badge.get("expiresOn"))
    item["earnCount"] = earn_count
    item["ownership"] = badge.get("ownership")
    item["issueStatus"] = record.get("issueStatus") if record else None
    item["active"] = badge.get("active")
    _put_earn_dates(item, record, earn_count)
    return item


def render_pagination(page: BadgePage) -> dict[str, int]:
    return {
        "page": page.page,
        "size": len(page.rows),
        "total": page.total,
        "totalPages": page.total_pages,
    }


def render_customer_page(page: BadgePage) -> dict[str, Any]:
    return {
        "badges": [render_customer_item(row, page.now) for row in page.rows],
        "pagination": render_pagination(page),
    }


def render_management_page(page: BadgePage) -> dict[str, Any]:
    return {
        "customerBadges": [render_management_item(row, page.now) for row in page.rows],
        "pagination": render_pagination(page),
    }
