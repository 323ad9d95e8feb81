"""The `DateTime` scalar: ISO-8601 in UTC, written with a `Z`.

Mapped onto Python's `datetime` through `StrawberryConfig.scalar_map`, so the types annotate
plain `datetime` fields.
"""

from __future__ import annotations

from datetime import datetime

import strawberry

from gql_badges.timefmt import format_iso, parse_iso

_EXPECTED = "DateTime must be an ISO-8601 instant, such as 2024-05-01T00:00:00Z"


def _parse(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError(_EXPECTED)
    try:
        return parse_iso(value)
    except ValueError:  # its text is Python's ("month must be in 1..12"): say what is expected
        raise ValueError(_EXPECTED) from None


# Typed `object`, as `StrawberryConfig.scalar_map` types its keys: the map's type is then
# inferred, with no need to name Strawberry's scalar definition class (not published).
_DATETIME: object = datetime

SCALAR_MAP = {
    _DATETIME: strawberry.scalar(
        name="DateTime",
        description="An instant, as an ISO-8601 string in UTC (`2024-05-01T00:00:00Z`).",
        serialize=format_iso,
        parse_value=_parse,
    )
}
