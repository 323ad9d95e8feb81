"""Rows as the legacy callers read them (SPEC §5): the reference pages' keys, in their order.

Instants become epoch seconds, each followed by an ISO-8601 twin named `<field>ISO`; ids become
hex strings; stored sub-documents (images, ownership, constraints) pass through as stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gql_badges.badges.model import Document, badge_status, customer_state
from gql_badges.badges.repository import BadgePage, BadgeRow
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


def _plain(value: Any) -> Any:
    """A stored value as JSON: instants inside sub-documents become epoch seconds + twins."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, inner in value.items():
            if isinstance(inner, datetime):
                _put_instant(out, key, inner)
            else:
                out[key] = _plain(inner)
        return out
    if isinstance(value, list):
        return [_plain(inner) for inner in value]
    if isinstance(value, datetime):
        return epoch_seconds(value)
    return value


def _group_id(badge: Document) -> str | None:
    group_id = badge.get("badgeGroupId")
    return str(group_id) if group_id is not None else None


def _put_earn_dates(item: dict[str, Any], record: Document | None, earn_count: int) -> None:
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
    item["images"] = _plain(badge.get("images") or [])
    item["tags"] = _plain(badge.get("tags"))
    item["badgeGroupId"] = _group_id(badge)
    item["badgeGroupName"] = group.get("name") if group else None
    item["badgeRank"] = badge.get("badgeRank")
    item["ownership"] = _plain(badge.get("ownership"))
    item["earnType"] = badge.get("earnType")
    item["customerConstraints"] = _plain(badge.get("customerConstraints") or [])
    item["badgeConstraints"] = _plain(badge.get("badgeConstraints") or [])
    item["earnedCount"] = record.get("earnCount") if record is not None else None
    _put_earn_dates(item, record, customer_state(record, now).earn_count)
    item["customFields"] = _plain(badge.get("customFields"))
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
    item["images"] = _plain(badge.get("images") or [])
    item["badgeStatus"] = badge_status(badge, now).value
    _put_instant(item, "lastEarnedOn", record.get("lastEarnedOn") if record else None)
    _put_instant(item, "startsOn", badge.get("startOn"))
    _put_instant(item, "expiresOn", badge.get("expiresOn"))
    item["earnCount"] = earn_count
    item["ownership"] = _plain(badge.get("ownership"))
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
