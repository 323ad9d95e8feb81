"""The MongoDB connection: motor or PyMongo's AsyncMongoClient behind one small interface.

Every operation is bounded (`maxTimeMS` on the server, server selection on the client), and
every driver failure that means "the database cannot answer now" (unreachable, too slow, an
election, a killed query) becomes `DatabaseUnavailable`, in one place: `translate_driver_error`.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC
from typing import Any, Union
from urllib.parse import parse_qsl, urlsplit

from motor.motor_asyncio import AsyncIOMotorClient
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import OperationFailure, PyMongoError

from gql_badges.errors import DatabaseUnavailable
from gql_badges.settings import Driver, Settings
from gql_badges.storage.collections import COLLECTIONS, Document
from gql_badges.storage.errors import unavailable_on_driver_errors
from gql_badges.storage.indexes import INDEXES, IndexProblem

logger = logging.getLogger(__name__)


def _uri_options(uri: str) -> set[str]:
    """The option names a connection string sets, lower-cased (MongoDB's are case-insensitive)."""
    return {name.lower() for name, _ in parse_qsl(urlsplit(uri).query)}


Client = Union["AsyncIOMotorClient[Document]", "AsyncMongoClient[Document]"]
"""Either driver's client; `Database` papers over where they differ (awaitable cursors,
sessions and `close`)."""


def _create_client(
    settings: Settings, uri: str, loading: bool, listeners: Sequence[object] = ()
) -> Client:
    options: dict[str, Any] = {
        "event_listeners": list(listeners),  # command monitoring: metrics, DB time, spans
        "tz_aware": True,
        # Python's own UTC: the driver's default zone object is written in Python, and every
        # offset it is asked for (comparisons, timestamps, formatting) costs a Python call.
        "tzinfo": UTC,
        "serverSelectionTimeoutMS": settings.server_selection_timeout_ms,
        "connectTimeoutMS": settings.server_selection_timeout_ms,
        "appname": "gql-badges-load" if loading else "gql-badges",
    }
    if loading:
        # Long batches and index builds: the loader waits for the server instead of calling a
        # slow answer "unreachable" while the server keeps writing. It reads and writes the
        # primary (transactions need it).
        options["socketTimeoutMS"] = None
        options["readPreference"] = "primary"
    else:
        options["socketTimeoutMS"] = settings.db_timeout_ms + 1000
        if "readpreference" not in _uri_options(uri):
            options["readPreference"] = settings.read_preference.value
    if settings.driver is Driver.PYMONGO:
        return AsyncMongoClient(uri, **options)
    return AsyncIOMotorClient(uri, **options)


class Database:
    """The gateway's view of one MongoDB database, the same for both drivers.

    `loading=True` makes the loader's client: no socket timeout, no `maxTimeMS`, primary only.
    """

    def __init__(
        self,
        settings: Settings,
        uri: str,
        listeners: Sequence[object] = (),
        *,
        loading: bool = False,
    ) -> None:
        self.settings = settings
        self.uri = uri
        self.driver = settings.driver
        self.client = _create_client(settings, uri, loading, listeners)
        self.db = self.client[settings.database]
        self.max_time_ms: int | None = None if loading else settings.db_timeout_ms
        # What the last index check or creation found; None until one reached the database.
        self.index_problems: list[IndexProblem] | None = None
        self._preparing: asyncio.Future[None] | None = None  # the pass under way, shared

    def _limits(self) -> dict[str, Any]:
        return {} if self.max_time_ms is None else {"maxTimeMS": self.max_time_ms}

    async def aggregate(
        self,
        collection: str,
        pipeline: Sequence[Document],
        session: Any = None,
        *,
        batch_size: int | None = None,
    ) -> list[Document]:
        """Every document `pipeline` yields. `batch_size` more than the documents expected
        brings them all in the first reply: no `getMore` follows (the default first batch
        is 101 documents)."""
        async with unavailable_on_driver_errors():
            target = self.db[collection]
            stages, limits = list(pipeline), self._limits()
            if batch_size is not None:
                limits["batchSize"] = batch_size
            if isinstance(target, AsyncCollection):  # PyMongo's aggregate is a coroutine
                cursor = await target.aggregate(stages, session=session, **limits)
                return list(await cursor.to_list(None))
            return list(await target.aggregate(stages, session=session, **limits).to_list(None))

    async def find(
        self,
        collection: str,
        filter: Document,
        projection: Document | None = None,
        *,
        batch_size: int = 0,
    ) -> list[Document]:
        """Every match; `batch_size` as in `aggregate` (0: the server's default)."""
        async with unavailable_on_driver_errors():
            cursor = self.db[collection].find(
                filter, projection, max_time_ms=self.max_time_ms, batch_size=batch_size
            )
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

    async def bulk_write(self, collection: str, requests: Sequence[Any], session: Any) -> None:
        """Ordered writes; driver errors are raised as they are, so that a transaction can
        retry a transient one and report a refused one (a duplicate key) for what it is."""
        if requests:
            await self.db[collection].bulk_write(list(requests), ordered=True, session=session)

    async def supports_transactions(self) -> bool:
        """A replica set member or a mongos (the embedded server is a replica set of one)."""
        async with unavailable_on_driver_errors():
            hello = await self.client.admin.command("hello")
        return bool(hello.get("setName")) or hello.get("msg") == "isdbgrid"

    async def in_transaction(self, work: Callable[[Any], Coroutine[Any, Any, None]]) -> None:
        """Run `work(session)` in one transaction: all of its writes, or none of them."""
        if isinstance(self.client, AsyncMongoClient):
            async with self.client.start_session() as session, unavailable_on_driver_errors():
                await session.with_transaction(work)
            return
        # motor's start_session is a coroutine
        async with await self.client.start_session() as motor, unavailable_on_driver_errors():
            await motor.with_transaction(work)

    async def ping(self) -> bool:
        """Whether a server the read preference admits answers (a secondary may, mid-election)."""
        try:
            await self.client.admin.command("ping", read_preference=self.client.read_preference)
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

    async def ensure_indexes(self) -> list[IndexProblem]:
        """Create every index the access paths need; safe to run at every start.

        Each index is created on its own, so one that the server refuses (a conflicting index
        of the same name, no privilege, duplicates under a unique index) leaves the others
        built; the refused ones are returned. Raises DatabaseUnavailable when unreachable.
        """
        problems: list[IndexProblem] = []
        for collection, indexes in INDEXES.items():
            for model in indexes:
                name = model.document["name"]
                try:
                    async with unavailable_on_driver_errors():
                        await self.db[collection].create_indexes([model])
                except OperationFailure as error:
                    problems.append(IndexProblem.refused(collection, name, error))
        self.index_problems = problems
        return problems

    async def check_indexes(self) -> list[IndexProblem]:
        """The indexes that are missing or differ, asking only what a read-only user may."""
        problems: list[IndexProblem] = []
        async with unavailable_on_driver_errors():
            for collection, indexes in INDEXES.items():
                found = {index["name"]: index for index in await self.indexes(collection)}
                for model in indexes:
                    problem = IndexProblem.compared(collection, model.document, found)
                    if problem is not None:
                        problems.append(problem)
        self.index_problems = problems
        return problems

    async def prepare_indexes(self) -> None:
        """Create the indexes (or, with GQL_BADGES_CREATE_INDEXES=false, only check them).

        An index the server refuses leaves the gateway serving (slower on that path): one
        warning per index says what to do, and /readyz lists it. Unreachable: tried again by
        /readyz. Callers that overlap (probes while the database is slow) wait for the same
        pass, which goes on if one of them gives up waiting, instead of each sending its own
        `createIndexes`.
        """
        if self._preparing is None:
            self._preparing = asyncio.ensure_future(self._prepare_indexes())
            self._preparing.add_done_callback(self._prepared)
        await asyncio.shield(self._preparing)

    def _prepared(self, _: asyncio.Future[None]) -> None:
        self._preparing = None  # the next caller starts a new pass

    async def _prepare_indexes(self) -> None:
        try:
            if self.settings.create_indexes:
                problems = await self.ensure_indexes()
            else:
                problems = await self.check_indexes()
        except DatabaseUnavailable:
            logger.warning("database unreachable at start-up; indexes not yet ensured")
            return
        for problem in problems:
            logger.warning(problem.log_line())

    async def indexes(self, collection: str) -> list[Document]:
        """The indexes `collection` has, as `listIndexes` describes them."""
        listing = self.db[collection].list_indexes()
        cursor = await listing if inspect.isawaitable(listing) else listing
        return [dict(index) async for index in cursor]

    async def drop(self) -> None:
        await self.client.drop_database(self.settings.database)
        self.index_problems = None  # the indexes went with it

    async def indexes_for_writing(self) -> list[IndexProblem]:
        """Create the indexes a write relies on (its unique keys among them), unless this
        client has seen them all in place since its last drop: the refused ones."""
        if self.index_problems == []:
            return []
        return await self.ensure_indexes()

    async def close(self) -> None:
        result = self.client.close()
        if result is not None:  # PyMongo's async client closes with a coroutine, motor's not.
            await result
