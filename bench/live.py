"""Live badges under load: `python -m bench.live` (options: `--help`; figures: bench/README.md).

For each subscriber count (default 100, 1,000, 5,000) it starts the gateway (`gql-badges serve`)
as a process of its own, and the npm `graphql-ws` client (`tests/live/npm/subscribe.mjs`) as
another, holding one socket per subscriber, each subscribed to a customer of its own. Records
are written straight into `customer_badges`, as the loyalty platform does. It measures:

  idle CPU       the gateway's CPU time over a quiet window with every subscription open,
                 as a share of one core (server pings included when the window spans one)
  RSS/subscriber the gateway's resident memory with them open, less its memory with one open
                 (which has paid for the change stream and its client), divided by the others
  latency        from just before a write is sent to the moment its client reads the event
                 (p50, p99): paced writes, one at a time, so no queue builds up
  events/s       a burst of writes: events delivered over the time from the first write to
                 the last event received; the write rate reached alongside, since the database
                 bounds the burst before the hub does
  CPU/event      the gateway's CPU time over the burst divided by the events it delivered;
                 one core's worth of hub at that cost is 1 / CPU per event

Writes and clients run on the same machine as the gateway (the figures include their cost to
the shared cores: the load average is recorded with each row). The subscription selects the
event's own fields only (kind, badgeMetaId, earnCount, changedOn); `--badge` adds the badge as
badgeManagement shows it, which costs the gateway a read per event.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
from bson import Int64
from pymongo import AsyncMongoClient, UpdateOne

from bench import numbers, run_interruptible
from bench.run import JWT_SECRET, Server, database_uri, server_env
from gql_badges.settings import Driver, Settings
from gql_badges.storage.client import Database
from tests.live.harness import (
    SHOWN,
    LiveOrg,
    NodeSubscribers,
    Platform,
    create_live_org,
    install_npm_clients,
    node_subscribers,
    wait_until_listening,
)
from tests.support import free_port

FIELDS = "kind badgeMetaId earnCount changedOn"
TARGETS = {
    "p99_ms": 50.0,
    "idle_cpu_percent": 2.0,
    "kib_per_subscriber": 20.0,
    "events_per_s": 5000,
}


def subscription(with_badge: bool) -> str:
    if not with_badge:
        return f"""subscription Live($customer: CustomerRef!) {{
  badgeChanged(customer: $customer) {{ {FIELDS} }} }}"""
    return f"""subscription Live($customer: CustomerRef!) {{
  badgeChanged(customer: $customer) {{ {FIELDS} badge {{ ...Shown }} }} }}
{SHOWN}"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Writer:
    """The loyalty platform's writes for the benchmark: each sets a record's earnCount to a
    number never used before, so the event that reaches a client names its write."""

    def __init__(self, platform: Platform, org: LiveOrg) -> None:
        self.records, self.org = platform.records, org
        self.sequence = 0

    def _write(self, customer: int, sequence: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """The filter and update of one write (the first for a customer inserts its record)."""
        return (
            {
                "orgId": self.org.org_id,
                "customerId": Int64(customer),
                "badgeMetaId": self.org.badge,
            },
            {
                "$set": {"earnCount": sequence, "active": True, "lastUpdatedOn": datetime.now(UTC)},
                "$setOnInsert": {"issuedOn": None, "issueStatus": None},
            },
        )

    async def one(self, customer: int) -> tuple[int, float]:
        """One write; its sequence number and the wall clock just before it was sent."""
        self.sequence += 1
        selector, update = self._write(customer, self.sequence)
        sent = time.time()
        await self.records.update_one(selector, update, upsert=True)
        return self.sequence, sent

    async def burst(self, customers: list[int], count: int, batch: int = 500) -> None:
        """`count` writes round-robin over `customers`, in unordered bulk batches."""
        writes = []
        for n in range(count):
            self.sequence += 1
            selector, update = self._write(customers[n % len(customers)], self.sequence)
            writes.append(UpdateOne(selector, update, upsert=True))
        for start in range(0, len(writes), batch):
            # Ordered within a batch: one customer's writes must commit in sequence.
            await self.records.bulk_write(writes[start : start + batch], ordered=True)


def rss(process: psutil.Process) -> int:
    return int(process.memory_info().rss)


async def measure(
    args: argparse.Namespace, uri: str, subscribers: int, log_dir: Path
) -> dict[str, Any]:
    name = f"bench_live_{subscribers}_{os.getpid()}"
    database = Database(Settings(database=name, driver=Driver.PYMONGO), uri)
    await database.ensure_indexes()
    org = await create_live_org(database, JWT_SECRET, customers=subscribers)
    env = server_env(uri, name, "pymongo") | {
        "GQL_BADGES_LIVE_MAX_CONNECTIONS_PER_CLIENT": str(subscribers + 10),
        "GQL_BADGES_LIVE_QUEUE_SIZE": "1000",
    }
    command = [
        sys.executable,
        "-m",
        "gql_badges.cli",
        "serve",
        "--port",
        "{port}",
        "--no-access-log",
    ]
    gateway = Server("gateway", command, env, log_dir / f"live-{subscribers}.log")
    writer_client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri)
    platform = Platform(writer_client[name]["customer_badges"])
    writer = Writer(platform, org)
    row: dict[str, Any] = {
        "subscribers": subscribers,
        "badge": args.badge,
        "deflate": not args.no_deflate,
        "load_before": os.getloadavg(),
    }
    try:
        base = gateway.start(free_port())
        assert gateway.process is not None
        process = psutil.Process(gateway.process.pid)
        query = subscription(args.badge)
        first, *rest = org.customers

        def specs(customers: list[int]) -> list[dict[str, Any]]:
            return [
                {"id": f"s{c}", "headers": org.headers, "variables": org.variables(c)}
                for c in customers
            ]

        # One subscriber first: it opens the change stream and its client, a cost paid once per
        # process; the memory after it is the baseline of the per-subscriber figure.
        async with node_subscribers(
            args.script, "ws", base, specs([first]), query=query, deflate=not args.no_deflate
        ) as one:
            await wait_until_listening(platform, org, {first: one.events[f"s{first}"]})
            await asyncio.sleep(2)  # allocations settle before the baseline
            rss_before = rss(process)
            ids = [f"s{customer}" for customer in rest]
            started = time.monotonic()
            async with node_subscribers(
                args.script,
                "ws",
                base,
                specs(rest),
                query=query,
                ramp_per_second=args.ramp or None,
                deflate=not args.no_deflate,
            ) as clients:
                by_customer = {c: clients.events[f"s{c}"] for c in rest}
                # Connected (acknowledged) first, then one warm-up write each: warm-up rounds
                # while thousands still connect would flood the hub with events of their own.
                await asyncio.wait_for(clients.all_connected.wait(), 900)
                await wait_until_listening(platform, org, by_customer, within=600, every=10)
                row["subscribe_seconds"] = round(time.monotonic() - started, 1)
                await asyncio.sleep(1)
                await measure_open(
                    args, gateway, process, rss_before, clients, ids, org, writer, row
                )
    finally:
        gateway.stop()
        await writer_client.close()
        await database.drop()
        await database.close()
    row["load_after"] = os.getloadavg()
    return row


