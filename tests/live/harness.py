"""What the live-badge tests share: an org to subscribe in, the loyalty platform's own writes to
`customer_badges` (straight into MongoDB, as the platform does: the gateway never writes there),
and what a real client received, as a queue of `BadgeChange` payloads.

The clients are real: `graphql-ws` and `graphql-sse` from npm (`npm/subscribe.mjs`, one socket
per subscriber) and `gql` from PyPI over websockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from bson import Int64, ObjectId
from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

from gql_badges.loading import write_documents
from gql_badges.storage.client import Database
from tests.support import GatewayProcess, jwt_token, new_org_id

NPM_DIR = Path(__file__).parent / "npm"
SUBSCRIBE_MJS = NPM_DIR / "subscribe.mjs"

# The badge as the event carries it and as badgeManagement shows it: the same fields, compared.
SHOWN = """fragment Shown on CustomerBadge {
  badgeMetaId name badgeType badgeStatus active earnCount issueStatus
  lastEarnedOn lastEarnedOnDate lastEarnEventDate startsOn expiresOn lastUpdatedOn
}"""
SUBSCRIPTION = (
    """subscription Live($customer: CustomerRef!) {
  badgeChanged(customer: $customer) { kind badgeMetaId earnCount changedOn badge { ...Shown } }
}
"""
    + SHOWN
)
MANAGEMENT = (
    """query Shown($id: ID!) {
  badgeManagement(customer: {id: $id}, badgeType: EARNED, size: 100) { customerBadges { ...Shown } }
}
"""
    + SHOWN
)

Change = dict[str, Any]


def missing_node_tools() -> list[str]:
    return [command for command in ("node", "npm") if shutil.which(command) is None]


def install_npm_clients() -> Path:
    """subscribe.mjs with its locked packages installed (once, when node_modules is missing)."""
    if not (NPM_DIR / "node_modules" / "graphql-ws").is_dir():
        # --prefer-offline: a warm npm cache installs the locked versions without the network.
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--prefer-offline"],
            cwd=NPM_DIR,
            check=True,
            timeout=600,
        )
    return SUBSCRIBE_MJS


@dataclass(frozen=True)
class LiveGateway:
    """A gateway process under test, the database it reads, and the platform's writer."""

    base: str
    jwt_secret: str
    database: Database
    platform: Platform
    process: GatewayProcess


# --- an org to subscribe in -------------------------------------------------------------------


@dataclass(frozen=True)
class LiveOrg:
    """An org with one badge to earn, one to warm up with, customers, and a client's token."""

    org_id: int
    badge: ObjectId  # the badge whose changes the tests check
    warm_up: ObjectId  # the badge written until a subscriber shows it is listening
    customers: tuple[int, ...]
    headers: dict[str, str]

    def variables(self, customer: int) -> dict[str, Any]:
        return {"customer": {"id": str(customer)}}


def _badge(org_id: int, name: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "_id": ObjectId(),
        "orgId": org_id,
        "name": name,
        "description": None,
        # ISSUE_EARN without a customer limit: badgeManagement shows it as EARNED once earned.
        "earnType": "ISSUE_EARN",
        "active": True,
        "startOn": now - timedelta(days=30),
        "expiresOn": now + timedelta(days=3650),
        "badgeGroupId": None,
        "badgeRank": None,
        "ownership": {"restrictedToOwners": ["Loyalty"], "claims": []},
        "customerConstraints": [],
        "badgeConstraints": [],
        "images": [],
        "tags": [],
        "customFields": {},
        "createdOn": now,
        "lastUpdatedOn": now,
    }


async def create_live_org(
    database: Database,
    jwt_secret: str,
    customers: int = 1,
) -> LiveOrg:
    """A new org in `database` with `customers` customers (up to 9,999) and an API client; its
    OAuth header. Customer ids are unique across orgs (`customers._id` is the customerId)."""
    org_id = new_org_id()
    badge, warm_up = _badge(org_id, "Birthday Badge"), _badge(org_id, "Warm-up")
    ids = tuple(org_id * 10_000 + n for n in range(1, customers + 1))
    documents: dict[str, list[Any]] = {
        "badge_meta": [badge, warm_up],
        "customers": [
            {
                "_id": Int64(customer),
                "orgId": org_id,
                "email": f"c{customer}.{org_id}@example.com",
                "mobile": None,
                "externalId": None,
                "cardNumbers": [],
            }
            for customer in ids
        ],
    }
    await write_documents(database, documents)
    client = {"orgId": org_id, "username": f"live{org_id}", "password": "p", "key": f"lk{org_id}"}
    await write_documents(database, {"api_clients": [client]})
    token = jwt_token(org_id, f"lk{org_id}", secret=jwt_secret, ttl=3600)
    return LiveOrg(org_id, badge["_id"], warm_up["_id"], ids, {"X-CAP-API-OAUTH-TOKEN": token})


# --- the loyalty platform's writes ------------------------------------------------------------


