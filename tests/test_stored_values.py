"""Stored values the schema does not shape, through both APIs (docs/semantics.md, "Stored values").

The loyalty platform writes the documents, not our loader: a JSON field (`tags`, `customFields`,
an unknown constraint's fields, an image's extra fields) may hold any BSON value, and an integer
field any integer BSON carries. These tests write such documents straight to the database and
read them back through the real app, GraphQL (compiled and not) and REST.
"""

from __future__ import annotations

import base64
import dataclasses
import math
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from bson import Binary, DBRef, Decimal128, Int64, ObjectId, Regex
from bson.max_key import MaxKey
from bson.min_key import MinKey
from bson.timestamp import Timestamp
from hypothesis import given
from hypothesis import strategies as st

from gql_badges.app import create_app
from gql_badges.loading import write_documents
from gql_badges.services import Services
from tests.support import CUSTOMER, MANAGEMENT, database_examples, get, graphql, new_org_id
from tests.support import seed_org as seed

NOW = datetime(2026, 6, 1, tzinfo=UTC)
INT_MAX = 2**31 - 1

ITEMS = """
query($id: ID!) {
  customerBadges(customer: {id: $id}, badgeType: EARNED, limit: 100) {
    badges {
      badgeMetaId name tags customFields badgeRank earnedCount orgId
      images { name url tag }
      group { id rank }
      customerConstraints { __typename ...C }
      badgeConstraints { __typename ...C }
    }
  }
  badgeManagement(customer: {id: $id}, badgeType: EARNED, size: 100) {
    customerBadges { badgeMetaId name earnCount badgeRank }
  }
}
fragment C on BadgeConstraint {
  ... on CustomerBadgeFixedValueConstraint { constraintType maxEarnLimit }
  ... on BadgeRollingWindowConstraint { rollType rollValue maxEarnLimit }
  ... on UnknownConstraint { constraintType raw }
}
"""


@pytest.fixture(scope="session")
async def apps(services: Services) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """The app with compiled execution on and off, both on the documents' clock."""
    fixed = dataclasses.replace(services, clock=lambda: NOW)
    settings = services.settings
    compiled = create_app(settings, services=fixed)
    plain = create_app(settings.model_copy(update={"graphql_compiled": False}), services=fixed)
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=compiled), base_url="http://a") as a,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=plain), base_url="http://b") as b,
    ):
        yield {"compiled": a, "graphql-core": b}


def badge(org_id: int, group_id: ObjectId, **fields: Any) -> dict[str, Any]:
    """An earned-able badge_meta document, live at NOW, with `fields` as stored."""
    return {
        "_id": ObjectId(),
        "orgId": org_id,
        "name": "odd values",
        "earnType": "EARN",
        "startOn": NOW - timedelta(days=1),
        "expiresOn": NOW + timedelta(days=1),
        "active": True,
        "ownership": {"restrictedToOwners": ["Loyalty"], "claims": []},
        "badgeGroupId": group_id,
        **fields,
    }


def customer_documents(
    org_id: int, customer_id: int, badge_fields: dict[str, Any], earn_count: int, rank: Any
) -> dict[str, list[Any]]:
    """A customer who has earned one badge stored with `badge_fields`, of a group of `rank`."""
    group_id = ObjectId()
    group = {"_id": group_id, "orgId": org_id, "name": "g", "rank": rank}
    stored = badge(org_id, group_id, **badge_fields)
    record = {
        "_id": ObjectId(),
        "orgId": org_id,
        "customerId": customer_id,
        "badgeMetaId": stored["_id"],
        "earnCount": earn_count,
        "active": True,
    }
    return {
        "customers": [{"_id": customer_id, "orgId": org_id}],
        "badge_groups": [group],
        "badge_meta": [stored],
        "customer_badges": [record],
    }


async def seed_one(
    services: Services, badge_fields: dict[str, Any], earn_count: int = 1, rank: int = 1
) -> tuple[str, dict[str, str]]:
    """An org with one customer who has earned one badge stored with `badge_fields`; the
    customer's id and the org's header."""
    org_id = new_org_id()
    customer_id = org_id * 10
    docs = customer_documents(org_id, customer_id, badge_fields, earn_count, rank)
    return str(customer_id), await seed(services, org_id, docs)


# --- the JSON form of stored values ---------------------------------------------------------

