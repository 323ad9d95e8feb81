"""Instants to and from text: ISO-8601 UTC and epoch seconds, shared by GraphQL and REST."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from operator import attrgetter, methodcaller
from typing import cast

import orjson
from bson.tz_util import utc as _DRIVER_UTC

_ZERO = timedelta(0)
# Zones that are UTC at every instant (the driver's own zone object included).
_UTC_ZONES = frozenset({UTC, _DRIVER_UTC})
_TZINFO = attrgetter("tzinfo")
_MICROSECOND = attrgetter("microsecond")
_WHOLE_SECONDS = methodcaller("isoformat", timespec="seconds")
_OFFSET_TO_Z = methodcaller("replace", "+00:00", "Z")


def as_utc(value: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def format_iso(value: datetime) -> str:
    """`2024-05-01T00:00:00Z`, with milliseconds when there are any (BSON keeps milliseconds)."""
    # isoformat() is C and pads the year to four digits; the offset it writes is +00:00 once the
    # value is UTC, hence the slice. This runs once per DateTime value of a GraphQL page, so the
    # common case stays cheap: the driver's zones are UTC by identity (no `utcoffset()` call),
    # and a value in whole seconds is written by isoformat() without a keyword argument, which
    # then writes seconds, as timespec="seconds" would, at about half the cost of the call.
    zone = value.tzinfo
    if zone is not UTC and zone is not _DRIVER_UTC and value.utcoffset() != _ZERO:
        value = as_utc(value)  # a naive value (offset None) included: it is UTC already
    if value.microsecond:
        return value.isoformat(timespec="milliseconds")[:-6] + "Z"
    return value.isoformat()[:-6] + "Z"


def format_iso_column(values: Sequence[object]) -> list[str | None] | None:
    """`format_iso` of a column of instants, None staying None, when every value is either: a
    column of whole seconds in UTC (the common case) is written in C, in one call, by orjson,
    whose RFC 3339 with `Z` is `format_iso`'s text for those (a property test holds them equal)
    at about a third of `isoformat`'s cost. None when any value is otherwise: not a `datetime`,
    in another zone, or with milliseconds."""
    if not {*map(type, values)} <= _COLUMN_TYPES:
        return None
    instants = cast("list[datetime]", list(filter(None, values)))  # a datetime is never false
    if not {*map(_TZINFO, instants)} <= _UTC_ZONES or any(map(_MICROSECOND, instants)):
        return None
    texts: list[str | None] = orjson.loads(orjson.dumps(values, option=orjson.OPT_UTC_Z))
    return texts


# What a column `format_iso_column` writes may hold: a BSON date is decoded as exactly `datetime`.
_COLUMN_TYPES = {datetime, type(None)}


def epoch_and_iso(value: datetime) -> tuple[float | int, str]:
    """`epoch_seconds` and `format_iso` of one instant, in one call: REST writes both."""
    if value.tzinfo not in _UTC_ZONES:
        value = as_utc(value)
    seconds = value.timestamp()
    if value.microsecond:
        text = value.isoformat(timespec="milliseconds")[:-6] + "Z"
        return (int(seconds) if seconds.is_integer() else round(seconds, 3)), text
    return int(seconds), value.isoformat(timespec="seconds")[:-6] + "Z"


def epochs_and_isos(
    values: Sequence[datetime | None],
) -> tuple[list[float | int | None], list[str | None]]:
    """`epoch_and_iso` of a column of instants, as two columns (None stays None). A column of
    whole seconds in UTC, the common case, goes through maps of C methods: no Python call per
    value (the driver's values are in `datetime.UTC`, see `db.py`)."""
    if (
        None not in values
        and {*map(_TZINFO, values)} <= _UTC_ZONES
        and not any(map(_MICROSECOND, values))
    ):
        instants = cast("Sequence[datetime]", values)
        whole: list[float | int | None] = list(map(int, map(datetime.timestamp, instants)))
        return whole, list(map(_OFFSET_TO_Z, map(_WHOLE_SECONDS, instants)))
    if values.count(None) == len(values):  # e.g. the earn dates of badges nobody has earned
        return [None] * len(values), [None] * len(values)
    epochs: list[float | int | None] = []
    texts: list[str | None] = []
    for value in values:
        epoch, text = epoch_and_iso(value) if value is not None else (None, None)
        epochs.append(epoch)
        texts.append(text)
    return epochs, texts


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
