"""The live hub's own throughput: change events through routing and fan-out, without the database.

`python -m bench.live` measures events end to end, and there the embedded database's write rate
(300-1,000 writes/s) is the limit, so the hub's own rate never shows. Here the hub opens its
change stream as usual (on the embedded database, which then stays quiet), its subscribers join
as a subscription does, and synthetic change events, shaped as the driver delivers them, are fed
to `Hub.route` directly: each one routed by (orgId, customerId), classified, queued for every
subscriber of its customer, and read by that subscriber's task, as a subscription's reader does.

    events/s      events routed per second, from the first fed to the last read
    deliveries/s  events read by subscribers per second (events x subscribers per customer)

    .venv/bin/python -m bench.hub                   # 1,000 customers, 1 and 10 subscribers each
    .venv/bin/python -m bench.hub --customers 100 --per-customer 1 --events 50000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bson import Int64, ObjectId, Timestamp

from bench import numbers, run_interruptible
from bench.run import database_uri
from gql_badges.live.hub import Hub, Subscriber

ORG = 9_000_001


def insert_event(customer_id: int, earn_count: int) -> dict[str, Any]:
    """An insert as the change stream delivers it (full document included)."""
    rid = ObjectId()
    now = datetime.now(UTC)
    return {
        "_id": {"_data": str(rid)},
        "operationType": "insert",
        "documentKey": {"_id": rid},
        "clusterTime": Timestamp(int(now.timestamp()), 1),
        "wallTime": now,
        "fullDocument": {
            "_id": rid,
            "orgId": Int64(ORG),
            "customerId": Int64(customer_id),
            "badgeMetaId": "bench-badge",
            "earnCount": earn_count,
            "active": True,
        },
    }


async def read(
    subscriber: Subscriber, expected: int, done: asyncio.Event, counts: list[int]
) -> None:
    while counts[0] < expected:
        await subscriber.next()
        counts[0] += 1
        if counts[0] == expected:
            done.set()


async def measure(
    uri: str, customers: int, per_customer: int, events: int, batch: int
) -> dict[str, Any]:
    hub = Hub(uri, f"bench_hub_{os.getpid()}", queue_size=batch + 1)
    readers: list[asyncio.Task[None]] = []
    try:
        subscribers = [
            await hub.subscribe(ORG, customer)
            for customer in range(1, customers + 1)
            for _ in range(per_customer)
        ]
        delivered, done = [0], asyncio.Event()
        expected = events * per_customer
        readers = [asyncio.create_task(read(s, expected, done, delivered)) for s in subscribers]
        feed = [insert_event(1 + i % customers, 1 + i // customers) for i in range(events)]
        start = time.perf_counter()
        cpu = time.process_time()
        for first in range(0, events, batch):
            for event in feed[first : first + batch]:
                hub.route(event)
            await asyncio.sleep(0)  # the readers take what was queued (queues hold a batch)
        await asyncio.wait_for(done.wait(), 120)
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu
        return {
            "customers": customers,
            "subscribers per customer": per_customer,
            "events": events,
            "events/s": round(events / elapsed),
            "deliveries/s": round(expected / elapsed),
            "CPU per event (µs)": round(1e6 * cpu / events, 1),
            "lost": expected - delivered[0],
        }
    finally:
        for task in readers:
            task.cancel()
        await hub.close()


async def main_async(args: argparse.Namespace) -> int:
    print(f"[machine] load average {os.getloadavg()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-hub-") as tmp:
        uri, embedded = database_uri(Path(tmp) / "data")
        try:
            for per_customer in args.per_customer:
                row = await measure(uri, args.customers, per_customer, args.events, args.batch)
                print(json.dumps(row, ensure_ascii=False), flush=True)
        finally:
            if embedded is not None:
                embedded.stop()
    print(f"[machine] load average {os.getloadavg()}", flush=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.hub",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--customers", type=int, default=1000, help="customers subscribed to")
    parser.add_argument(
        "--per-customer",
        default="1,10",
        type=numbers,
        help="subscribers per customer, one run each (default 1,10)",
    )
    parser.add_argument("--events", type=int, default=20_000, help="events fed")
    parser.add_argument("--batch", type=int, default=500, help="events fed between reads")
    return run_interruptible(main_async(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