OID = ObjectId("65f0c0ffee0123456789abcd")
WHEN = datetime(2024, 5, 1, 12, 30, 0, 250_000, tzinfo=UTC)
ODD_VALUES: dict[str, tuple[Any, Any]] = {
    # stored value: its JSON form in both APIs
    "objectId": (OID, "65f0c0ffee0123456789abcd"),
    "date": (WHEN, "2024-05-01T12:30:00.250Z"),
    "wholeSecond": (datetime(2024, 5, 1, tzinfo=UTC), "2024-05-01T00:00:00Z"),
    "decimal": (Decimal128("12.50"), "12.50"),
    "int64": (Int64(2**40), 2**40),
    "binary": (Binary(b"\x00\xffbadge", 0), base64.b64encode(b"\x00\xffbadge").decode()),
    "uuidBytes": (Binary(b"0123456789abcdef", 4), base64.b64encode(b"0123456789abcdef").decode()),
    "regex": (Regex("^SH", "i"), "/^SH/i"),
    "timestamp": (Timestamp(1_700_000_000, 7), {"$timestamp": {"t": 1_700_000_000, "i": 7}}),
    "minKey": (MinKey(), {"$minKey": 1}),
    "maxKey": (MaxKey(), {"$maxKey": 1}),
    "nested": (
        {"ids": [OID, {"at": WHEN}]},
        {"ids": ["65f0c0ffee0123456789abcd", {"at": "2024-05-01T12:30:00.250Z"}]},
    ),
}


def _stored(name: str) -> Any:
    return ODD_VALUES[name][0]


def _json(name: str) -> Any:
    return ODD_VALUES[name][1]


async def test_bson_values_in_json_fields_are_written_alike_by_both_apis(
    services: Services, apps: dict[str, httpx.AsyncClient]
) -> None:
    names = list(ODD_VALUES)
    fields = {
        "tags": [_stored(name) for name in names],
        "customFields": {name: _stored(name) for name in names},
        "customerConstraints": [
            {"constraintType": "SEASONAL", **{name: _stored(name) for name in names}}
        ],
        "images": [{"name": "a", "url": "u", "tag": "EARNED", "uploadedBy": OID, "at": WHEN}],
    }
    customer, auth = await seed_one(services, fields)
    tags = [_json(name) for name in names]
    custom = {name: _json(name) for name in names}
    for execution, client in apps.items():
        body = await graphql(client, ITEMS, auth, id=customer)
        assert "errors" not in body, (execution, body)
        (item,) = body["data"]["customerBadges"]["badges"]
        assert item["tags"] == tags, execution
        assert item["customFields"] == custom, execution
        assert item["customerConstraints"] == [
            {"__typename": "UnknownConstraint", "constraintType": "SEASONAL",
             "raw": {"constraintType": "SEASONAL", **custom}}
        ], execution  # fmt: skip

    rest = await get(apps["compiled"], f"{CUSTOMER}{customer}", auth, {"badgeType": "EARNED"})
    (item,) = rest["data"]["badges"]
    assert item["tags"] == tags
    assert item["customFields"] == custom
    (constraint,) = item["customerConstraints"]
    # REST writes a constraint's dates as epoch seconds with an ISO twin, as for known types.
    assert constraint["date"] == WHEN.timestamp()
    assert constraint["dateISO"] == "2024-05-01T12:30:00.250Z"
    assert constraint["objectId"] == _json("objectId")
    assert constraint["nested"] == _json("nested")
    (image,) = item["images"]
    assert image["uploadedBy"] == "65f0c0ffee0123456789abcd"
    assert image["at"] == "2024-05-01T12:30:00.250Z"


# --- integers GraphQL's Int does not carry -------------------------------------------------


