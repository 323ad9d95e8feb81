"""The database seam: driver failures mapped once, read preference, index problems at start-up.

The failover codes only a real replica set produces are built here as the driver raises them
(`OperationFailure(message, code)`, ...) and pushed through the one mapping; maxTimeMS expiry,
which the embedded server does produce, goes end to end through HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from bson import ObjectId
from pymongo import ASCENDING
from pymongo.client_options import ClientOptions
from pymongo.errors import (
    AutoReconnect,
    BulkWriteError,
    CursorNotFound,
    DocumentTooLarge,
    DuplicateKeyError,
    ExecutionTimeout,
    NetworkTimeout,
    NotPrimaryError,
    OperationFailure,
    ServerSelectionTimeoutError,
)

from gql_badges.app import create_app
from gql_badges.auth.hashing import password_hash
from gql_badges.errors import DatabaseUnavailable
from gql_badges.services import Services
from gql_badges.settings import ReadPreference
from gql_badges.storage.client import Database
from gql_badges.storage.collections import BADGE_META, CUSTOMERS
from gql_badges.storage.errors import (
    RETRY_AFTER_SECONDS,
    translate_driver_error,
    unavailable_on_driver_errors,
)
from gql_badges.storage.indexes import INDEXES
from tests.support import (
    MANAGEMENT,
    basic_auth,
    drop_quietly,
    graphql,
    make_settings,
)
from tests.support.wire_proxy import CountingProxy

# The storage layer: each driver's own behaviour, so every test here runs on both.
pytestmark = pytest.mark.every_driver

# Codes of elections, shutdowns, killed queries and lost cursors: "not now", never a 500.
FAILOVER_CODES = {
    "QueryPlanKilled": 175,
    "Interrupted": 11601,
    "ExceededTimeLimit": 262,
    "MaxTimeMSExpired": 50,
    "CursorNotFound": 43,
    "NotWritablePrimary": 10107,
    "NotPrimaryNoSecondaryOk": 13435,
    "NotPrimaryOrSecondary": 13436,
    "PrimarySteppedDown": 189,
    "InterruptedDueToReplStateChange": 11602,
    "InterruptedAtShutdown": 11600,
    "ShutdownInProgress": 91,
    "HostUnreachable": 6,
    "NetworkTimeout": 89,
    "BSONObjectTooLarge": 10334,
}


@pytest.mark.parametrize(("name", "code"), sorted(FAILOVER_CODES.items()))
def test_failover_codes_are_unavailable(name: str, code: int) -> None:
    mapped = translate_driver_error(OperationFailure(f"{name} (test)", code))
    assert isinstance(mapped, DatabaseUnavailable), name
    assert mapped.http_status == 503 and mapped.graphql_code == "SERVICE_UNAVAILABLE"
    assert mapped.retry_after_seconds == RETRY_AFTER_SECONDS


@pytest.mark.parametrize(
    "error",
    [
        CursorNotFound("cursor id 7 not found", 43),
        ExecutionTimeout("operation exceeded time limit", 50),
        NotPrimaryError("not primary", {"code": 10107, "errmsg": "not primary"}),
        AutoReconnect("connection reset"),
        NetworkTimeout("timed out"),
        ServerSelectionTimeoutError("no servers"),
        DocumentTooLarge("BSON document too large (17000000 bytes)"),
        OperationFailure("a transient one", 112, {"errorLabels": ["TransientTransactionError"]}),
    ],
    ids=lambda error: type(error).__name__,
)
def test_driver_exceptions_of_failover_are_unavailable(error: Exception) -> None:
    assert isinstance(translate_driver_error(error), DatabaseUnavailable)


@pytest.mark.parametrize(
    "error",
    [
        OperationFailure("bad query", 2),  # BadValue: a bug of ours, not the database's state
        OperationFailure("unauthorized", 13),
        DuplicateKeyError("E11000 duplicate key", 11000),
        BulkWriteError({"writeErrors": [{"code": 11000}], "nInserted": 0}),
        OperationFailure("no code"),
    ],
    ids=lambda error: f"{type(error).__name__}-{error.code}",
)
def test_other_failures_stay_what_they_are(error: OperationFailure) -> None:
    assert translate_driver_error(error) is None


async def test_the_mapping_raises_unavailable_and_keeps_the_cause() -> None:
    cause = OperationFailure("query plan killed", 175)
    with pytest.raises(DatabaseUnavailable) as raised:
        async with unavailable_on_driver_errors():
            raise cause
    assert raised.value.__cause__ is cause
    with pytest.raises(OperationFailure):
        async with unavailable_on_driver_errors():
            raise OperationFailure("bad query", 2)


@contextlib.asynccontextmanager
async def gateway(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its start-up (index handling) run, as uvicorn runs it."""
    app = create_app(services.settings, services=services)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client


