"""Instants to and from text: ISO-8601 UTC and epoch seconds, shared by GraphQL and REST."""

from __future__ import annotations

from datetime import UTC, datetime


def as_utc(value: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def format_iso(value: datetime) -> str:
    """`2024-05-01T00:00:00Z`, with milliseconds when there are any (BSON keeps milliseconds)."""
    value = as_utc(value)
    if value.microsecond:
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


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
    seconds = as_utc(value).timestamp()
    return int(seconds) if seconds.is_integer() else round(seconds, 3)