def _errors_by_path(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {".".join(map(str, error["path"])): error for error in body.get("errors", [])}


def same_answers(compiled: dict[str, Any], plain: dict[str, Any]) -> bool:
    """The same data and errors; the errors' order is not the same (compiled execution hands a
    root field with such a value to graphql-core, which completes it after the other)."""
    return compiled["data"] == plain["data"] and _errors_by_path(compiled) == _errors_by_path(plain)


async def test_an_integer_over_32_bits_is_a_field_error_and_the_item_is_served(
    services: Services, apps: dict[str, httpx.AsyncClient]
) -> None:
    fields = {
        "badgeRank": 2**33,
        "customerConstraints": [
            {"constraintType": "CUSTOMER_BADGE_FIXED_VALUE", "maxEarnLimit": -(2**31) - 1}
        ],
        "badgeConstraints": [
            {"constraintType": "BADGE_ROLLING_WINDOW", "rollType": "DAYS", "rollValue": 2**62,
             "maxEarnLimit": INT_MAX}
        ],
    }  # fmt: skip
    customer, auth = await seed_one(services, fields, earn_count=2**40, rank=-(2**35))
    expected_paths = {
        "customerBadges.badges.0.badgeRank",
        "customerBadges.badges.0.earnedCount",
        "customerBadges.badges.0.group.rank",
        "customerBadges.badges.0.customerConstraints.0.maxEarnLimit",
        "customerBadges.badges.0.badgeConstraints.0.rollValue",
        "badgeManagement.customerBadges.0.earnCount",
        "badgeManagement.customerBadges.0.badgeRank",
    }
    answers = {}
    for execution, client in apps.items():
        body = await graphql(client, ITEMS, auth, id=customer)
        errors = _errors_by_path(body)
        assert set(errors) == expected_paths, (execution, body)
        for path, error in errors.items():
            field = path.rsplit(".", 1)[-1]
            assert error["extensions"]["code"] == "VALUE_OUT_OF_RANGE", error
            assert re.fullmatch(
                rf"The stored value of {field} is outside the range of Int \(32-bit\)",
                error["message"],
            ), error
        (item,) = body["data"]["customerBadges"]["badges"]
        assert item["badgeRank"] is None and item["earnedCount"] is None
        assert item["name"] == "odd values" and item["group"]["rank"] is None
        assert item["badgeConstraints"][0]["maxEarnLimit"] == INT_MAX  # the edge still fits
        assert item["badgeConstraints"][0]["rollType"] == "DAYS"
        (managed,) = body["data"]["badgeManagement"]["customerBadges"]
        assert managed["name"] == "odd values" and managed["earnCount"] is None
        answers[execution] = body
    assert same_answers(answers["compiled"], answers["graphql-core"])

    # REST passes them through as JSON numbers.
    rest = await get(apps["compiled"], f"{CUSTOMER}{customer}", auth, {"badgeType": "EARNED"})
    (item,) = rest["data"]["badges"]
    assert (item["badgeRank"], item["earnedCount"]) == (2**33, 2**40)
    assert item["customerConstraints"][0]["maxEarnLimit"] == -(2**31) - 1
    assert item["badgeConstraints"][0]["rollValue"] == 2**62
    managed = await get(apps["compiled"], f"{MANAGEMENT}{customer}", auth, {"badgeType": "EARNED"})
    assert managed["data"]["customerBadges"][0]["earnCount"] == 2**40


# --- any BSON value, any integer --------------------------------------------------------------

# Text BSON can hold: no lone surrogates (not UTF-8), no NUL in keys and patterns (C strings).
TEXT = st.text(st.characters(codec="utf-8"), max_size=8)
C_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=8)
# Keys MongoDB stores as they are (no `$` operators, no dotted paths).
KEYS = C_TEXT.filter(lambda key: not key.startswith("$") and "." not in key)
INSTANTS = st.datetimes(timezones=st.just(UTC)).map(
    lambda moment: moment.replace(microsecond=moment.microsecond // 1000 * 1000)  # BSON: ms
)
OBJECT_IDS = st.binary(min_size=12, max_size=12).map(ObjectId)
BSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.integers(-(2**63), 2**63 - 1).map(Int64),
    st.floats(),
    TEXT,
    OBJECT_IDS,
    INSTANTS,
    st.builds(lambda digits, exponent: Decimal128(f"{digits}E{exponent}"),
              st.integers(-(10**33), 10**33), st.integers(-100, 100)),
    st.sampled_from([Decimal128("NaN"), Decimal128("-Infinity"), Decimal128("-0")]),
    st.binary(max_size=16),
    st.builds(Binary, st.binary(max_size=16), st.sampled_from([0, 1, 2, 5, 128])),
    st.builds(Binary, st.binary(min_size=16, max_size=16), st.sampled_from([3, 4])),
    st.builds(Regex, C_TEXT, st.sampled_from(["", "i", "ms", "imsux"])),
    st.builds(Timestamp, st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1)),
    st.builds(DBRef, st.sampled_from(["badge_meta", "customers"]), OBJECT_IDS),
    st.just(MinKey()),
    st.just(MaxKey()),
)  # fmt: skip
BSON_VALUES = st.recursive(
    BSON_LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=8,
)
REGEX_LETTERS = {re.I: "i", re.L: "l", re.M: "m", re.S: "s", re.U: "u", re.X: "x"}


def json_form(value: Any) -> Any:
    """What docs/semantics.md says either API writes for a stored value (after JSON decoding)."""
    if isinstance(value, dict):
        return {key: json_form(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_form(item) for item in value]
    if (isinstance(value, float) and value != value) or value in (float("inf"), float("-inf")):
        return None  # JSON has no NaN or infinities
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, datetime):
        text = value.isoformat(timespec="milliseconds" if value.microsecond else "seconds")
        return text.replace("+00:00", "Z")
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, Decimal128):
        return str(value)
    if isinstance(value, Regex):
        flags = "".join(letter for flag, letter in REGEX_LETTERS.items() if value.flags & flag)
        return f"/{value.pattern}/{flags}"
    if isinstance(value, Timestamp):
        return {"$timestamp": {"t": value.time, "i": value.inc}}
    if isinstance(value, DBRef):
        return {"$ref": value.collection, "$id": str(value.id)}
    if isinstance(value, MinKey | MaxKey):
        return {"$minKey" if isinstance(value, MinKey) else "$maxKey": 1}
    return value


