"""One change stream on `customer_badges` per process, fanned out to the live subscribers.

Watching once per subscriber does not scale: each waiting stream holds a pooled connection, and
ten of them starved every other query. So the hub opens ONE stream, on a client of its own
(PyMongo's async client whatever the request driver is), with the first subscriber, and routes
each event in memory by (orgId, customerId) to the subscribers of that customer:

- each subscriber has a bounded queue; when it is full the subscriber is ended with
  SUBSCRIBER_TOO_SLOW (its buffered events are dropped), and nobody else waits for it;
- deletes carry only the record's `_id` (no pre-images without `collMod`), so the hub keeps the
  `_id` → customer of every record of a subscribed customer: loaded at subscribe, then learned
  from the events; with the record's last known state, which the classification needs;
- a record moved to another customer (an update of its `orgId` or `customerId`) is REMOVED for
  the customer it left, as a delete is, and new to the one it joins, as an insert is;
- an update's `fullDocument` is looked up when the event is delivered, so it may name the
  customer a record has moved to since; once the hub has read a customer's records it knows
  each of them, so an update in place of a record it does not know was somebody else's, and
  the record reaches that customer with its move's own event (as that event's lookup shows it,
  perhaps with changes made after the move: only post-images would tell it as it was);
- the last resume token is kept, and the stream reopened from it after any error (network,
  failover, restart; the driver does not resume after a server-selection failure), with
  backoff; a lost history (code 286) or an invalidate ends every subscription with
  SUBSCRIPTION_RESET, since events may be missing;
- without change streams (a standalone mongod) subscriptions are refused, naming the reason.

The stream stays open `linger` seconds after the last subscriber leaves, so a client that
reconnects does not reopen it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable, Mapping
from datetime import UTC
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.errors import OperationFailure, PyMongoError

from gql_badges.errors import DatabaseUnavailable, GatewayError
from gql_badges.live.changes import (
    DELETE,
    INSERT,
    RECORD_OPERATIONS,
    UPDATE,
    Change,
    ChangeKind,
    RecordState,
    changed_fields,
    classify,
    cluster_datetime,
    record_after,
    record_id,
    state_after,
)
from gql_badges.live.errors import (
    ServerShuttingDown,
    SubscriberTooSlow,
    SubscriptionReset,
    SubscriptionsUnavailable,
)
from gql_badges.observability.metrics import Metrics
from gql_badges.storage.collections import CUSTOMER_BADGES

logger = logging.getLogger(__name__)

CustomerKey = tuple[int, int]  # (orgId, customerId)
IDS = frozenset({"orgId", "customerId"})  # the fields that route a record

# Server answers that mean the stream cannot continue from its token: events may be lost.
HISTORY_LOST = frozenset({280, 286})  # ChangeStreamFatalError, ChangeStreamHistoryLost
# Change streams need a replica set or a sharded cluster; a standalone mongod answers 40573.
NOT_SUPPORTED = frozenset({40573})
NO_CHANGE_STREAMS = (
    "subscriptions need MongoDB change streams, which need a replica set or a sharded "
    "cluster; this MongoDB is a standalone server"
)


def _customer_key(org_id: object, customer_id: object) -> CustomerKey | None:
    """The routing key of a stored record; None when its ids are not integers. (int64 ids come
    back as bson's Int64, an int subclass, hashed like the int; a bool is no id.)"""
    if isinstance(org_id, bool) or isinstance(customer_id, bool):
        return None
    if isinstance(org_id, int) and isinstance(customer_id, int):
        return (int(org_id), int(customer_id))
    return None


def _change(
    event: Mapping[str, Any],
    rid: object,
    key: CustomerKey,
    kind: ChangeKind,
    state: RecordState | None,
    earn_count: int,
    record: Mapping[str, Any] | None,
) -> Change:
    """What customer `key`'s subscribers hear of record `rid` from `event`: `kind`, the badge
    of `state` (the record's latest known), `earn_count`, the document after (if any), and when
    it committed."""
    return Change(
        kind=kind,
        record_id=rid,
        org_id=key[0],
        customer_id=key[1],
        badge_meta_id=state.badge_meta_id if state is not None else None,
        earn_count=earn_count,
        changed_on=cluster_datetime(event),
        record=record,
        cluster_time=event.get("clusterTime"),
    )


class Subscriber:
    """One subscription's end of the hub: its customer and its bounded queue of changes."""

    __slots__ = ("_queue", "ended", "key")

    def __init__(self, key: CustomerKey, capacity: int) -> None:
        self.key = key
        self._queue: asyncio.Queue[Change | None] = asyncio.Queue(capacity)
        self.ended: GatewayError | None = None

    def offer(self, change: Change) -> bool:
        """Queue `change`; False when the queue is full (the subscriber is then too slow)."""
        try:
            self._queue.put_nowait(change)
        except asyncio.QueueFull:
            return False
        return True

    def end(self, reason: GatewayError) -> None:
        """End the subscription: its reader gets `reason` raised after nothing else."""
        if self.ended is not None:
            return
        self.ended = reason
        while not self._queue.empty():  # what it did not read is dropped: memory is freed
            self._queue.get_nowait()
        self._queue.put_nowait(None)

    async def next(self, wait: float | None = None) -> Change | None:
        """The next change, in commit order; None after `wait` seconds without one.
        Raises the reason the subscription ended."""
        try:
            change = await asyncio.wait_for(self._queue.get(), wait)
        except TimeoutError:
            return None
        if change is None:
            assert self.ended is not None
            self._queue.put_nowait(None)  # a second read raises again
            raise self.ended
        return change

    @property
    def queued(self) -> int:
        return self._queue.qsize()


class Hub:
    """The process's one change stream on `customer_badges`, and its subscribers."""

    def __init__(
        self,
        uri: str,
        database: str,
        *,
        queue_size: int = 100,
        linger: float = 30.0,
        server_selection_timeout_ms: int = 3000,
        metrics: Metrics | None = None,
    ) -> None:
        self.uri = uri
        self.database = database
        self.queue_size = queue_size
        self.linger = linger
        self.server_selection_timeout_ms = server_selection_timeout_ms
        self.metrics = metrics
        self.unavailable: str | None = None  # why subscriptions are refused, once known
        self._supported = False  # known to have change streams
        self._client: AsyncMongoClient[dict[str, Any]] | None = None
        self._task: asyncio.Task[None] | None = None
        self._open = asyncio.Event()  # set while the stream is open
        self._routes: dict[CustomerKey, set[Subscriber]] = {}
        self._records: dict[object, tuple[CustomerKey, RecordState]] = {}
        self._records_of: dict[CustomerKey, set[object]] = {}
        # The customers whose records were read since they were first subscribed (`know`): the
        # hub knows each of their records, so a record it does not know was not theirs.
        self._read: set[CustomerKey] = set()
        self._token: Mapping[str, Any] | None = None
        self._idle_since: float | None = None
        self._closing = False

    # --- subscribers ------------------------------------------------------------------------

    @property
    def subscribers(self) -> int:
        return sum(len(subscribers) for subscribers in self._routes.values())

    async def subscribe(self, org_id: int, customer_id: int) -> Subscriber:
        """A subscriber to the customer's changes from the moment the stream is open (this
        returns once it is). Raises SubscriptionsUnavailable, DatabaseUnavailable or
        ServerShuttingDown."""
        if self._closing:
            raise ServerShuttingDown()
        if await self.check_support() is not None:
            raise SubscriptionsUnavailable(details=self.unavailable)
        key = (int(org_id), int(customer_id))
        subscriber = Subscriber(key, self.queue_size)
        self._routes.setdefault(key, set()).add(subscriber)
        self._idle_since = None
        try:
            await self._wait_open()
        except BaseException:
            self.unsubscribe(subscriber)
            raise
        return subscriber

    def know(self, key: CustomerKey, records: Iterable[Mapping[str, Any]]) -> None:
        """The customer's records as read at subscribe: their ids route later deletes. A record
        an event has already told about keeps the event's (newer) state."""
        if key not in self._routes:
            return
        known = self._records_of.setdefault(key, set())
        for record in records:
            rid = record.get("_id")
            if rid is not None and rid not in self._records:
                self._records[rid] = (key, RecordState.of(record))
                known.add(rid)
        self._read.add(key)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        subscribers = self._routes.get(subscriber.key)
        if subscribers is None:
            return
        subscribers.discard(subscriber)
        if not subscribers:
            del self._routes[subscriber.key]
            self._read.discard(subscriber.key)
            for rid in self._records_of.pop(subscriber.key, ()):
                self._records.pop(rid, None)
            if not self._routes:
                self._idle_since = time.monotonic()

    def end_all(self, reason: type[GatewayError]) -> None:
        """End every subscription with `reason` (each subscriber gets its own instance)."""
        for subscribers in list(self._routes.values()):
            for subscriber in list(subscribers):
                subscriber.end(reason())
                self._count_ended(reason.graphql_code)
                self.unsubscribe(subscriber)

    async def check_support(self) -> str | None:
        """Why this deployment cannot serve subscriptions (None: it can), asking the server once
        (`hello`: a replica set member or a mongos has change streams; a standalone has not).
        An unreachable server says nothing: asked again next time."""
        if self.unavailable is not None or self._supported:
            return self.unavailable
        try:
            hello = await self._connect().admin.command("hello")
        except PyMongoError:
            return None
        if hello.get("setName") or hello.get("msg") == "isdbgrid":
            self._supported = True
        else:
            self.unavailable = NO_CHANGE_STREAMS
            logger.error("live: %s", NO_CHANGE_STREAMS)
        return self.unavailable

    # --- the stream -------------------------------------------------------------------------

    async def _wait_open(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="gql-badges live change stream")
        if self._open.is_set():
            return
        opened = asyncio.ensure_future(self._open.wait())
        try:
            done, _ = await asyncio.wait(
                {opened, self._task},
                timeout=self.server_selection_timeout_ms / 1000 + 2,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            opened.cancel()
        if opened in done and self._open.is_set():
            return
        if self.unavailable is not None:
            raise SubscriptionsUnavailable(details=self.unavailable)
        raise DatabaseUnavailable("The database's change stream cannot be opened now")

    def _connect(self) -> AsyncMongoClient[dict[str, Any]]:
        if self._client is None:
            self._client = AsyncMongoClient(
                self.uri,
                tz_aware=True,
                tzinfo=UTC,
                appname="gql-badges-live",
                serverSelectionTimeoutMS=self.server_selection_timeout_ms,
                connectTimeoutMS=self.server_selection_timeout_ms,
                # Change streams read the primary's oplog order; a secondary may lag.
                readPreference="primaryPreferred",
            )
        return self._client

    async def _run(self) -> None:
        """Open the stream (again, from the last token, after any failure) until there has been
        nobody to route to for `linger` seconds."""
        backoff, failing = 0.1, False
        collection = self._connect()[self.database][CUSTOMER_BADGES]
        while not self._closing:
            try:
                async with await collection.watch(
                    full_document="updateLookup",
                    resume_after=self._token,
                    max_await_time_ms=500,
                ) as stream:
                    self._open.set()
                    if failing:
                        logger.warning("live: the change stream is open again")
                    backoff, failing = 0.1, False
                    while not self._closing:
                        event = await stream.try_next()
                        self._token = stream.resume_token
                        if event is not None:
                            if not self.route(event):
                                break  # invalidated: open a fresh stream (for new subscribers)
                        elif self._idle_for_long():
                            return
            except OperationFailure as error:
                self._open.clear()
                if error.code in NOT_SUPPORTED:
                    self.unavailable = NO_CHANGE_STREAMS
                    logger.error("live: %s (%s)", NO_CHANGE_STREAMS, error.code)
                    self.end_all(SubscriptionsUnavailable)
                    return
                if error.code in HISTORY_LOST:
                    self._reset(f"history lost (code {error.code})")
                    continue
                failing = self._restart(error, failing)
            except PyMongoError as error:
                self._open.clear()
                failing = self._restart(error, failing)
            finally:
                self._open.clear()
            if self._idle_for_long():
                return
            if failing:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    def _idle_for_long(self) -> bool:
        idle = self._idle_since
        return not self._routes and idle is not None and time.monotonic() - idle > self.linger

    def _restart(self, error: PyMongoError, failing: bool) -> bool:
        if self.metrics is not None:
            self.metrics.change_stream_restarts.inc()
        if not failing:  # once per outage, not once per retry
            logger.warning("live: the change stream failed, resuming from its token: %s", error)
        return True

    def _reset(self, why: str) -> None:
        """The stream cannot go on from its token: every subscriber may have missed events."""
        logger.warning("live: %s; ending every subscription with SUBSCRIPTION_RESET", why)
        self._token = None
        if self.metrics is not None:
            self.metrics.change_stream_restarts.inc()
        self.end_all(SubscriptionReset)

    def route(self, event: Mapping[str, Any]) -> bool:
        """Route one change event of `customer_badges`, as the driver delivers it
        (`operationType`, `documentKey`, `fullDocument`, `updateDescription`, `clusterTime`),
        to its customer's subscribers' queues; False when the stream has ended (an
        invalidate). The stream calls it for each event; the hub's benchmark (`bench/hub.py`)
        feeds it directly, to measure routing and fan-out apart from the database. It never
        waits: a full queue ends its subscriber."""
        operation = event.get("operationType")
        if operation not in RECORD_OPERATIONS:
            if operation == "invalidate":
                self._reset("the change stream was invalidated")
                return False
            return True  # drop, rename: an invalidate follows
        rid = record_id(event)
        known = self._records.get(rid)
        before = known[1] if known is not None else None
        after = record_after(event, before)
        changed = changed_fields(event)
        key: CustomerKey | None = None
        if known is not None and (after is None or (operation == UPDATE and not changed & IDS)):
            # A known record's customer, unless this change moved it: the looked-up document
            # may be newer than the event, or gone (deleted since), and then names no one.
            key = known[0]
        elif after is not None:
            key = _customer_key(after.get("orgId"), after.get("customerId"))
            if known is None and operation == UPDATE and not changed & IDS and key in self._read:
                # An update, not a move, of a record the hub does not know, although it knows
                # every record of the customer the looked-up document names: the record was
                # somebody else's at this change, and has moved to them since (the lookup is
                # newer than the event). Its move's own event brings it to them, once.
                return True
        operation = str(operation)
        if known is not None and key == known[0] and changed and changed <= IDS:
            # Moved to the customer the hub already has it with: an earlier change of this
            # record, looked up after this move, told them of its arrival. Nothing is new.
            return True
        if known is not None and key != known[0]:
            # Moved to another customer (or org): gone for the one it left.
            self._remove_moved(known[0], rid, known[1], event)
            known = before = None
        if before is None and operation == UPDATE and changed & IDS:
            operation = INSERT  # moved in: new to this customer, as an inserted record is
        subscribers = self._routes.get(key) if key is not None else None
        if key is None or not subscribers:
            return True
        after_state = state_after(event, before, after)
        kind = classify(operation, before, after_state, changed)
        if operation == DELETE or after_state is None:
            self._forget(rid)
        else:
            self._records[rid] = (key, after_state)
            self._records_of.setdefault(key, set()).add(rid)
        # A deleted record's badge is the one the hub knew; its count is 0, as badgeManagement
        # shows a badge the customer has no record of.
        count = after_state.earn_count if after_state is not None else 0
        change = _change(event, rid, key, kind, after_state or before, count, after)
        self._offer(subscribers, change)
        return True

    def _remove_moved(
        self, key: CustomerKey, rid: object, state: RecordState, event: Mapping[str, Any]
    ) -> None:
        """A record moved away from customer `key` is REMOVED for that customer's subscribers,
        as a delete is: its last known badge, a count of 0, no document."""
        self._forget(rid)
        subscribers = self._routes.get(key)
        if not subscribers:
            return
        self._offer(subscribers, _change(event, rid, key, ChangeKind.REMOVED, state, 0, None))

    def _offer(self, subscribers: set[Subscriber], change: Change) -> None:
        """`change` to each subscriber's queue; a full queue ends its subscriber."""
        for subscriber in list(subscribers):
            if not subscriber.offer(change):
                subscriber.end(SubscriberTooSlow())
                self._count_ended(SubscriberTooSlow.graphql_code)
                self.unsubscribe(subscriber)

    def _forget(self, rid: object) -> None:
        known = self._records.pop(rid, None)
        if known is not None:
            self._records_of.get(known[0], set()).discard(rid)

    def _count_ended(self, reason: str) -> None:
        if self.metrics is not None:
            self.metrics.subscriptions_ended.labels(reason).inc()

    async def close(self) -> None:
        """End every subscription (SERVER_SHUTTING_DOWN), stop the stream, close the client.
        A later subscribe opens them again."""
        self._closing = True
        try:
            self.end_all(ServerShuttingDown)
            if self._task is not None:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError, PyMongoError):
                    await self._task
            if self._client is not None:
                await self._client.close()
        finally:
            self._task, self._client, self._token = None, None, None
            self._closing = False


__all__ = ["CustomerKey", "Hub", "Subscriber"]