@pytest.mark.slow  # writes 5,000 badges
async def test_a_query_over_its_time_limit_is_503_with_retry_after(
    services: Services, org_id: int
) -> None:
    """maxTimeMS expiry (the embedded server enforces it): 503 + Retry-After, GraphQL too."""
    slow = Services.create(make_settings(services.settings.driver), services.database.uri)
    try:
        badges = [
            {"_id": ObjectId(), "orgId": org_id, "name": f"badge {i} " + "n" * 200}
            for i in range(5_000)
        ]
        for start in range(0, len(badges), 500):  # batches the embedded server takes in stride
            await slow.database.db[BADGE_META].insert_many(badges[start : start + 500])
        await slow.database.db[CUSTOMERS].insert_one({"_id": 5, "orgId": org_id})
        client_document = {"orgId": org_id, "username": f"slow{org_id}", "active": True}
        client_document["passwordHash"] = password_hash("pw")
        await slow.database.db["api_clients"].insert_one(client_document)
        slow.database.max_time_ms = 1  # below what a scan of 5,000 badges takes
        auth = basic_auth(f"slow{org_id}", "pw")
        async with gateway(slow) as client:
            response = await client.get(
                f"{MANAGEMENT}5",
                params={"name": "zzz", "badgeType": "EXPIRED", "size": "100"},
                headers=auth,
            )
            assert response.status_code == 503, response.text
            assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
            assert response.json()["errors"][0]["code"] == 503
            body = await graphql(
                client,
                '{ badgeManagement(customer: {id: "5"}, name: "zzz", badgeType: EXPIRED)'
                " { pagination { total } } }",
                auth,
            )
            extensions = body["errors"][0]["extensions"]
            assert extensions["code"] == "SERVICE_UNAVAILABLE"
            assert extensions["retryAfterSeconds"] == RETRY_AFTER_SECONDS
    finally:
        slow.database.max_time_ms = None
        # A database of its own: dropped at once, not 5,000 deletes.
        await drop_quietly(slow.database)
        await slow.database.close()


# --- read preference ---------------------------------------------------------------------------


def test_read_preference_defaults_to_primary_preferred(services: Services) -> None:
    database = Database(services.settings, services.database.uri)
    assert database.client.read_preference.mongos_mode == "primaryPreferred"


def test_the_connection_strings_read_preference_wins(services: Services) -> None:
    settings = make_settings(services.settings.driver, read_preference=ReadPreference.NEAREST)
    uri = services.database.uri
    separator = "&" if "?" in uri else "/?"
    from_uri = Database(settings, f"{uri}{separator}readPreference=secondaryPreferred")
    from_setting = Database(settings, uri)
    assert from_uri.client.read_preference.mongos_mode == "secondaryPreferred"
    assert from_setting.client.read_preference.mongos_mode == "nearest"


def test_the_loader_reads_the_primary_without_a_socket_timeout(services: Services) -> None:
    loader = Database(services.settings, services.database.uri, loading=True)
    assert loader.client.read_preference.mongos_mode == "primary"
    assert _socket_timeout(loader) is None
    assert loader.max_time_ms is None
    request_path = Database(services.settings, services.database.uri)
    assert _socket_timeout(request_path) is not None


def _socket_timeout(database: Database) -> float | None:
    options = database.client.options
    assert isinstance(options, ClientOptions)
    return options.pool_options.socket_timeout


@pytest.mark.parametrize(
    ("preference", "ready"),
    [(ReadPreference.PRIMARY_PREFERRED, 200), (ReadPreference.SECONDARY, 503)],
)
async def test_readyz_follows_the_read_preference(
    services: Services, preference: ReadPreference, ready: int
) -> None:
    """On a replica set of one (the embedded server), `secondary` has no server to read from,
    so the gateway is not ready; `primaryPreferred` is. The client discovers the set (no
    `directConnection`, which would ignore the read preference)."""
    hello = await services.database.client.admin.command("hello")
    if ready == 503 and not (hello.get("setName") and len(hello.get("hosts", [])) == 1):
        pytest.skip("needs a replica set without secondaries")
    settings = make_settings(
        services.settings.driver, read_preference=preference, server_selection_timeout_ms=300
    )
    uri = services.database.uri.replace("directConnection=true", "directConnection=false")
    probe = Services.create(settings, uri)
    try:
        async with gateway(probe) as client:
            assert (await client.get("/readyz")).status_code == ready
    finally:
        await drop_quietly(probe.database)
        await probe.database.close()