def outside_int(low: int = -(2**63)) -> st.SearchStrategy[int]:
    """Integers BSON carries and GraphQL's Int does not (from `low`), or sometimes ones it does."""
    return st.one_of(
        st.integers(2**31, 2**63 - 1),
        st.integers(low, -(2**31) - 1) if low < -(2**31) else st.nothing(),
        st.integers(max(low, -(2**31)), INT_MAX),
    )


@pytest.fixture(scope="session")
async def odd_org(services: Services) -> tuple[int, dict[str, str]]:
    """One org (and client) for every example: an example adds a customer of its own."""
    org_id = new_org_id()
    return org_id, await seed(services, org_id, {})


@pytest.mark.slow  # about 10 s: two apps and REST per example
@database_examples(30)
@given(data=st.data())
async def test_any_stored_value_is_answered_by_both_apis(
    services: Services,
    apps: dict[str, httpx.AsyncClient],
    odd_org: tuple[int, dict[str, str]],
    data: st.DataObject,
) -> None:
    org_id, auth = odd_org
    customer_id = new_org_id()  # unique, so the customer is this example's alone
    tags = data.draw(st.lists(BSON_VALUES, max_size=4), label="tags")
    custom = data.draw(st.dictionaries(KEYS, BSON_VALUES, max_size=4), label="customFields")
    extra = data.draw(BSON_VALUES, label="extra")
    ints = {
        name: data.draw(outside_int(), label=name)
        for name in ("badgeRank", "maxEarnLimit", "rollValue", "rank")
    }
    earn_count = data.draw(outside_int(low=1), label="earnCount")
    fields = {
        "tags": tags,
        "customFields": custom,
        "badgeRank": ints["badgeRank"],
        "images": [{"name": "a", "url": "u", "tag": "EARNED", "extra": extra}],
        "customerConstraints": [
            {"constraintType": "CUSTOMER_BADGE_FIXED_VALUE", "maxEarnLimit": ints["maxEarnLimit"]},
            {"constraintType": "SEASONAL", "extra": [extra]},
        ],
        "badgeConstraints": [
            {"constraintType": "BADGE_ROLLING_WINDOW", "rollValue": ints["rollValue"]},
        ],
    }
    docs = customer_documents(org_id, customer_id, fields, earn_count, ints["rank"])
    await write_documents(services.database, docs)

    # Each Int field: an error at its path when its stored value does not fit, else the value.
    at = "customerBadges.badges.0."
    stored_ints = {
        f"{at}badgeRank": ints["badgeRank"],
        f"{at}earnedCount": earn_count,
        f"{at}group.rank": ints["rank"],
        f"{at}customerConstraints.0.maxEarnLimit": ints["maxEarnLimit"],
        f"{at}badgeConstraints.0.rollValue": ints["rollValue"],
        "badgeManagement.customerBadges.0.earnCount": earn_count,
        "badgeManagement.customerBadges.0.badgeRank": ints["badgeRank"],
    }
    too_big = {path for path, value in stored_ints.items() if not -(2**31) <= value <= INT_MAX}
    answers = {}
    for execution, client in apps.items():
        response = await client.post(
            "/graphql", json={"query": ITEMS, "variables": {"id": str(customer_id)}}, headers=auth
        )
        assert response.status_code == 200, (execution, response.text)
        body = response.json()
        errors = _errors_by_path(body)
        assert set(errors) == too_big, (execution, body)
        assert {e["extensions"]["code"] for e in errors.values()} <= {"VALUE_OUT_OF_RANGE"}
        (item,) = body["data"]["customerBadges"]["badges"]
        assert item["tags"] == json_form(tags), execution
        assert item["customFields"] == json_form(custom), execution
        seasonal = item["customerConstraints"][1]
        assert seasonal["raw"] == {"constraintType": "SEASONAL", "extra": [json_form(extra)]}
        answers[execution] = body
    assert same_answers(answers["compiled"], answers["graphql-core"])

    params = {"badgeType": "EARNED"}
    rest = await get(apps["compiled"], f"{CUSTOMER}{customer_id}", auth, params)
    (item,) = rest["data"]["badges"]
    assert item["tags"] == json_form(tags)
    assert item["customFields"] == json_form(custom)
    assert item["images"][0]["extra"] == json_form(extra)
    assert item["customerConstraints"][1]["extra"] == [json_form(extra)]
    assert (item["badgeRank"], item["earnedCount"]) == (ints["badgeRank"], earn_count)
    assert item["customerConstraints"][0]["maxEarnLimit"] == ints["maxEarnLimit"]
    assert item["badgeConstraints"][0]["rollValue"] == ints["rollValue"]
    rest = await get(apps["compiled"], f"{MANAGEMENT}{customer_id}", auth, params)
    assert rest["data"]["customerBadges"][0]["earnCount"] == earn_count