class Platform:
    """Writes `customer_badges` the way the loyalty platform does: directly, not via the gateway."""

    def __init__(self, records: AsyncCollection[dict[str, Any]]) -> None:
        self.records = records

    async def earn(self, org: LiveOrg, customer: int, earn_count: int = 1) -> ObjectId:
        """A new record, earned (`earn_count` ≥ 1): EARNED."""
        return (await self.earn_many(org, {customer: earn_count}))[customer]

    async def earn_again(self, record: ObjectId) -> None:
        """earnCount goes up: EARNED."""
        await self.earn_again_many([record])

    async def issue(self, record: ObjectId) -> None:
        """issuedOn and issueStatus set: ISSUED."""
        now = datetime.now(UTC)
        await self.records.update_one(
            {"_id": record},
            {"$set": {"issuedOn": now, "issueStatus": "ISSUED", "lastUpdatedOn": now}},
        )

    async def remove(self, record: ObjectId) -> None:
        """The record deleted: REMOVED."""
        await self.remove_many([record])

    async def earn_many(self, org: LiveOrg, earn_counts: Mapping[int, int]) -> dict[int, ObjectId]:
        """A new earned record for each customer, with its earnCount (one round trip)."""
        now = datetime.now(UTC)
        records: dict[int, dict[str, Any]] = {
            customer: {
                "_id": ObjectId(),
                "orgId": org.org_id,
                "customerId": Int64(customer),
                "badgeMetaId": org.badge,
                "issuedOn": None,
                "issueStatus": None,
                "earnCount": earn_count,
                "lastEarnedOn": now,
                "lastEarnEventDate": now,
                "earnExpiresOn": None,
                "active": True,
                "lastUpdatedOn": now,
            }
            for customer, earn_count in earn_counts.items()
        }
        await self.records.insert_many(list(records.values()), ordered=False)
        return {customer: record["_id"] for customer, record in records.items()}

    async def earn_again_many(self, records: Iterable[ObjectId]) -> None:
        """earnCount goes up on each record (one update each, one round trip)."""
        now = datetime.now(UTC)
        await self.records.update_many(
            {"_id": {"$in": list(records)}},
            {"$inc": {"earnCount": 1}, "$set": {"lastEarnedOn": now, "lastUpdatedOn": now}},
        )

    async def remove_many(self, records: Iterable[ObjectId]) -> None:
        await self.records.delete_many({"_id": {"$in": list(records)}})

    async def warm_up(self, org: LiveOrg, customers: Iterable[int]) -> None:
        """Earn the warm-up badge once more for each customer (one round trip)."""
        now = datetime.now(UTC)
        writes = [
            UpdateOne(
                {"orgId": org.org_id, "customerId": Int64(customer), "badgeMetaId": org.warm_up},
                {
                    "$inc": {"earnCount": 1},
                    "$set": {"active": True, "lastEarnedOn": now, "lastUpdatedOn": now},
                    "$setOnInsert": {"issuedOn": None, "issueStatus": None},
                },
                upsert=True,
            )
            for customer in customers
        ]
        if writes:
            await self.records.bulk_write(writes, ordered=False)


# --- what a client received -------------------------------------------------------------------


@dataclass
class Events:
    """What one subscriber received, in order: each GraphQL result's `badgeChanged`, or an
    `{"error": ...}` / `{"complete": True}` / `{"closed": code}` entry."""

    queue: asyncio.Queue[Change] = field(default_factory=asyncio.Queue)

    def put_result(self, result: Mapping[str, Any]) -> None:
        if result.get("errors"):
            self.queue.put_nowait({"error": result["errors"]})
        else:
            self.queue.put_nowait(result["data"]["badgeChanged"])

    async def next(self, within: float = 30) -> Change:
        try:
            return await asyncio.wait_for(self.queue.get(), within)
        except TimeoutError:
            raise AssertionError(f"no event within {within} s") from None

    async def next_change(self, org: LiveOrg, within: float = 30) -> Change:
        """The next event that is not a warm-up one (those may trail the first)."""
        while True:
            event = await self.next(within)
            if event.get("badgeMetaId") != str(org.warm_up):
                return event


async def wait_until_listening(
    platform: Platform,
    org: LiveOrg,
    events: Mapping[int, Events],
    within: float = 60,
    every: float = 0.3,
) -> None:
    """Write the warm-up badge of each customer until its subscriber has an event: from then
    on its subscription is registered, and no later write can be missed. (Nothing in the
    protocols says when a server starts listening; this asks the real path.)"""
    pending = dict(events)
    deadline = asyncio.get_running_loop().time() + within
    while pending:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{len(pending)} subscribers never received a warm-up event")
        await platform.warm_up(org, pending)
        await asyncio.sleep(every)  # between rounds of writes, not a wait for a condition
        for customer, queue in list(pending.items()):
            with contextlib.suppress(asyncio.QueueEmpty):
                event = queue.queue.get_nowait()
                assert event.get("badgeMetaId") == str(org.warm_up), event
                del pending[customer]