# --- indexes at start-up -----------------------------------------------------------------------

_WANTED = sum(len(models) for models in INDEXES.values())


async def test_a_conflicting_index_leaves_the_gateway_serving(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    """A DBA's own `orgId_email` with other options: IndexKeySpecsConflict (86). The gateway
    starts, warns once naming the index, the code and what to do, and /readyz lists it."""
    fresh = Services.create(make_settings(services.settings.driver), services.database.uri)
    try:
        await fresh.database.db[CUSTOMERS].create_index(
            [("orgId", ASCENDING), ("email", ASCENDING)], name="orgId_email"
        )
        with caplog.at_level(logging.WARNING, logger="gql_badges"):
            async with gateway(fresh) as client:
                ready = await client.get("/readyz")
                assert (await client.get("/healthz")).status_code == 200
        assert ready.status_code == 200
        (problem,) = ready.json()["degraded"]
        assert problem["index"] == "customers.orgId_email" and problem["code"] == 86
        assert "drop" in problem["action"] and "gql-badges indexes --create" in problem["action"]
        (warning,) = [r.getMessage() for r in caplog.records if "orgId_email" in r.getMessage()]
        assert "code 86" in warning
        names = {index["name"] for index in await fresh.database.indexes(CUSTOMERS)}
        assert {"orgId_mobile", "orgId_cardNumbers"} <= names  # the others were built
    finally:
        await drop_quietly(fresh.database)
        await fresh.database.close()


async def test_with_index_creation_off_missing_indexes_are_reported(services: Services) -> None:
    settings = make_settings(services.settings.driver, create_indexes=False)
    fresh = Services.create(settings, services.database.uri)
    try:
        async with gateway(fresh) as client:
            ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert len(ready.json()["degraded"]) == _WANTED
        assert await fresh.database.db.list_collection_names() == []  # nothing was created
        assert await fresh.database.ensure_indexes() == []
        assert await fresh.database.check_indexes() == []
    finally:
        await drop_quietly(fresh.database)
        await fresh.database.close()


async def test_readyz_is_ready_with_every_index(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "degraded": []}


async def test_overlapping_probes_create_the_indexes_once(services: Services) -> None:
    """Probes that come while the indexes are not known yet (the database was unreachable at
    start-up) share one pass: each index is asked for once, not once per probe."""
    proxy = await CountingProxy(services.database.uri).start()
    fresh = Services.create(make_settings(services.settings.driver), proxy.uri)
    try:
        async with gateway(fresh) as client:
            fresh.database.index_problems = None  # as after a start without the database
            proxy.commands.clear()
            probes = await asyncio.gather(*(client.get("/readyz") for _ in range(5)))
            assert [probe.status_code for probe in probes] == [200] * 5
            assert proxy.commands.count("createIndexes") == _WANTED
            # Known from then on: a later probe asks for nothing.
            assert (await client.get("/readyz")).status_code == 200
            assert proxy.commands.count("createIndexes") == _WANTED
    finally:
        await proxy.stop()  # before the close, which would wait for motor's monitor through it
        await fresh.database.close()
        await drop_quietly(fresh.database, services.database.uri)


async def test_duplicates_under_a_unique_index_are_a_problem_not_a_crash(
    services: Services,
) -> None:
    database = Database(make_settings(services.settings.driver), services.database.uri)
    try:
        twins = [{"_id": n, "orgId": 1, "email": "twin@example.com"} for n in (1, 2)]
        await database.db[CUSTOMERS].insert_many(twins)
        problems = await database.ensure_indexes()
        assert [(p.name, p.code) for p in problems] == [("orgId_email", 11000)]
        assert "fix the duplicates" in problems[0].action
        assert database.index_problems == problems
    finally:
        await drop_quietly(database)
        await database.close()


@pytest.mark.parametrize(
    ("code", "code_name", "advice"),
    [
        (13, "Unauthorized", "GQL_BADGES_CREATE_INDEXES=false"),
        (85, "IndexOptionsConflict", "same keys exists under another name"),
        (67, "CannotCreateIndex", "fix the cause, then run `gql-badges indexes --create`"),
    ],
)
def test_each_refusal_says_what_to_do(code: int, code_name: str, advice: str) -> None:
    from gql_badges.storage.indexes import IndexProblem

    error = OperationFailure(f"{code_name} (test)", code, {"codeName": code_name, "code": code})
    problem = IndexProblem.refused(CUSTOMERS, "orgId_email", error)
    assert (problem.code, problem.reason) == (code, code_name)
    assert advice in problem.action
    assert problem.as_dict()["index"] == "customers.orgId_email"