# --- values of the wrong type -----------------------------------------------------------------

EVERY_FIELD = """
query($id: ID!, $type: BadgeType) {
  customerBadges(customer: {id: $id}, badgeType: $type, includeExpired: true, limit: 100) {
    badges {
      badgeMetaId name description startOn expiresOn earnType badgeStatus active badgeRank
      tags customFields earnedCount lastEarnedOnDate lastEarnEventDate badgeGroupName
      images { name fileSvcHandle url tag }
      group { id name rank }
      ownership { restrictedToOwners claims { ownerType referenceId isActive } }
      customerConstraints { __typename ...C }
      badgeConstraints { __typename ...C }
    }
  }
  badgeManagement(customer: {id: $id}, badgeType: $type, size: 100) {
    customerBadges {
      badgeMetaId name badgeType badgeStatus createdOn lastUpdatedOn lastEarnedOn startsOn
      expiresOn earnCount issueStatus active
    }
  }
}
fragment C on BadgeConstraint {
  ... on CustomerBadgeFixedValueConstraint { constraintType maxEarnLimit }
  ... on BadgeRollingWindowConstraint { rollType rollValue maxEarnLimit }
  ... on CustomerBadgeFixedWindowConstraint { referenceId durationType refreshRate startDate }
  ... on UnknownConstraint { constraintType raw }
}
"""


def _invalid(field: str, expected: str) -> str:
    return f"The stored value of {field} is not {expected}"


async def test_values_of_the_wrong_type_are_field_errors_and_the_item_is_served(
    services: Services, apps: dict[str, httpx.AsyncClient]
) -> None:
    fields = {
        "name": 5,
        "description": ["a", "list"],
        "active": "yes",
        "earnType": 7,  # outside the enum's set: null, as an unknown string is
        "badgeRank": "3",
        "images": [
            {"name": "a", "url": {"href": "u"}, "tag": "NOT_A_TAG"},
            "not an image",
        ],
        "ownership": {
            "restrictedToOwners": ["Loyalty", 3, "Nobody"],
            "claims": [{"ownerType": 4, "referenceId": 12, "isActive": "yes"}],
        },
        "customerConstraints": [
            {"constraintType": "CUSTOMER_BADGE_FIXED_WINDOW", "referenceId": OID,
             "durationType": ["DAYS"], "refreshRate": 1.5, "startDate": "2024-05-01"},
        ],
        "badgeConstraints": "not a list",  # one constraint of a type not known, raw as stored
    }  # fmt: skip
    customer, auth = await seed_one(services, fields)
    at = "customerBadges.badges.0."
    expected = {
        f"{at}name": _invalid("name", "a String"),
        f"{at}description": _invalid("description", "a String"),
        f"{at}active": _invalid("active", "a Boolean"),
        f"{at}badgeRank": _invalid("badgeRank", "an Int"),
        f"{at}images.0.url": _invalid("url", "a String"),
        **{
            f"{at}images.1.{name}": _invalid("images.1", "an object")
            for name in ("name", "fileSvcHandle", "url", "tag")
        },
        f"{at}ownership.claims.0.referenceId": _invalid("referenceId", "a String"),
        f"{at}ownership.claims.0.isActive": _invalid("isActive", "a Boolean"),
        f"{at}customerConstraints.0.referenceId": _invalid("referenceId", "a String"),
        f"{at}customerConstraints.0.durationType": _invalid("durationType", "a String"),
        f"{at}customerConstraints.0.refreshRate": _invalid("refreshRate", "an Int"),
        f"{at}customerConstraints.0.startDate": _invalid("startDate", "a DateTime"),
        "badgeManagement.customerBadges.0.name": _invalid("name", "a String"),
        "badgeManagement.customerBadges.0.active": _invalid("active", "a Boolean"),
    }
    answers = {}
    for execution, client in apps.items():
        body = await graphql(client, EVERY_FIELD, auth, id=customer, type="EARNED")
        errors = _errors_by_path(body)
        assert {path: e["message"] for path, e in errors.items()} == expected, (execution, body)
        assert {e["extensions"]["code"] for e in errors.values()} == {"STORED_VALUE_INVALID"}
        (item,) = body["data"]["customerBadges"]["badges"]
        assert item["name"] is None and item["earnType"] is None
        assert item["badgeStatus"] == "LIVE" and item["earnedCount"] == 1
        assert item["images"][0] == {"name": "a", "fileSvcHandle": None, "url": None, "tag": None}
        assert item["ownership"]["restrictedToOwners"] == ["Loyalty"]
        assert item["ownership"]["claims"] == [
            {"ownerType": None, "referenceId": None, "isActive": None}
        ]
        assert item["badgeConstraints"] == [
            {"__typename": "UnknownConstraint", "constraintType": "", "raw": "not a list"}
        ]
        (managed,) = body["data"]["badgeManagement"]["customerBadges"]
        assert managed["badgeType"] is None and managed["earnCount"] == 1
        answers[execution] = body
    assert same_answers(answers["compiled"], answers["graphql-core"])

    # REST writes them as stored.
    rest = await get(apps["compiled"], f"{CUSTOMER}{customer}", auth, {"badgeType": "EARNED"})
    (item,) = rest["data"]["badges"]
    for name in ("name", "description", "active", "earnType", "badgeRank", "badgeConstraints"):
        assert item[name] == fields[name], name
    assert item["images"][1] == "not an image"
    assert item["customerConstraints"][0]["referenceId"] == str(OID)
    assert item["customerConstraints"][0]["startDate"] == "2024-05-01"


