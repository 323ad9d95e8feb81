"""The loader on real data: type-stable ids, shard keys, checks before writing, all or nothing.

Each test loads into orgs of its own in the session's database (or a database of its own when
it adds an index), through the loader's own client.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from bson import Int64, ObjectId
from pymongo import ASCENDING

from gql_badges import loading
from gql_badges.loading import LoadError, load_documents, validate_documents
from gql_badges.services import Services
from gql_badges.storage.client import Database
from gql_badges.storage.collections import (
    API_CLIENTS,
    BADGE_GROUPS,
    BADGE_META,
    COLLECTIONS,
    CUSTOMER_BADGES,
    CUSTOMERS,
    Document,
)
from gql_badges.storage.indexes import INDEXES
from tests.support import drop_quietly, make_settings, new_org_id
from tests.support.generated import NOW
from tests.support.wire_proxy import CountingProxy

# Writes through each driver's own client (bulk writes, transactions): every test runs on both.
pytestmark = pytest.mark.every_driver


def documents(org_id: int) -> dict[str, list[dict[str, Any]]]:
    """A small consistent set for one org: a group, a badge in it, a customer and their record."""
    group, badge, customer = ObjectId(), ObjectId(), org_id * 10 + 1
    return {
        BADGE_GROUPS: [{"_id": group, "orgId": org_id, "name": "G", "rank": 1}],
        BADGE_META: [
            {
                "_id": badge,
                "orgId": org_id,
                "name": "B",
                "earnType": "EARN",
                "startOn": NOW,
                "expiresOn": NOW,
                "badgeGroupId": group,
                "ownership": {"restrictedToOwners": [], "claims": []},
                "active": True,
            }
        ],
        CUSTOMERS: [
            {"_id": customer, "orgId": org_id, "email": f"c{org_id}@example.com", "cardNumbers": []}
        ],
        CUSTOMER_BADGES: [
            {
                "_id": ObjectId(),
                "orgId": org_id,
                "customerId": customer,
                "badgeMetaId": badge,
                "earnCount": 1,
                "active": True,
            }
        ],
        API_CLIENTS: [{"orgId": org_id, "username": f"u{org_id}", "password": "p", "key": None}],
    }


@pytest.fixture
async def loader(services: Services) -> AsyncIterator[Database]:
    database = Database(services.settings, services.database.uri, loading=True)
    yield database
    await database.close()


async def counts(database: Database, org_id: int) -> dict[str, int]:
    return {
        name: await database.db[name].count_documents({"orgId": org_id}) for name in COLLECTIONS
    }


async def test_a_good_file_loads_whole(loader: Database, org_id: int) -> None:
    written = await load_documents(loader, validate_documents(documents(org_id)))
    assert written == dict.fromkeys(COLLECTIONS, 1)
    assert await counts(loader, org_id) == dict.fromkeys(COLLECTIONS, 1)


async def test_a_stored_int32_id_keeps_its_type(loader: Database, org_id: int) -> None:
    """mongoimport and the shell store small numbers as int32; MongoDB refuses to change an
    `_id`'s type (error 66), so the loader must never send one of another type."""
    docs = documents(org_id)
    customer_id = docs[CUSTOMERS][0]["_id"]
    await loader.db[CUSTOMERS].insert_one({"_id": customer_id, "orgId": org_id})  # int32
    new = {"_id": customer_id + 1, "orgId": org_id, "email": f"n{org_id}@example.com"}
    docs[CUSTOMERS].append(new)
    await load_documents(loader, validate_documents(docs))
    raw = {d["_id"]: d for d in await loader.db[CUSTOMERS].find({"orgId": org_id}).to_list(None)}
    assert type(raw[customer_id]["_id"]) is int  # still int32 (PyMongo decodes int64 as Int64)
    assert raw[customer_id]["email"] == f"c{org_id}@example.com"  # and replaced
    assert type(raw[customer_id + 1]["_id"]) is Int64  # an insert writes int64


def test_every_upsert_names_its_shard_key_and_never_sets_an_id() -> None:
    org_id = 7
    docs = validate_documents(documents(org_id))
    for collection, shard_key in [
        (BADGE_GROUPS, {"orgId"}),
        (BADGE_META, {"orgId"}),
        (CUSTOMERS, {"orgId"}),
        (CUSTOMER_BADGES, {"orgId", "customerId"}),
    ]:
        stored = loading._stored_form(collection, docs[collection][0])
        request = loading._upsert(collection, stored)
        filter, replacement = request._filter, request._doc
        assert shard_key | {"_id"} == set(filter), collection
        assert {name: stored[name] for name in filter} == filter
        assert "_id" not in replacement and request._upsert is True, collection
    customer = loading._upsert(CUSTOMERS, loading._stored_form(CUSTOMERS, docs[CUSTOMERS][0]))
    assert type(customer._filter["_id"]) is Int64


