"""The MongoDB connection: motor or PyMongo's AsyncMongoClient behind one small interface.

Every operation is bounded (`maxTimeMS` on the server, server selection on the client), and
every driver failure that means "the database cannot answer now" becomes `DatabaseUnavailable`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import ConnectionFailure, ExecutionTimeout, PyMongoError, WTimeoutError
from pymongo.operations import ReplaceOne

from gql_badges.errors import DatabaseUnavailable
from gql_badges.settings import Driver, Settings

Document = dict[str, Any]

BADGE_GROUPS = "badge_groups"
BADGE_META = "badge_meta"
CUSTOMERS = "customers"
CUSTOMER_BADGES = "customer_badges"
API_CLIENTS = "api_clients"
COLLECTIONS = (BADGE_GROUPS, BADGE_META, CUSTOMERS, CUSTOMER_BADGES, API_CLIENTS)


def _identifier_index(field: str) -> IndexModel:
    """Unique within an org, for documents that have the identifier at all.

    Being partial, it serves an equality look-up on a string (MongoDB sees that the query
    implies the filter; the embedded server never uses a partial index, see test_indexes).
    """
    return IndexModel(
        [("orgId", ASCENDING), (field, ASCENDING)],
        unique=True,
        partialFilterExpression={field: {"$type": "string"}},
        name=f"orgId_{field}",
    )


# One index per documented access path (SPEC §3, §4).
INDEXES: dict[str, list[IndexModel]] = {
    CUSTOMER_BADGES: [
        IndexModel(
            [("orgId", ASCENDING), ("customerId", ASCENDING), ("badgeMetaId", ASCENDING)],
            unique=True,
            name="orgId_customerId_badgeMetaId",
        ),
    ],
    CUSTOMERS: [
        IndexModel([("orgId", ASCENDING), ("_id", ASCENDING)], name="orgId_id"),
        _identifier_index("email"),
        _identifier_index("mobile"),
        _identifier_index("externalId"),
        _identifier_index("cardNumbers"),
    ],
    BADGE_META: [
        IndexModel(
            [("orgId", ASCENDING), ("expiresOn", DESCENDING), ("_id", ASCENDING)],
            name="orgId_expiresOn_id",
        ),
        IndexModel([("orgId", ASCENDING), ("startOn", ASCENDING)], name="orgId_startOn"),
        IndexModel(
            [("orgId", ASCENDING), ("lastUpdatedOn", DESCENDING), ("_id", ASCENDING)],
            name="orgId_lastUpdatedOn_id",
        ),
        IndexModel(
            [("orgId", ASCENDING), ("badgeGroupId", ASCENDING), ("badgeRank", ASCENDING)],
            name="orgId_badgeGroupId_badgeRank",
        ),
    ],
    BADGE_GROUPS: [IndexModel([("orgId", ASCENDING), ("rank", ASCENDING)], name="orgId_rank")],
    API_CLIENTS: [
        IndexModel([("username", ASCENDING)], unique=True, name="username"),
        IndexModel(
            [("key", ASCENDING)],
            unique=True,
            partialFilterExpression={"key": {"$type": "string"}},
            name="key",
        ),
    ],
}


def _create_client(settings: Settings, uri: str, listeners: Sequence[object] = ()) -> Any:
    options: dict[str, Any] = {
        "event_listeners": list(listeners),  # command monitoring: metrics, DB time, spans
        "tz_aware": True,
        "serverSelectionTimeoutMS": settings.server_selection_timeout_ms,
        "connectTimeoutMS": settings.server_selection_timeout_ms,
        "socketTimeoutMS": settings.db_timeout_ms + 1000,
        "appname": "gql-badges",
    }
    if settings.driver is Driver.PYMONGO:
        from pymongo import AsyncMongoClient

        return AsyncMongoClient(uri, **options)
    from motor.motor_asyncio import AsyncIOMotorClient

    return AsyncIOMotorClient(uri, **options)


@asynccontextmanager
async def unavailable_on_driver_errors() -> AsyncIterator[None]:
    """Turn "cannot reach or too slow" driver failures into `DatabaseUnavailable`."""
    try:
        yield
    except (ConnectionFailure, ExecutionTimeout, WTimeoutError) as error:
        raise DatabaseUnavailable() from error


class Database:
    """The gateway's view of one MongoDB database, the same for both drivers."""

    def __init__(self, settings: Settings, uri: str, listeners: Sequence[object] = ()) -> None:
        self.settings = settings
        self.uri = uri
        self.driver = settings.driver
        self.client = _create_client(settings, uri, listeners)
        self.db = self.client[settings.database]
        self.max_time_ms = settings.db_timeout_ms

    async def aggregate(self, collection: str, pipeline: Sequence[Document]) -> list[Document]:
        async with unavailable_on_driver_errors():
            cursor = self.db[collection].aggregate(list(pipeline), maxTimeMS=self.max_time_ms)
            if self.driver is Driver.PYMONGO:
                cursor = await cursor
            return list(await cursor.to_list(None))

    async def find(
        self,
        collection: str,
        filter: Document,
        projection: Document | None = None,
    ) -> list[Document]:
        async with unavailable_on_driver_errors():
            cursor = self.db[collection].find(filter, projection, max_time_ms=self.max_time_ms)
            return list(await cursor.to_list(None))

    async def find_one(
        self,
        collection: str,
        filter: Document,
        projection: Document | None = None,
    ) -> Document | None:
        async with unavailable_on_driver_errors():
            found: Document | None = await self.db[collection].find_one(
                filter, projection, max_time_ms=self.max_time_ms
            )
            return found

    async def upsert_many(self, collection: str, key: str, documents: Sequence[Document]) -> None:
        if not documents:
            return
        requests = [ReplaceOne({key: doc[key]}, doc, upsert=True) for doc in documents]
        async with unavailable_on_driver_errors():
            await self.db[collection].bulk_write(requests, ordered=True)

    async def ping(self) -> bool:
        try:
            await self.client.admin.command("ping")
        except PyMongoError:
            return False
        return True

    async def is_empty(self) -> bool:
        async with unavailable_on_driver_errors():
            names = await self.db.list_collection_names()
            for name in set(names) & set(COLLECTIONS):
                if await self.db[name].find_one({}, {"_id": 1}) is not None:
                    return False
            return True

    async def ensure_indexes(self) -> None:
        """Create the indexes of every documented access path; safe to run at every start."""
        async with unavailable_on_driver_errors():
            for collection, indexes in INDEXES.items():
                await self.db[collection].create_indexes(indexes)

    async def drop(self) -> None:
        await self.client.drop_database(self.settings.database)

    async def close(self) -> None:
        result = self.client.close()
        if result is not None:  # PyMongo's async client closes with a coroutine, motor's not.
            await result