async def test_a_shape_stored_in_place_of_another_is_an_error_on_its_field(
    services: Services, apps: dict[str, httpx.AsyncClient]
) -> None:
    cases: list[tuple[dict[str, Any], dict[str, str]]] = [
        ({"ownership": "Loyalty"}, {"ownership": _invalid("ownership", "an object")}),
        (
            {"ownership": {"restrictedToOwners": "Loyalty", "claims": []}},
            {"ownership": _invalid("ownership.restrictedToOwners", "a list")},
        ),
        (
            {"ownership": {"restrictedToOwners": [], "claims": [5]}},
            {"ownership": _invalid("ownership.claims", "a list of objects")},
        ),
        (
            {"images": {"name": "a"}},
            {
                f"images.0.{name}": _invalid("images", "a list of objects")
                for name in ("name", "fileSvcHandle", "url", "tag")
            },
        ),
    ]
    for fields, expected in cases:
        customer, auth = await seed_one(services, fields)
        answers = {}
        for execution, client in apps.items():
            body = await graphql(client, EVERY_FIELD, auth, id=customer, type="EARNED")
            errors = {
                path.removeprefix("customerBadges.badges.0."): error["message"]
                for path, error in _errors_by_path(body).items()
            }
            assert errors == expected, (execution, fields, body)
            (item,) = body["data"]["customerBadges"]["badges"]
            assert item["badgeStatus"] == "LIVE", (execution, fields)
            answers[execution] = body
        assert same_answers(answers["compiled"], answers["graphql-core"])
        rest = await get(apps["compiled"], f"{CUSTOMER}{customer}", auth, {"badgeType": "EARNED"})
        (field,) = fields
        assert rest["data"]["badges"][0][field] == fields[field]


# --- dates of the wrong type ------------------------------------------------------------------

NOT_DATES: list[Any] = ["2020-01-01T00:00:00Z", 1_700_000_000, 1.5e9, None, ["2020"], True]