async def test_a_refusal_half_way_rolls_everything_back(services: Services) -> None:
    """A duplicate key the checks cannot see (a DBA's own unique index) refuses the third
    collection: the transaction leaves the first two unwritten too."""
    loader = Database(make_settings(services.settings.driver), services.database.uri, loading=True)
    try:
        if not await loader.supports_transactions():
            pytest.skip("the server has no transactions (a standalone mongod)")
        await loader.db[CUSTOMERS].create_index(
            [("orgId", ASCENDING), ("nickname", ASCENDING)], unique=True, name="dba_nickname"
        )
        org_id = new_org_id()
        docs = documents(org_id)
        docs[CUSTOMERS][0]["nickname"] = "twin"
        docs[CUSTOMERS].append({"_id": org_id * 10 + 2, "orgId": org_id, "nickname": "twin"})
        with pytest.raises(LoadError, match=r"nothing was written.*E11000"):
            await load_documents(loader, validate_documents(docs))
        assert await counts(loader, org_id) == dict.fromkeys(COLLECTIONS, 0)
    finally:
        await drop_quietly(loader)
        await loader.close()


async def test_batches_are_bounded_and_reported(
    loader: Database, org_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loading, "BATCH_SIZE", 2)
    docs = documents(org_id)
    docs[BADGE_GROUPS] = [{"_id": ObjectId(), "orgId": org_id, "name": "G"} for _ in range(5)]
    docs[BADGE_META][0]["badgeGroupId"] = docs[BADGE_GROUPS][0]["_id"]
    seen: list[tuple[str, int, int]] = []
    await load_documents(loader, validate_documents(docs), lambda *step: seen.append(step))
    assert [step for step in seen if step[0] == BADGE_GROUPS] == [
        (BADGE_GROUPS, 2, 5),
        (BADGE_GROUPS, 4, 5),
        (BADGE_GROUPS, 5, 5),
    ]


# --- refused before anything is written ---------------------------------------------------------


def _problems(mutate: Callable[[dict[str, list[Document]]], object], org_id: int = 7) -> str:
    docs = documents(org_id)
    mutate(docs)
    with pytest.raises(LoadError) as raised:
        validate_documents(docs)
    message = str(raised.value)
    assert message.startswith("nothing was written")
    return message


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d[CUSTOMERS][0].update({"$where": "1"}), "customers[0].$where: a field name"),
        (lambda d: d[BADGE_META][0].update({"a.b": 1}), "badge_meta[0].a.b: a field name"),
        (lambda d: d[CUSTOMERS][0].update(_id=2**63), "customers[0]._id: integer out of the int64"),
        (
            lambda d: d[BADGE_META][0].update(customFields={}, extra={"n": [1, -(2**64)]}),
            "badge_meta[0].extra.n[1]: integer out of the int64 range",
        ),
        (
            lambda d: d[CUSTOMERS].append({"_id": 99, "orgId": 7, "email": "c7@example.com"}),
            "customers[1].email: 'c7@example.com' is already used by customers[0]",
        ),
        (
            lambda d: d[CUSTOMERS].append({"_id": 71, "orgId": 7}),
            "customers[1]._id: 71 is already used by customers[0]",
        ),
        (
            lambda d: d[CUSTOMER_BADGES].append({**d[CUSTOMER_BADGES][0], "_id": ObjectId()}),
            "customer_badges[1].badgeMetaId",
        ),
        (
            lambda d: d[API_CLIENTS].append({"orgId": 8, "username": "u7", "password": "q"}),
            "api_clients[1].username: 'u7' is already used by api_clients[0]",
        ),
    ],
)
def test_the_file_alone_is_checked(
    mutate: Callable[[dict[str, list[Document]]], object], expected: str
) -> None:
    assert expected in _problems(mutate)


def test_the_same_identifier_in_two_orgs_is_allowed() -> None:
    docs = documents(7)
    other = copy.deepcopy(documents(8)[CUSTOMERS][0]) | {"email": "c7@example.com"}
    docs[CUSTOMERS].append(other)
    validate_documents(docs)


async def _refused(loader: Database, docs: dict[str, Any]) -> str:
    with pytest.raises(LoadError) as raised:
        await load_documents(loader, validate_documents(docs))
    return str(raised.value)


