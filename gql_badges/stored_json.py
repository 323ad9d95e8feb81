"""Stored values as JSON: the one encoder both APIs write their answers with.

The loyalty platform writes the documents, so a field passed through as stored (`tags`,
`customFields`, an unknown constraint, an image's extra fields) may hold any BSON value. orjson
writes the values JSON has in C; `_default` is called only for the others, and gives each the
form docs/semantics.md ("Stored values") lists: an ObjectId its hex string, a date ISO-8601 with
`Z`, a Decimal128 its decimal text, binary data base64, and so on. REST (`http/responses.py`)
and GraphQL (`graphql/view.py`, for every transport) both encode with `dumps`.
"""

from __future__ import annotations

import base64
import re
from datetime import datetime
from typing import Any

import orjson
from bson import DBRef, Decimal128, ObjectId, Regex
from bson.max_key import MaxKey
from bson.min_key import MinKey
from bson.timestamp import Timestamp

from gql_badges.timefmt import format_iso

# Datetimes reach `_default` too, so that they are written as the DateTime scalar writes them
# (`Z`, milliseconds only when there are any), not as orjson would (`+00:00`, microseconds).
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME

# A regex's flags as the letters MongoDB stores them with.
_REGEX_FLAGS = (
    (re.IGNORECASE, "i"),
    (re.LOCALE, "l"),
    (re.MULTILINE, "m"),
    (re.DOTALL, "s"),
    (re.UNICODE, "u"),
    (re.VERBOSE, "x"),
)


def _regex(value: Regex[Any]) -> str:
    flags = value.flags if isinstance(value.flags, int) else 0
    letters = "".join(letter for flag, letter in _REGEX_FLAGS if flags & flag)
    pattern = value.pattern.decode() if isinstance(value.pattern, bytes) else value.pattern
    return f"/{pattern}/{letters}"


def _default(value: Any) -> Any:
    """The JSON form of a value orjson has none for (it calls this for nothing else)."""
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, datetime):
        return format_iso(value)
    if isinstance(value, bytes):  # BSON binary of any subtype (`Binary` is a bytes)
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Decimal128):
        return str(value)  # its exact decimal text: a float would round it
    if isinstance(value, Regex):
        return _regex(value)
    if isinstance(value, DBRef):
        return value.as_doc().to_dict()  # {"$ref", "$id"[, "$db"]}; the id written in turn
    # MongoDB's internal types have no JSON form of their own: their Extended JSON.
    if isinstance(value, Timestamp):
        return {"$timestamp": {"t": value.time, "i": value.inc}}
    if isinstance(value, MinKey):
        return {"$minKey": 1}
    if isinstance(value, MaxKey):
        return {"$maxKey": 1}
    raise TypeError(f"no JSON form for {type(value).__name__}")


def dumps(content: Any) -> bytes:
    """`content` as JSON bytes, stored values in their JSON form (NaN and infinities: null)."""
    return orjson.dumps(content, default=_default, option=_OPTIONS)


__all__ = ["dumps"]