async def measure_open(
    args: argparse.Namespace,
    gateway: Server,
    process: psutil.Process,
    rss_before: int,
    clients: NodeSubscribers,
    ids: list[str],
    org: LiveOrg,
    writer: Writer,
    row: dict[str, Any],
) -> None:
    """The figures with every subscription open, into `row`."""
    # Drop what the warm-up left behind: every later event is a measured write's.
    for id_ in ids:
        events = clients.events[id_]
        while not events.queue.empty():
            events.queue.get_nowait()
        clients.arrivals[id_] = []
    # The writes go to these subscribers' customers only (not the first's, in a process of its
    # own), so every measured write has its event here.
    customers = [int(id_[1:]) for id_ in ids]

    # Idle: every subscription open, nothing written.
    cpu_before, idle_start = gateway.cpu_seconds(), time.monotonic()
    await asyncio.sleep(args.idle_seconds)
    idle_cpu = gateway.cpu_seconds() - cpu_before
    row["idle_cpu_percent"] = round(100 * idle_cpu / (time.monotonic() - idle_start), 2)
    row["rss_mib"] = round(rss(process) / 2**20, 1)
    row["kib_per_subscriber"] = round((rss(process) - rss_before) / 1024 / len(ids), 2)

    # Latency: paced single writes over the customers.
    sent: dict[int, float] = {}
    for n in range(args.latency_writes):
        sequence, at = await writer.one(customers[n % len(customers)])
        sent[sequence] = at
        await asyncio.sleep(args.pace_ms / 1000)
    received = await collect(clients, ids, org, set(sent), within=60)
    latencies = [1000 * (received[s] - sent[s]) for s in sent if s in received]
    row["latency_events"] = len(latencies)
    row["lost"] = len(sent) - len(latencies)
    row["p50_ms"] = round(statistics.median(latencies), 2) if latencies else None
    row["p99_ms"] = round(percentile(latencies, 0.99), 2) if latencies else None

    # Throughput: a burst of writes, as fast as the database takes them.
    first = writer.sequence + 1
    cpu_before, burst_start = gateway.cpu_seconds(), time.time()
    await writer.burst(customers, args.burst)
    wrote = time.time()
    expected = set(range(first, writer.sequence + 1))
    received = await collect(clients, ids, org, expected, within=120)
    cpu = gateway.cpu_seconds() - cpu_before
    last = max(received.values()) if received else wrote
    row["burst_events"] = len(received)
    row["burst_lost"] = len(expected) - len(received)
    row["write_rate"] = round(args.burst / (wrote - burst_start))
    row["events_per_s"] = round(len(received) / max(last - burst_start, 1e-9))
    row["cpu_us_per_event"] = round(1e6 * cpu / max(len(received), 1), 1)
    row["hub_capacity_per_core"] = round(1e6 / row["cpu_us_per_event"])