@pytest.mark.parametrize("stored", NOT_DATES, ids=repr)
async def test_a_date_of_the_wrong_type_counts_as_absent_in_the_rules(
    services: Services, apps: dict[str, httpx.AsyncClient], stored: Any
) -> None:
    """startOn and expiresOn that are not dates: the badge is LIVE (started, never expiring);
    earnExpiresOn: the earning never expires; issuedOn: not enrolled. Both APIs agree, and
    the dates are written as stored (REST, with a null ISO twin) or as field errors."""
    org_id = new_org_id()
    customer_id = org_id * 10
    docs = customer_documents(
        org_id, customer_id, {"startOn": stored, "expiresOn": stored}, earn_count=1, rank=1
    )
    (record,) = docs["customer_badges"]
    record |= {"earnExpiresOn": stored, "issuedOn": stored, "lastEarnedOn": stored}
    # A second badge the customer is issued and has not earned: AVAILABLE_TO_ISSUE only when
    # issuedOn does not count.
    issued = badge(org_id, docs["badge_groups"][0]["_id"], startOn=stored, expiresOn=stored)
    docs["badge_meta"].append(issued)
    docs["customer_badges"].append(
        {"_id": ObjectId(), "orgId": org_id, "customerId": customer_id,
         "badgeMetaId": issued["_id"], "earnCount": 0, "issuedOn": stored, "active": True}
    )  # fmt: skip
    auth = await seed(services, org_id, docs)
    earned, to_issue = str(docs["badge_meta"][0]["_id"]), str(issued["_id"])
    date_error = "" if stored is None else "STORED_VALUE_INVALID"

    for badge_type, ids in (
        ("EARNED", [earned]), ("AVAILABLE_TO_ISSUE", [to_issue]), ("EXPIRED", [])
    ):  # fmt: skip
        answers = {}
        for execution, client in apps.items():
            body = await graphql(client, EVERY_FIELD, auth, id=str(customer_id), type=badge_type)
            page = body["data"]["customerBadges"]["badges"]
            assert [item["badgeMetaId"] for item in page] == ids, (execution, badge_type, body)
            assert {item["badgeStatus"] for item in page} <= {"LIVE"}
            codes = {e["extensions"]["code"] for e in body.get("errors", [])}
            assert codes == ({date_error} if page and date_error else set()), body
            for error in body.get("errors", []):
                assert error["path"][-1] in {
                    "startOn", "expiresOn", "startsOn", "lastEarnedOn", "lastEarnedOnDate"
                }, error  # fmt: skip
            answers[execution] = body
        assert same_answers(answers["compiled"], answers["graphql-core"])

        for uri, key in ((CUSTOMER, "badges"), (MANAGEMENT, "customerBadges")):
            params = {"badgeType": badge_type}
            for sort in ("LAST_EARNED_ON_DATE", ""):
                rest = await get(apps["compiled"], f"{uri}{customer_id}", auth,
                                 {**params, "sortOn": sort} if sort else params)  # fmt: skip
                items = rest["data"][key]
                assert [item["badgeMetaId"] for item in items] == ids, (uri, badge_type, rest)
                for item in items:
                    assert item["expiresOn"] == stored and item["expiresOnISO"] is None


# --- any value in a typed field ---------------------------------------------------------------


# Any BSON value, nested one level at most. (The embedded server answers an internal error for a
# DBRef in an indexed field such as expiresOn, and for some documents with an empty or `$` key
# at the top of a field's value: MongoDB does not. The JSON fields' property covers those.)
_LEAVES = BSON_LEAVES.filter(lambda value: not isinstance(value, DBRef))
WRONG_VALUES = st.one_of(
    _LEAVES,
    st.lists(_LEAVES, max_size=2),
    st.dictionaries(st.sampled_from(["a", "url"]), _LEAVES, max_size=2),
)