async def shown(base: str, org: LiveOrg, customer: int, badge: ObjectId) -> dict[str, Any]:
    """The badge as badgeManagement shows it now, for the customer."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        response = await http.post(
            "/graphql",
            json={"query": MANAGEMENT, "variables": {"id": str(customer)}},
            headers=org.headers,
        )
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    items = body["data"]["badgeManagement"]["customerBadges"]
    (item,) = [item for item in items if item["badgeMetaId"] == str(badge)]
    found: dict[str, Any] = item
    return found


def _recent(changed_on: str) -> bool:
    instant = datetime.fromisoformat(changed_on.replace("Z", "+00:00"))
    return abs(datetime.now(UTC) - instant) < timedelta(minutes=5)


async def expect_each_kind(
    base: str, platform: Platform, org: LiveOrg, customer: int, events: Events
) -> None:
    """An insert, an earnCount increment, an issue and a delete: each reaches the subscriber
    as the right kind, with the badge as badgeManagement shows it right after."""
    record = await platform.earn(org, customer)
    change = await events.next_change(org)
    assert (change["kind"], change["badgeMetaId"], change["earnCount"]) == (
        "EARNED", str(org.badge), 1), change  # fmt: skip
    assert _recent(change["changedOn"]), change
    assert change["badge"] == await shown(base, org, customer, org.badge)
    assert change["badge"]["earnCount"] == 1

    await platform.earn_again(record)
    change = await events.next_change(org)
    assert (change["kind"], change["earnCount"]) == ("EARNED", 2), change
    assert change["badge"] == await shown(base, org, customer, org.badge)

    await platform.issue(record)
    change = await events.next_change(org)
    assert (change["kind"], change["earnCount"]) == ("ISSUED", 2), change
    assert change["badge"] == await shown(base, org, customer, org.badge)
    assert change["badge"]["issueStatus"] == "ISSUED"

    await platform.remove(record)
    change = await events.next_change(org)
    assert (change["kind"], change["badgeMetaId"], change["badge"]) == (
        "REMOVED", str(org.badge), None), change  # fmt: skip
    assert _recent(change["changedOn"]), change


# --- the npm clients --------------------------------------------------------------------------


class NodeSubscribers:
    """`node subscribe.mjs` with many subscribers (one socket each); each one's `Events`.

    Lines other than results (`connected`) are kept in `connected`; an error, completion or
    close goes into the subscriber's events, so a test waiting for a change sees why none came.
    """

    def __init__(self, process: asyncio.subprocess.Process, ids: Iterable[str]) -> None:
        self.process = process
        self.events = {id_: Events() for id_ in ids}
        self.connected: set[str] = set()
        self.all_connected = asyncio.Event()  # every WebSocket subscriber acknowledged
        self.arrivals: dict[str, list[float]] = {id_: [] for id_ in self.events}
        self._stderr = bytearray()
        self._reader = asyncio.create_task(self._read())
        # Drained as it comes: a client that fills the pipe would block on its next write.
        self._stderr_reader = asyncio.create_task(self._read_stderr())

    async def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        while chunk := await self.process.stderr.read(65536):
            self._stderr += chunk
            del self._stderr[: max(0, len(self._stderr) - 20_000)]  # the last lines tell

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            line = json.loads(raw)
            id_ = str(line["id"])
            events = self.events[id_]
            if "next" in line:
                self.arrivals[id_].append(line["at"] / 1000)
                events.put_result(line["next"])
            elif "connected" in line:
                self.connected.add(id_)
                if len(self.connected) == len(self.events):
                    self.all_connected.set()
            else:
                events.queue.put_nowait({k: v for k, v in line.items() if k != "id"})

    async def stop(self) -> str:
        """End the clients; the end of their stderr (for a failing test's message)."""
        if self.process.returncode is None:
            self.process.terminate()
        await self.process.wait()
        for reader in (self._reader, self._stderr_reader):
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        return self._stderr.decode(errors="replace")


@contextlib.asynccontextmanager
async def node_subscribers(
    script: Path,
    transport: str,
    base: str,
    subscribers: list[dict[str, Any]],
    query: str = SUBSCRIPTION,
    count: int = 0,
    ramp_per_second: float | None = None,
    deflate: bool = True,
) -> AsyncIterator[NodeSubscribers]:
    """`subscribers` ({id, headers, variables}) subscribed through the npm client of
    `transport` ("ws": graphql-ws, "sse": graphql-sse) to the gateway at `base`."""
    subscribers = [{**s, "id": str(s["id"])} for s in subscribers]
    config = {
        "transport": transport,
        "url": f"{base}/graphql",
        "query": query,
        "subscribers": subscribers,
        "count": count,
        "rampPerSecond": ramp_per_second,
        "deflate": deflate,
    }
    process = await asyncio.create_subprocess_exec(
        "node",
        str(script),
        cwd=script.parent,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        limit=2**24,  # a result is one line; 64 KiB is asyncio's default limit
    )
    assert process.stdin is not None
    process.stdin.write(json.dumps(config).encode())
    await process.stdin.drain()
    process.stdin.close()
    clients = NodeSubscribers(process, (str(s["id"]) for s in subscribers))
    try:
        yield clients
    finally:
        stderr = await clients.stop()
        if stderr:
            print(f"subscribe.mjs stderr:\n{stderr}")  # pytest shows it when the test fails