async def test_identifiers_held_in_the_database_are_refused(loader: Database, org_id: int) -> None:
    await load_documents(loader, validate_documents(documents(org_id)))
    docs = documents(org_id)
    taken = docs[CUSTOMERS][0]["email"]
    docs[CUSTOMERS][0].update(_id=org_id * 10 + 5, cardNumbers=["X"])
    docs[CUSTOMER_BADGES][0]["customerId"] = org_id * 10 + 5
    message = await _refused(loader, docs)
    assert f"customers[0].email: {taken!r} is already used by the stored document" in message
    assert "nothing was written" in message
    assert await loader.db[CUSTOMERS].count_documents({"orgId": org_id}) == 1


async def test_a_customer_may_take_an_identifier_another_gives_up(
    loader: Database, org_id: int
) -> None:
    """Both are rewritten by the file: the old holder no longer holds it afterwards."""
    first = documents(org_id)
    await load_documents(loader, validate_documents(first))
    holder = first[CUSTOMERS][0]
    taker = {"_id": org_id * 10 + 2, "orgId": org_id, "email": holder["email"]}
    await load_documents(loader, validate_documents({CUSTOMERS: [dict(holder, email=None), taker]}))
    stored = await loader.db[CUSTOMERS].find_one({"email": holder["email"]})
    assert stored is not None and stored["_id"] == taker["_id"]


async def test_a_document_cannot_move_to_another_org(loader: Database, org_id: int) -> None:
    docs = documents(org_id)
    await load_documents(loader, validate_documents(docs))
    moved = {BADGE_GROUPS: [dict(docs[BADGE_GROUPS][0], orgId=org_id + 1)]}
    message = await _refused(loader, moved)
    assert f"badge_groups[0].orgId: the stored document {docs[BADGE_GROUPS][0]['_id']!r}" in message


async def test_references_are_checked_in_the_file_and_the_database(
    loader: Database, org_id: int
) -> None:
    docs = documents(org_id)
    docs[CUSTOMER_BADGES][0]["customerId"] = 12345
    docs[CUSTOMER_BADGES][0]["badgeMetaId"] = unknown_badge = ObjectId()
    docs[BADGE_META][0]["badgeGroupId"] = unknown_group = ObjectId()
    message = await _refused(loader, docs)
    assert f"customer_badges[0].customerId: customer 12345 of org {org_id} is neither" in message
    assert f"customer_badges[0].badgeMetaId: badge {unknown_badge!r}" in message
    assert f"badge_meta[0].badgeGroupId: badge group {unknown_group!r}" in message
    assert await counts(loader, org_id) == dict.fromkeys(COLLECTIONS, 0)
    # Referred to from the database: a later file of records alone is fine.
    good = documents(org_id)
    await load_documents(loader, validate_documents(good))
    record = dict(good[CUSTOMER_BADGES][0], _id=ObjectId(), badgeMetaId=ObjectId())
    later = {CUSTOMER_BADGES: [record]}
    assert "badgeMetaId" in await _refused(loader, later)
    later[CUSTOMER_BADGES][0]["badgeMetaId"] = good[BADGE_META][0]["_id"]
    later[CUSTOMER_BADGES][0]["_id"] = good[CUSTOMER_BADGES][0]["_id"]
    await load_documents(loader, validate_documents(later))


def test_the_progress_bar_draws_only_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    from gql_badges import cli

    monkeypatch.setattr(sys.stdout, "isatty", lambda: False)
    assert cli._progress_bar() is None
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    bar = cli._progress_bar()
    assert bar is not None
    bar(CUSTOMERS, 500, 1000)
    bar(CUSTOMERS, 1000, 1000)
    out = capsys.readouterr().out
    assert out.startswith("\rcustomers") and "500/1000" in out and out.endswith("1000/1000\n")


async def test_indexes_are_made_once_per_client_and_again_after_a_drop(
    services: Services,
) -> None:
    """A write makes the indexes it relies on (the unique keys) the first time, not every time
    (the loader, the demo data and every test's seed write through here); after a drop it makes
    them again, so a unique key still guards the next write."""
    proxy = await CountingProxy(services.database.uri).start()
    settings = make_settings(services.settings.driver, database=f"once_{new_org_id()}")
    database = Database(settings, proxy.uri, loading=True)
    every_index = sum(len(indexes) for indexes in INDEXES.values())

    async def indexes_made_by_a_write() -> int:
        proxy.commands.clear()
        await loading.write_documents(database, validate_documents(documents(new_org_id())))
        return proxy.commands.count("createIndexes")

    try:
        assert [await indexes_made_by_a_write() for _ in range(3)] == [every_index, 0, 0]
        await database.drop()
        assert [await indexes_made_by_a_write() for _ in range(2)] == [every_index, 0]
    finally:
        await database.drop()  # a few documents, dropped at once
        await proxy.stop()  # before the close, which would wait for motor's monitor through it
        await database.close()