def maybe_wrong(right: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A value of the field's own type, or any BSON value at all."""
    return st.one_of(right, WRONG_VALUES)


def _is_count(value: Any) -> bool:
    """An earnCount that counts as earned: a number (not a boolean) of at least 1."""
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 1


def _not_an_int(value: Any) -> bool:
    """A stored value GraphQL's Int does not carry: no integer (a double with an integral value
    is one), or one outside 32 bits."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        return True
    return not -(2**31) <= value <= INT_MAX


WRONG_TYPE_CODES = {"STORED_VALUE_INVALID", "VALUE_OUT_OF_RANGE"}
ENUM_VALUES = {"earnType": ("EARN", "ISSUE_EARN"), "tag": ("EARNED",), "ownerType": ("Journeys",)}


@database_examples(6)  # about 2 s; `--hypothesis-profile=thorough` runs 24
@given(data=st.data())
async def test_any_value_in_a_typed_field_is_answered_by_both_apis(
    services: Services,
    apps: dict[str, httpx.AsyncClient],
    odd_org: tuple[int, dict[str, str]],
    data: st.DataObject,
) -> None:
    """Any BSON value where a string, a boolean, an enum member, an integer or a date belongs:
    never a 500 nor an internal error; a field error STORED_VALUE_INVALID exactly where the
    value is not of the field's type (an enum: null, no error); the same answer with compiled
    execution on and off; REST writes the values as stored."""
    org_id, auth = odd_org
    customer_id = new_org_id()
    draw = data.draw
    dates = maybe_wrong(INSTANTS)
    texts = {name: draw(maybe_wrong(TEXT), label=name) for name in ("name", "description", "url")}
    flags = {name: draw(maybe_wrong(st.booleans()), label=name) for name in ("active", "isActive")}
    instants = {
        name: draw(dates, label=name)
        for name in ("startOn", "expiresOn", "issuedOn", "earnExpiresOn", "lastEarnedOn")
    }
    enums = {
        name: draw(maybe_wrong(st.sampled_from(values)), label=name)
        for name, values in ENUM_VALUES.items()
    }
    earn_count = draw(maybe_wrong(st.integers(1, 5)), label="earnCount")
    claim = {"ownerType": enums["ownerType"], "referenceId": "r", "isActive": flags["isActive"]}
    fields = {
        "name": texts["name"],
        "description": texts["description"],
        "active": flags["active"],
        "earnType": enums["earnType"],
        "startOn": instants["startOn"],
        "expiresOn": instants["expiresOn"],
        "images": [{"name": "a", "url": texts["url"], "tag": enums["tag"]}],
        "ownership": {"restrictedToOwners": ["Loyalty"], "claims": [claim]},
    }
    docs = customer_documents(org_id, customer_id, fields, earn_count=1, rank=1)
    docs["customer_badges"][0] |= {
        "earnCount": earn_count,
        **{name: instants[name] for name in ("issuedOn", "earnExpiresOn", "lastEarnedOn")},
    }
    await write_documents(services.database, docs)

    # Each typed field's path, its stored value and the class it must be of.
    at, managed = "customerBadges.badges.0.", "badgeManagement.customerBadges.0."
    typed: dict[str, tuple[Any, type]] = {
        f"{at}name": (texts["name"], str),
        f"{at}description": (texts["description"], str),
        f"{at}images.0.url": (texts["url"], str),
        f"{at}active": (flags["active"], bool),
        f"{at}ownership.claims.0.isActive": (flags["isActive"], bool),
        f"{at}startOn": (instants["startOn"], datetime),
        f"{at}expiresOn": (instants["expiresOn"], datetime),
        f"{at}lastEarnedOnDate": (instants["lastEarnedOn"], datetime),
        f"{managed}name": (texts["name"], str),
        f"{managed}active": (flags["active"], bool),
        f"{managed}startsOn": (instants["startOn"], datetime),
        f"{managed}expiresOn": (instants["expiresOn"], datetime),
        f"{managed}lastEarnedOn": (instants["lastEarnedOn"], datetime),
    }
    # EARNED with includeExpired (customerBadges): the count alone decides; without it
    # (badgeManagement), also an earnExpiresOn not past (one that is not a date never is).
    earned = _is_count(earn_count)
    earn_expires_on = instants["earnExpiresOn"]
    active = earned and not (isinstance(earn_expires_on, datetime) and earn_expires_on <= NOW)
    answers = {}
    for execution, client in apps.items():
        variables = {"id": str(customer_id), "type": "EARNED"}
        response = await client.post(
            "/graphql", json={"query": EVERY_FIELD, "variables": variables}, headers=auth
        )
        assert response.status_code == 200, (execution, response.text)
        body = response.json()
        errors = _errors_by_path(body)
        assert {e["extensions"]["code"] for e in errors.values()} <= WRONG_TYPE_CODES, body
        page = body["data"]["customerBadges"]["badges"]
        assert len(page) == earned, body
        assert len(body["data"]["badgeManagement"]["customerBadges"]) == active, body
        if earned:
            invalid = {
                path
                for path, (value, cls) in typed.items()
                if value is not None
                and not isinstance(value, cls)
                and (active or not path.startswith(managed))
            }
            if _not_an_int(earn_count):
                invalid.add(f"{at}earnedCount")
            # The management earnCount is the rules' count: a number, not always an integer.
            assert set(errors) - {f"{managed}earnCount"} == invalid, (execution, body)
            (item,) = page
            for name, value in (("earnType", enums["earnType"]), ("tag", enums["tag"])):
                shown = item["earnType"] if name == "earnType" else item["images"][0]["tag"]
                assert shown == (value if value in ENUM_VALUES[name] else None), (name, body)
        else:
            assert errors == {}, body
        answers[execution] = body
    assert same_answers(answers["compiled"], answers["graphql-core"])

    params = {"badgeType": "EARNED", "includeExpired": "true"}
    for sort in ("LAST_EARNED_ON_DATE", ""):
        rest = await get(apps["compiled"], f"{CUSTOMER}{customer_id}", auth,
                         {**params, "sortOn": sort} if sort else params)  # fmt: skip
        assert len(rest["data"]["badges"]) == earned
        for item in rest["data"]["badges"]:
            assert item["name"] == json_form(texts["name"])
            assert item["active"] == json_form(flags["active"])
            assert item["earnType"] == json_form(enums["earnType"])
            expires_on = instants["expiresOn"]
            if isinstance(expires_on, datetime):
                assert item["expiresOnISO"] == json_form(expires_on)
            else:
                assert (item["expiresOn"], item["expiresOnISO"]) == (json_form(expires_on), None)
    rest = await get(apps["compiled"], f"{MANAGEMENT}{customer_id}", auth, params)
    assert len(rest["data"]["customerBadges"]) == active
