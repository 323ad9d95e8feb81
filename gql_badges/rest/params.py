"""Query strings of the two legacy URIs, parsed into the typed arguments of `badges.request`.

Parameter names and enum values match case-insensitively; unknown parameters are ignored and
reported as warnings. A bad value raises `InvalidEnumValue` or `InvalidParameter` naming the
parameter as documented.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from starlette.datastructures import QueryParams

from gql_badges import enums
from gql_badges.badges.request import CustomerRef, customer_ref
from gql_badges.enums import IdentifierType
from gql_badges.errors import InvalidEnumValue, InvalidIdentifierType, InvalidParameter
from gql_badges.http.responses import WarningEntry
from gql_badges.timefmt import parse_iso

CUSTOMER_IDENTIFIER_HEADER = "X-CAP-CUSTOMER-IDENTIFIER"  # header look-ups ignore case
_INTEGER = re.compile(r"[+-]?[0-9]{1,19}")


@dataclass(frozen=True, slots=True)
class Param:
    """One documented query parameter."""

    name: str  # as documented, e.g. `sortOn`
    argument: str  # the keyword of the `badges.request` function, e.g. `sort_on`
    kind: str  # "enum" | "integer" | "boolean" | "date-time" | "string" | "object-id"
    description: str
    enum: type[StrEnum] | None = None
    minimum: int | None = None  # documented lower bound of an integer
    page_size: bool = False  # bounded above by the configured largest page

    def parse(self, text: str) -> Any:
        if self.enum is not None:
            return _parse_enum(self, text)
        try:
            return _PARSERS[self.kind](text)
        except ValueError:
            raise InvalidParameter(reference=self.name, details=_EXPECTED[self.kind]) from None


def allowed_values(enum: type[StrEnum]) -> str:
    return "allowed values: " + ", ".join(member.value for member in enum)


def _parse_enum(param: Param, text: str) -> StrEnum:
    assert param.enum is not None
    wanted = text.strip().lower()
    for member in param.enum:
        if member.value.lower() == wanted:
            return member
    details = f"{allowed_values(param.enum)} (any case)"
    raise InvalidEnumValue(reference=param.name, details=details)


def _integer(text: str) -> int:
    if not _INTEGER.fullmatch(text.strip()):
        raise ValueError(text)
    return int(text)


def _boolean(text: str) -> bool:
    match text.strip().lower():
        case "true":
            return True
        case "false":
            return False
    raise ValueError(text)


def _string(text: str) -> str:
    if "\x00" in text:
        raise ValueError("NUL in a string parameter")
    return text


_PARSERS: dict[str, Callable[[str], Any]] = {
    "integer": _integer,
    "boolean": _boolean,
    "date-time": parse_iso,
    "string": _string,
    "object-id": _string,  # checked as an ObjectId by badges.request, with the same reference
}
_EXPECTED = {
    "integer": "expected a whole number",
    "boolean": "expected true or false",
    "date-time": "expected an ISO 8601 date-time, e.g. 2024-05-01T00:00:00.000Z",
    "string": "expected text without NUL characters",
    "object-id": "expected an ObjectId: 24 hex digits",
}

_BADGE_TYPE = Param(
    "badgeType",
    "badge_type",
    "enum",
    "Which badges: AVAILABLE_TO_ISSUE (default), AVAILABLE, EARNED or EXPIRED.",
    enum=enums.BadgeType,
)
_GROUP_ID = Param("groupId", "group_id", "object-id", "Only badges of this badge group.")
_PAGE = Param("page", "page", "integer", "The 0-based page (default 0).", minimum=0)

CUSTOMER_PARAMS: tuple[Param, ...] = (
    _BADGE_TYPE,
    Param(
        "sortOn",
        "sort_on",
        "enum",
        "RANK, LAST_EARNED_ON_DATE or LAST_EARNED_EVENT_DATE; default: expiresOn descending.",
        enum=enums.CustomerSortOn,
    ),
    Param("includeExpired", "include_expired", "boolean", "EARNED: include expired earns."),
    Param("limit", "limit", "integer", "Items per page (default 10).", minimum=1, page_size=True),
    _PAGE,
    _GROUP_ID,
)

_DATE_HELP = "ISO 8601, e.g. 2024-05-01T00:00:00.000Z"
MANAGEMENT_PARAMS: tuple[Param, ...] = (
    _PAGE,
    Param("size", "size", "integer", "Items per page (default 10).", minimum=1, page_size=True),
    Param(
        "sortOn",
        "sort_on",
        "enum",
        "The sort key (default EXPIRES_ON).",
        enum=enums.ManagementSortOn,
    ),
    Param("order", "order", "enum", "DESC (default) or ASC.", enum=enums.SortOrder),
    Param("name", "name", "string", "Badge name contains this (case-insensitive, literal)."),
    _BADGE_TYPE,
    Param(
        "action",
        "action",
        "enum",
        "ACTIVATED or DEACTIVATED (also DE_ACTIVATED).",
        enum=enums.BadgeAction,
    ),
    Param(
        "badgeStatus", "badge_status", "enum", "UPCOMING, LIVE or EXPIRED.", enum=enums.BadgeStatus
    ),
    Param("owner", "owner", "enum", "One of the badge's restrictedToOwners.", enum=enums.Owner),
    Param("claimedBy", "claimed_by", "enum", "An active claim by this owner.", enum=enums.Owner),
    Param("startOn", "start_on", "date-time", f"Compare startOn with this; {_DATE_HELP}."),
    Param(
        "startOnOperator",
        "start_on_operator",
        "enum",
        "GREATER_THAN (default) or LESS_THAN; needs startOn.",
        enum=enums.DateOperator,
    ),
    Param("expiresOn", "expires_on", "date-time", f"Compare expiresOn with this; {_DATE_HELP}."),
    Param(
        "expiresOnOperator",
        "expires_on_operator",
        "enum",
        "LESS_THAN (default) or GREATER_THAN; needs expiresOn.",
        enum=enums.DateOperator,
    ),
    _GROUP_ID,
)


@dataclass(frozen=True, slots=True)
class ParsedParams:
    arguments: dict[str, Any]
    warnings: list[WarningEntry]


def parse_params(query: QueryParams, params: Iterable[Param]) -> ParsedParams:
    """Typed arguments by keyword, and a warning for each unknown parameter."""
    by_name = {param.name.lower(): param for param in params}
    arguments: dict[str, Any] = {}
    warnings: list[WarningEntry] = []
    for name, text in query.multi_items():
        param = by_name.get(name.lower())
        if param is None:
            message = "Unknown query parameter, ignored"
            warnings.append({"code": None, "message": message, "reference": name})
        elif param.argument in arguments:  # given twice: which one is meant?
            raise InvalidParameter(reference=param.name, details="given more than once")
        else:
            arguments[param.argument] = param.parse(text)
    return ParsedParams(arguments, warnings)


_IDENTIFIER_TYPES = {
    kind.value.lower(): kind for kind in IdentifierType if kind is not IdentifierType.ID
}


def path_customer(customer_id: str, identifier_type: str | None) -> CustomerRef:
    """`{customerId}` read as the numeric id, or as the identifier the header names."""
    if identifier_type is None:
        return customer_ref(IdentifierType.ID, customer_id)
    kind = _IDENTIFIER_TYPES.get(identifier_type.strip().lower())
    if kind is None:
        raise InvalidIdentifierType(reference=CUSTOMER_IDENTIFIER_HEADER)
    return customer_ref(kind, customer_id)
