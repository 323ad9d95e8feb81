"""Instants to and from text: ISO-8601 UTC and epoch seconds, shared by GraphQL and REST."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from typing import cast

import orjson
from bson.tz_util import utc as _DRIVER_UTC

_ZERO = timedelta(0)
# The zones known to be UTC at every instant (the driver's own zone object included), by
# identity: a zone's equality and hash are its own code (one may even refuse to be hashed).
_UTC_ZONE_IDS = frozenset(map(id, (UTC, _DRIVER_UTC)))
_TZINFO = attrgetter("tzinfo")
_MICROSECOND = attrgetter("microsecond")


def as_utc(value: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def format_iso(value: datetime) -> str:
    """`2024-05-01T00:00:00Z`, with milliseconds when there are any (BSON keeps milliseconds)."""
    # isoformat() is C and pads the year to four digits; the offset it writes is +00:00 once the
    # value is UTC, hence the slice. This runs for every DateTime value a page's column does not
    # take (`format_iso_column`) and those inside sub-objects, so the common case stays cheap:
    # the driver's zones are UTC by identity (no `utcoffset()` call), and a value in whole
    # seconds is written by isoformat() without a keyword argument, which then writes seconds,
    # as timespec="seconds" would, at about half the cost of the call.
    zone = value.tzinfo
    if zone is not UTC and zone is not _DRIVER_UTC and value.utcoffset() != _ZERO:
        value = as_utc(value)  # a naive value (offset None) included: it is UTC already
    if value.microsecond:
        return value.isoformat(timespec="milliseconds")[:-6] + "Z"
    return value.isoformat()[:-6] + "Z"


# What a column of stored instants holds, as the driver decodes them (a BSON date is exactly
# `datetime`): the columns `format_iso_column` and `epochs_and_isos` write.
INSTANT_COLUMN_TYPES = frozenset({datetime, type(None)})


def format_iso_column(values: Sequence[object]) -> list[str | None] | None:
    """`format_iso` of each value of a column (None stays None) in one orjson call, when the
    column holds only whole seconds in UTC (Python's or the driver's zone object) and nulls, the
    common case; None for any other column (a value not exactly a `datetime`, in another zone,
    or with milliseconds), to be written a value at a time. orjson writes such an instant in
    RFC 3339 with `Z`, `format_iso`'s very text (a property test holds them equal), in C at
    about a third of `isoformat`'s cost."""
    if not {*map(type, values)} <= INSTANT_COLUMN_TYPES:
        return None
    instants = cast("list[datetime]", list(filter(None, values)))  # a datetime is never false
    zones = {*map(id, map(_TZINFO, instants))}
    if not zones <= _UTC_ZONE_IDS or any(map(_MICROSECOND, instants)):
        return None
    texts: list[str | None] = orjson.loads(orjson.dumps(values, option=orjson.OPT_UTC_Z))
    return texts


def epoch_and_iso(value: datetime) -> tuple[float | int, str]:
    """`epoch_seconds` and `format_iso` of one instant, in one call: REST writes both."""
    if id(value.tzinfo) not in _UTC_ZONE_IDS:
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
    whole seconds in UTC, the common case, goes through maps of C methods and one orjson call
    (`format_iso_column`): no Python call per value (the driver's values are in `datetime.UTC`,
    see `storage/client.py`)."""
    if values.count(None) == len(values):  # e.g. the earn dates of badges nobody has earned
        return [None] * len(values), [None] * len(values)
    column = format_iso_column(values)
    if column is not None:
        if None in values:
            return [None if v is None else int(v.timestamp()) for v in values], column
        instants = cast("Sequence[datetime]", values)
        return list(map(int, map(datetime.timestamp, instants))), column
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
