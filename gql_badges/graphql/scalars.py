"""The `DateTime` scalar: ISO-8601 in UTC, written with a `Z`."""

from __future__ import annotations

from datetime import datetime
from typing import NewType

import strawberry

from gql_badges.timefmt import format_iso, parse_iso


def _parse(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError("DateTime must be an ISO-8601 string")
    return parse_iso(value)


DateTime = strawberry.scalar(
    NewType("DateTime", datetime),
    name="DateTime",
    description="An instant, as an ISO-8601 string in UTC (`2024-05-01T00:00:00Z`).",
    serialize=format_iso,
    parse_value=_parse,
)

__all__ = ["DateTime"]
