"""The MongoDB connection: motor or PyMongo's AsyncMongoClient behind one small interface.

Every operation is bounded (`maxTimeMS` on the server, server selection on the client), and
every driver failure that means "the database cannot answer now" (unreachable, too slow, an
election, a killed query) becomes `DatabaseUnavailable`, in one place: `translate_driver_error`.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import (
    ConnectionFailure,
    DocumentTooLarge,
    OperationFailure,
    PyMongoError,
)

from gql_badges.errors import DatabaseUnavailable
from gql_badges.settings import Driver, Settings

logger = logging.getLogger(__name__)

Document = dict[str, Any]

BADGE_GROUPS = "badge_groups"
BADGE_META = "badge_meta"
CUSTOMERS = "customers"
CUSTOMER_BADGES = "customer_badges"
API_CLIENTS = "api_clients"
COLLECTIONS = (BADGE_GROUPS, BADGE_META, CUSTOMERS, CUSTOMER_BADGES, API_CLIENTS)


# --- indexes ----------------------------------------------------------------------------------


def _identifier_index(field: str) -> IndexModel:
    """Unique within an org, for documents that have the identifier at all.

    Being partial, MongoDB uses it only for a predicate that implies the filter; an equality
    alone does not (its planner has no rule for `$type`), so look-ups send `lookup_filter`'s
    `{field: {$eq: v, $type: "string"}}`. The embedded server never plans a partial index.
    """
    return IndexModel(
        [("orgId", ASCENDING), (field, ASCENDING)],
        unique=True,
        partialFilterExpression={field: {"$type": "string"}},
        name=f"orgId_{field}",
    )


# One index per documented access path; README "Deploying on MongoDB" says what each serves.
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

# The index each look-up by one field is served by (collection, field) -> index name.
LOOKUP_INDEXES: dict[tuple[str, str], str] = {
    (CUSTOMERS, "email"): "orgId_email",
    (CUSTOMERS, "mobile"): "orgId_mobile",
    (CUSTOMERS, "externalId"): "orgId_externalId",
    (CUSTOMERS, "cardNumbers"): "orgId_cardNumbers",
    (API_CLIENTS, "username"): "username",
    (API_CLIENTS, "key"): "key",
}


def index_spec(collection: str, name: str) -> Document:
    """The `createIndexes` document of the index `name` on `collection`."""
    for model in INDEXES[collection]:
        if model.document["name"] == name:
            return dict(model.document)
    raise KeyError(f"{collection}.{name}")


def lookup_filter(collection: str, field: str, value: object) -> Document:
    """An equality on `field` that MongoDB's planner can serve with the field's index.

    A partial index is only used when the predicate provably implies its filter, and an
    equality does not imply `$type`; the predicate repeats the filter's own condition.
    """
    predicate: Document = {"$eq": value}
    partial = index_spec(collection, LOOKUP_INDEXES[(collection, field)]).get(
        "partialFilterExpression", {}
    )
    predicate.update(partial.get(field, {}))
    return {field: predicate}


@dataclass(frozen=True, slots=True)
class IndexProblem:
    """An index the gateway wants and does not have, with what an operator can do about it."""

    collection: str
    name: str
    code: int | None
    reason: str
    action: str

    def as_dict(self) -> Document:
        return {
            "index": f"{self.collection}.{self.name}",
            "code": self.code,
            "reason": self.reason,
            "action": self.action,
        }

    def log_line(self) -> str:
        code = f" (code {self.code})" if self.code is not None else ""
        return f"index {self.collection}.{self.name} missing{code}: {self.reason}. {self.action}"


_CREATE_COMMAND = "`gql-badges indexes --create`"
_CREATE = f"then run {_CREATE_COMMAND}"


def _advice(collection: str, name: str, error: OperationFailure) -> IndexProblem:
    code = error.code
    drop = f"drop it (db.{collection}.dropIndex({name!r}) or the index with the same keys)"
    actions = {
        85: f"an index with the same keys exists under another name or options: {drop}, {_CREATE}",
        86: f"an index named {name!r} exists with other keys or options: {drop}, {_CREATE}",
        11000: f"documents break the unique index: fix the duplicates, {_CREATE}",
        13: "this user may not create indexes: run `gql-badges indexes --create` as a user "
        "with the readWrite or dbAdmin role, or set GQL_BADGES_CREATE_INDEXES=false",
    }
    action = actions.get(code or 0, f"fix the cause, {_CREATE}")
    reason = str((error.details or {}).get("codeName") or "refused by the server")
    return IndexProblem(collection, name, code, reason, action)


def _same_index(wanted: Document, found: Document) -> bool:
    def options(document: Document) -> tuple[Any, ...]:
        return (
            list(dict(document["key"]).items()),
            bool(document.get("unique", False)),
            document.get("partialFilterExpression"),
        )

    return options(wanted) == options(found)


# --- driver errors ------------------------------------------------------------------------

# Server error codes that mean "not now": an election, a node shutting down or recovering, a
# query killed by the server (plan killed, interrupted, time limit), or a cursor that vanished
# with a failed-over node. The caller may retry; nothing about the request was wrong.
TRANSIENT_CODES: frozenset[int] = frozenset(
    {
        6,  # HostUnreachable
        7,  # HostNotFound
        24,  # LockTimeout
        43,  # CursorNotFound
        46,  # LockBusy
        50,  # MaxTimeMSExpired
        89,  # NetworkTimeout
        91,  # ShutdownInProgress
        112,  # WriteConflict
        133,  # FailedToSatisfyReadPreference
        134,  # ReadConcernMajorityNotAvailableYet
        175,  # QueryPlanKilled
        189,  # PrimarySteppedDown
        202,  # NetworkInterfaceExceededTimeLimit
        262,  # ExceededTimeLimit
        9001,  # SocketException
        10058,  # LegacyNotPrimary
        10107,  # NotWritablePrimary
        10334,  # BSONObjectTooLarge: a result larger than 16 MiB
        11600,  # InterruptedAtShutdown
        11601,  # Interrupted
        11602,  # InterruptedDueToReplStateChange
        13435,  # NotPrimaryNoSecondaryOk
        13436,  # NotPrimaryOrSecondary
        17419,  # a document grown beyond 16 MiB
    }
)
# How long a caller should wait: an election takes up to ~12 s, most are over in a few.
RETRY_AFTER_SECONDS = 5


def translate_driver_error(error: BaseException) -> DatabaseUnavailable | None:
    """`DatabaseUnavailable` for a driver failure that means "the database cannot answer now",
    else None (a bug or bad data: let it surface as what it is)."""
    # DocumentTooLarge: a command or reply beyond 16 MiB, which a smaller page avoids.
    transient = isinstance(error, ConnectionFailure | DocumentTooLarge)
    if isinstance(error, OperationFailure):
        transient = error.code in TRANSIENT_CODES or error.has_error_label(
            "TransientTransactionError"
        )
    if transient:
        return DatabaseUnavailable(retry_after_seconds=RETRY_AFTER_SECONDS)
    return None


@asynccontextmanager
async def unavailable_on_driver_errors() -> AsyncIterator[None]:
    """Raise the failures `translate_driver_error` knows as `DatabaseUnavailable`."""
    try:
        yield
    except PyMongoError as error:
        unavailable = translate_driver_error(error)
        if unavailable is None:
            raise
        raise unavailable from error


# --- the client -----------------------------------------------------------------------------


def _uri_options(uri: str) -> set[str]:
    """The option names a connection string sets, lower-cased (MongoDB's are case-insensitive)."""
    return {name.lower() for name, _ in parse_qsl(urlsplit(uri).query)}


def _create_client(
    settings: Settings, uri: str, loading: bool, listeners: Sequence[object] = ()
) -> Any:
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
        from pymongo import AsyncMongoClient

        return AsyncMongoClient(uri, **options)
    from motor.motor_asyncio import AsyncIOMotorClient

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

    def _limits(self) -> dict[str, Any]:
        return {} if self.max_time_ms is None else {"maxTimeMS": self.max_time_ms}

    async def aggregate(
        self, collection: str, pipeline: Sequence[Document], session: Any = None
    ) -> list[Document]:
        async with unavailable_on_driver_errors():
            cursor = self.db[collection].aggregate(
                list(pipeline), session=session, **self._limits()
            )
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

    async def in_transaction(self, work: Callable[[Any], Awaitable[None]]) -> None:
        """Run `work(session)` in one transaction: all of its writes, or none of them."""
        session = self.client.start_session()
        if inspect.isawaitable(session):  # motor's start_session is a coroutine
            session = await session
        async with session, unavailable_on_driver_errors():
            await session.with_transaction(work)

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
                    problems.append(_advice(collection, name, error))
        self.index_problems = problems
        return problems

    async def check_indexes(self) -> list[IndexProblem]:
        """The indexes that are missing or differ, asking only what a read-only user may."""
        problems: list[IndexProblem] = []
        async with unavailable_on_driver_errors():
            for collection, indexes in INDEXES.items():
                found = {index["name"]: index async for index in await self._list(collection)}
                for model in indexes:
                    wanted = model.document
                    name = wanted["name"]
                    if name not in found:
                        reason, action = "missing", f"run {_CREATE_COMMAND}"
                    elif not _same_index(wanted, found[name]):
                        reason = "exists with other keys or options"
                        action = f"drop it, {_CREATE}"
                    else:
                        continue
                    problems.append(IndexProblem(collection, name, None, reason, action))
        self.index_problems = problems
        return problems

    async def _list(self, collection: str) -> Any:
        cursor = self.db[collection].list_indexes()
        return await cursor if inspect.isawaitable(cursor) else cursor

    async def drop(self) -> None:
        await self.client.drop_database(self.settings.database)

    async def close(self) -> None:
        result = self.client.close()
        if result is not None:  # PyMongo's async client closes with a coroutine, motor's not.
            await result