async def collect(
    clients: NodeSubscribers, ids: list[str], org: LiveOrg, expected: set[int], within: float
) -> dict[int, float]:
    """When each expected write's event arrived (wall clock, s), by the write's sequence (an
    event's earnCount). A subscription that ends instead stops the run: its figures would lie."""
    received: dict[int, float] = {}
    deadline = time.monotonic() + within
    while not expected <= received.keys() and time.monotonic() < deadline:
        for id_ in ids:
            events, arrivals = clients.events[id_], clients.arrivals[id_]
            while not events.queue.empty():
                event = events.queue.get_nowait()
                if "kind" not in event:
                    raise RuntimeError(f"subscriber {id_} ended: {event}")
                at = arrivals.pop(0)  # one arrival time per result, in the same order
                sequence = event["earnCount"]
                # A late warm-up event has a small earnCount too: only the badge's own count.
                if event["badgeMetaId"] == str(org.badge) and sequence in expected:
                    received.setdefault(sequence, at)
        await asyncio.sleep(0.05)
    return received


async def main_async(args: argparse.Namespace) -> int:
    args.script = install_npm_clients()
    args.log_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-live-") as tmp:
        uri, embedded = database_uri(Path(tmp) / "data")
        try:
            rows = []
            for subscribers in args.subscribers:
                print(f"[live] {subscribers} subscribers", flush=True)
                try:
                    row = await measure(args, uri, subscribers, args.log_dir)
                except (AssertionError, RuntimeError) as error:  # the other sizes still run
                    row = {"subscribers": subscribers, "failed": str(error)[:2000]}
                print(json.dumps(row), flush=True)
                rows.append(row)
        finally:
            if embedded is not None:
                embedded.stop()
    results = {"cpus": os.cpu_count(), "targets": TARGETS, "rows": rows}
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")
    if args.chart:
        print(draw(results, args.chart))
    return 0


def draw(results: dict[str, Any], out: Path) -> Path:
    """The figures against the targets, one panel each, a bar per subscriber count."""
    import matplotlib

    matplotlib.use("Agg")  # no display: a file only
    import matplotlib.pyplot as plt

    panels = [
        ("p99_ms", "write to client, p99 (ms)", "p50_ms"),
        ("idle_cpu_percent", "idle CPU (% of a core)", None),
        ("kib_per_subscriber", "RSS per idle subscriber (KiB)", None),
        ("events_per_s", "events/s delivered in a burst", "hub_capacity_per_core"),
    ]
    rows = results["rows"]
    labels = [f"{row['subscribers']:,}" for row in rows]
    figure, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.4))
    for ax, (key, title, second) in zip(axes, panels, strict=True):
        values = [row.get(key) or 0 for row in rows]
        positions = range(len(rows))
        if second is None:
            ax.bar(positions, values, 0.6, label=key)
        else:
            ax.bar([p - 0.2 for p in positions], values, 0.4, label=key)
            ax.bar(
                [p + 0.2 for p in positions],
                [row.get(second) or 0 for row in rows],
                0.4,
                label=second,
            )
            ax.legend(fontsize=7)
        ax.axhline(results["targets"][key], color="red", linestyle="--", linewidth=0.8)
        if key == "p99_ms":
            ax.set_yscale("log")  # tails of hundreds of ms beside medians of a few
        ax.set_xticks(list(positions), labels)
        ax.set_xlabel("subscribers")
        ax.set_title(title, fontsize=9)
    figure.suptitle("live badges: one gateway process (dashed: the target at 1,000)", fontsize=10)
    figure.tight_layout()
    figure.savefig(out, dpi=110)
    plt.close(figure)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.live",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--subscribers",
        default="100,1000,5000",
        type=numbers,
        help="subscriber counts, one run each (default 100,1000,5000)",
    )
    parser.add_argument("--idle-seconds", type=float, default=20, help="the quiet window (s)")
    parser.add_argument("--latency-writes", type=int, default=300, help="paced writes timed")
    parser.add_argument("--pace-ms", type=float, default=10, help="pause between paced writes")
    parser.add_argument("--burst", type=int, default=3000, help="writes in the burst")
    parser.add_argument("--badge", action="store_true", help="select the badge in the events")
    parser.add_argument(
        "--no-deflate", action="store_true", help="clients offer no permessage-deflate"
    )
    parser.add_argument(
        "--ramp", type=float, default=200, help="subscribers connecting per second (0: at once)"
    )
    parser.add_argument("--out", type=Path, default=Path("bench/live-results.json"))
    parser.add_argument("--chart", type=Path, default=Path("bench/live.png"))
    parser.add_argument("--log-dir", type=Path, default=Path(tempfile.gettempdir()) / "bench-live")
    parser.add_argument(
        "--draw-only", action="store_true", help="draw --chart from the --out file, run nothing"
    )
    args = parser.parse_args()
    if args.draw_only:
        print(draw(json.loads(args.out.read_text()), args.chart))
        return 0
    return run_interruptible(main_async(args))


if __name__ == "__main__":
    raise SystemExit(main())
