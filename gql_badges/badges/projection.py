"""Which stored `badge_meta` fields an item field reads, so only selected fields are fetched.

Item fields have the same names in REST and GraphQL, so the one item table serves both.
"""

from __future__ import annotations

from collections.abc import Iterable

from gql_badges.badges.items import BY_NAME


def stored_fields(item_fields: Iterable[str]) -> set[str]:
    """The badge_meta fields to read for these item fields (unknown names read nothing)."""
    return {stored for name in item_fields if name in BY_NAME for stored in BY_NAME[name].reads}


def needs_groups(item_fields: Iterable[str]) -> bool:
    """Whether these item fields need the badges' group documents, not only their ids."""
    return any(name in BY_NAME and BY_NAME[name].needs_group for name in item_fields)
