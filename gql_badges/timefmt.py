"""Instants to and from text: ISO-8601 UTC and epoch seconds, shared by GraphQL and REST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_ZERO = timedelta(0)


def as_utc(value: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def format_iso(value: datetime) -> str:
    """`2024-05-01T00:00:00Z`, with milliseconds when there are any (BSON keeps milliseconds)."""
    # isoformat() is C and pads the year to four digits; the offset it writes is +00:00 once the
    # value is UTC, hence the slice.
    if value.utcoffset() != _ZERO:  # None too: a naive value is UTC already
        value = as_utc(value)
    if value.microsecond:
        return value.isoformat(timespec="milliseconds")[:-6] + "Z"
    return value.isoformat(timespec="seconds")[:-6] + "Z"


def parse_iso(text: str) -> datetime:
    """Parse ISO 8601 (`Z` or an offset; no offset means UTC). Raises ValueError."""
    if len(text) > 64:
        raise ValueError("not an ISO-8601 date")
    try:
        return as_utc(datetime.fromisoformat(text.strip()))
    except OverflowError:  # an offset that moves the year out of range, e.g. year 1 at +01:00
        raise ValueError("not an ISO-8601 date in range") from None


def epoch_seconds(value: datetime) -> float | int:
    """Epoch seconds: an int when whole, else a float with millisecond precision."""
    # An aware value's timestamp does not depend on its zone: no conversion needed.
    seconds = (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).timestamp()
    return int(seconds) if seconds.is_integer() else round(seconds, 3)
