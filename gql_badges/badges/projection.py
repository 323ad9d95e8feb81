"""Which stored `badge_meta` fields an item field reads, so only selected fields are fetched.

Item fields have the same names in REST and GraphQL, so one table serves both.
"""

from __future__ import annotations

from collections.abc import Iterable

# Item field → the badge_meta fields it is computed from. Fields of the customer's record
# (earnedCount, issueStatus, ...) read nothing from badge_meta.
STORED_FIELDS: dict[str, tuple[str, ...]] = {
    "orgId": ("orgId",),
    "name": ("name",),
    "description": ("description",),
    "startOn": ("startOn",),
    "startsOn": ("startOn",),
    "expiresOn": ("expiresOn",),
    "images": ("images",),
    "tags": ("tags",),
    "badgeGroupId": ("badgeGroupId",),
    "badgeGroupName": ("badgeGroupId",),
    "group": ("badgeGroupId",),
    "badgeRank": ("badgeRank",),
    "ownership": ("ownership",),
    "earnType": ("earnType",),
    "badgeType": ("earnType",),
    "customerConstraints": ("customerConstraints",),
    "badgeConstraints": ("badgeConstraints",),
    "customFields": ("customFields",),
    "active": ("active",),
    "createdOn": ("createdOn",),
    "lastUpdatedOn": ("lastUpdatedOn",),
    "badgeStatus": ("startOn", "expiresOn"),
}
ALL_FIELDS = frozenset(STORED_FIELDS)
# Fields that need the badge's group document, not only its id.
GROUP_FIELDS = frozenset({"badgeGroupName", "group"})


def stored_fields(item_fields: Iterable[str]) -> set[str]:
    """The badge_meta fields to read for these item fields (unknown names read nothing)."""
    return {stored for name in item_fields for stored in STORED_FIELDS.get(name, ())}


def needs_groups(item_fields: Iterable[str]) -> bool:
    return not GROUP_FIELDS.isdisjoint(item_fields)
