"""Run the benchmark: `python -m bench.run` (options: `--help`; figures: bench/README.md).

For each data size and driver it starts two servers as separate processes, the gateway
(`gql-badges serve`) and the raw baseline (`bench/baseline.py`), and measures four request
kinds for each page size, in the same run:

  raw           the baseline: the same MongoDB queries, documents returned as JSON
  rest          GET /api_gateway/v1/badges/customer/{id}?limit=N
  graphql-all   customerBadges with every field of a badge
  graphql-two   customerBadges { badges { badgeMetaId name } }

Latency (p50, p99) and throughput come from a timed pass with concurrent clients; CPU per
request is the server process's CPU time over that pass divided by its requests. Round trips and
bytes read from MongoDB per request come from a second, sequential pass through a counting
proxy (tests/support/wire_proxy.py), so the proxy never slows the timed pass.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench import data
from gql_badges.badges.items import Endpoint
from gql_badges.graphql.schema import create_schema
from gql_badges.graphql.selection import every_item_field
from gql_badges.loading import validate_documents, write_documents
from gql_badges.settings import Driver, Settings
from gql_badges.storage.client import Database
from gql_badges.storage.collections import (
    API_CLIENTS,
    BADGE_GROUPS,
    BADGE_META,
    CUSTOMER_BADGES,
    CUSTOMERS,
    Document,
)
from gql_badges.storage.embedded import EmbeddedServer
from tests.support import CUSTOMER, free_port, jwt_token
from tests.support.wire_proxy import CountingProxy

VARIANTS = ("raw", "rest", "graphql-all", "graphql-two")
JWT_SECRET = "bench-secret-" + "x" * 32
CLIENT_KEY = "bench-key"
ROOT = Path(__file__).resolve().parent.parent

# Every field of a badge, constraints through all union members.
ALL_FIELDS = every_item_field(create_schema()._schema, Endpoint.CUSTOMER)
GRAPHQL = """query($id: ID!, $limit: Int) {
  customerBadges(customer: {id: $id}, limit: $limit) {
    badges { %s } pagination { page size total totalPages } } }"""


@dataclass
class Row:
    size: int
    driver: str
    page_size: int
    variant: str
    requests: int = 0
    errors: int = 0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    throughput: float = 0.0
    cpu_ms_per_request: float = 0.0
    round_trips: float = 0.0
    kb_read: float = 0.0
    ratios: dict[str, float] = field(default_factory=dict)


# --- data ---------------------------------------------------------------------------------


async def ensure_data(uri: str, database_name: str, size: int) -> list[int]:
    """Load the data set of `size` records unless it is there already; the customer ids.

    Through the package's own `Database`: its indexes (`ensure_indexes`) and its loader for the
    API client (which stores only hashes). The generated documents themselves go in with plain
    `insert_many`: validating and upserting a million records one by one, in one transaction,
    would take longer than the benchmark.
    """
    ids = data.customer_ids(size)
    settings = Settings(database=database_name, driver=Driver.PYMONGO)
    database = Database(settings, uri, loading=True)
    try:
        records = database.db[CUSTOMER_BADGES]
        if await records.estimated_document_count() == len(ids) * data.RECORDS_PER_CUSTOMER:
            print(f"[data] {database_name}: already loaded", flush=True)
            return ids
        await database.drop()
        started = time.monotonic()
        generated = data.generate(size)
        for collection in (BADGE_META, BADGE_GROUPS, CUSTOMERS, CUSTOMER_BADGES):
            await _insert_batches(database.db[collection], generated[collection])
        problems = await database.ensure_indexes()
        assert not problems, [problem.log_line() for problem in problems]
        client = {"orgId": data.ORG_ID, "username": "bench", "password": "bench",
                  "key": CLIENT_KEY, "secret": "bench-secret", "active": True}  # fmt: skip
        await write_documents(database, validate_documents({API_CLIENTS: [client]}))
        took = time.monotonic() - started
        print(f"[data] {database_name}: loaded {size} records in {took:.0f} s", flush=True)
    finally:
        await database.close()
    return ids


async def _insert_batches(
    collection: Any, documents: Iterable[Document], batch: int = 10_000
) -> None:
    chunk: list[Document] = []
    for document in documents:
        chunk.append(document)
        if len(chunk) == batch:
            await collection.insert_many(chunk, ordered=False)
            chunk = []
    if chunk:
        await collection.insert_many(chunk, ordered=False)


# --- servers ------------------------------------------------------------------------------


class Server:
    """A server under test, run as its own process (so its CPU time is its own)."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.command, self.env, self.log = name, command, env, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, port: int) -> str:
        command = [part.replace("{port}", str(port)) for part in self.command]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT
            )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    return url
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not start; see {self.log}")

    def cpu_seconds(self) -> float:
        assert self.process is not None
        times = psutil.Process(self.process.pid).cpu_times()
        return float(times.user + times.system)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None


def server_env(uri: str, database: str, driver: str, compiled: bool = True) -> dict[str, str]:
    """The environment of a server under test: this one's without gateway or OpenTelemetry
    settings, the database, the benchmark's JWT secret, and limits that suit pages of 1000."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("GQL_BADGES_", "OTEL_"))}
    return inherited | {
        "GQL_BADGES_MONGODB_URI": uri,
        "GQL_BADGES_DATABASE": database,
        "GQL_BADGES_DRIVER": driver,
        "GQL_BADGES_JWT_SECRET": JWT_SECRET,
        "GQL_BADGES_RATE_LIMIT_PER_SECOND": "0",
        "GQL_BADGES_MAX_PAGE_SIZE": "1000",
        # Every field of a page of 1000 costs about 800,000 (the default limit suits 100).
        "GQL_BADGES_GRAPHQL_MAX_COST": "2000000",
        "BENCH_ORG_ID": str(data.ORG_ID),
        # Off: graphql-core's field-by-field execution, to compare with the compiled plans.
        "GQL_BADGES_GRAPHQL_COMPILED": "true" if compiled else "false",
    }


def servers(
    uri: str, database: str, driver: str, log_dir: Path, compiled: bool = True
) -> dict[str, Server]:
    env = server_env(uri, database, driver, compiled)
    gateway = [sys.executable, "-m", "gql_badges.cli", "serve", "--port", "{port}"]
    baseline = [sys.executable, "-m", "uvicorn", "bench.baseline:app", "--port", "{port}"]
    quiet = ["--no-access-log"]
    return {
        "gateway": Server("gateway", gateway + quiet, env, log_dir / f"gateway-{driver}.log"),
        "baseline": Server(
            "baseline",
            [*baseline, "--no-access-log", "--log-level", "warning"],
            env,
            log_dir / f"baseline-{driver}.log",
        ),
    }


# --- requests -----------------------------------------------------------------------------


def token() -> str:
    """A day's access token of the benchmark's client."""
    return jwt_token(data.ORG_ID, CLIENT_KEY, secret=JWT_SECRET, ttl=86_400)


def build_request(
    client: httpx.AsyncClient, urls: dict[str, str], variant: str, customer: int, page_size: int
) -> httpx.Request:
    if variant == "raw":
        return client.build_request("GET", f"{urls['baseline']}/raw/{customer}?limit={page_size}")
    gateway = urls["gateway"]
    if variant == "rest":
        url = f"{gateway}{CUSTOMER}{customer}?limit={page_size}"
        return client.build_request("GET", url)
    fields = ALL_FIELDS if variant == "graphql-all" else "badgeMetaId name"
    body = {"query": GRAPHQL % fields, "variables": {"id": str(customer), "limit": page_size}}
    return client.build_request("POST", f"{gateway}/graphql", json=body)


async def timed(
    client: httpx.AsyncClient, requests: list[httpx.Request], concurrency: int
) -> tuple[list[float], int, float]:
    """Latencies (s) of every request, the number that failed, and the wall time."""
    queue = list(reversed(requests))
    latencies: list[float] = []
    errors = 0

    async def worker() -> None:
        nonlocal errors
        while queue:
            request = queue.pop()
            started = time.perf_counter()
            response = await client.send(request)
            latencies.append(time.perf_counter() - started)
            body = response.json()
            if response.status_code != 200 or body.get("errors"):
                errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, errors, time.perf_counter() - started


# --- the run ------------------------------------------------------------------------------


async def measure_driver(
    args: argparse.Namespace, uri: str, database: str, size: int, driver: str, ids: list[int]
) -> list[Row]:
    rng = random.Random(size)
    rows = {
        (page, variant): Row(size, driver, page, variant)
        for page in args.page_sizes
        for variant in VARIANTS
    }
    headers = {"X-CAP-API-OAUTH-TOKEN": token()}
    limits = httpx.Limits(max_connections=args.concurrency * 2)
    async with httpx.AsyncClient(headers=headers, timeout=60, limits=limits) as client:
        running = servers(uri, database, driver, args.log_dir, not args.no_compiled)
        try:
            urls = {name: server.start(free_port()) for name, server in running.items()}
            for page in args.page_sizes:
                for variant in VARIANTS:
                    server = running["baseline" if variant == "raw" else "gateway"]
                    batch = [
                        build_request(client, urls, variant, rng.choice(ids), page)
                        for _ in range(args.requests + args.warmup)
                    ]
                    await timed(client, batch[: args.warmup], args.concurrency)
                    cpu = server.cpu_seconds()
                    latencies, errors, wall = await timed(
                        client, batch[args.warmup :], args.concurrency
                    )
                    cpu = server.cpu_seconds() - cpu
                    row = rows[(page, variant)]
                    row.requests, row.errors = len(latencies), errors
                    row.p50_ms = statistics.median(latencies) * 1000
                    row.p99_ms = statistics.quantiles(latencies, n=100)[98] * 1000
                    row.throughput = len(latencies) / wall
                    row.cpu_ms_per_request = cpu / len(latencies) * 1000
                    print(f"[timed] {size} {driver} page {page} {variant}: "
                          f"p50 {row.p50_ms:.1f} ms", flush=True)  # fmt: skip
        finally:
            for server in running.values():
                server.stop()

        proxy = await CountingProxy(uri).start()
        running = servers(proxy.uri, database, driver, args.log_dir, not args.no_compiled)
        try:
            urls = {name: server.start(free_port()) for name, server in running.items()}
            for page in args.page_sizes:
                for variant in VARIANTS:
                    counts = []
                    for n in range(args.accounting + 1):
                        request = build_request(client, urls, variant, rng.choice(ids), page)
                        proxy.reset()
                        response = await client.send(request)
                        assert response.status_code == 200, response.text[:300]
                        await asyncio.sleep(0.01)  # let the proxy forward the last bytes
                        if n:  # the first request warms caches (auth)
                            counts.append(proxy.reset())
                    row = rows[(page, variant)]
                    row.round_trips = statistics.mean(c.round_trips for c in counts)
                    row.kb_read = statistics.mean(c.bytes_read for c in counts) / 1024
        finally:
            for server in running.values():
                server.stop()
            await proxy.stop()
    for (page, _), row in rows.items():
        base = rows[(page, "raw")]
        row.ratios = {
            "p50": row.p50_ms / base.p50_ms,
            "cpu": row.cpu_ms_per_request / base.cpu_ms_per_request,
            "kb_read": row.kb_read / base.kb_read if base.kb_read else 0.0,
        }
    return list(rows.values())


def print_table(rows: list[Row]) -> None:
    header = (
        f"{'records':>8} {'driver':>7} {'page':>5} {'variant':<12} {'p50 ms':>8} {'p99 ms':>8}"
        f" {'req/s':>7} {'CPU ms':>7} {'trips':>5} {'KB read':>8} {'p50 x':>6} {'CPU x':>6}"
        f" {'KB x':>5} {'err':>4}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r.size:>8} {r.driver:>7} {r.page_size:>5} {r.variant:<12} {r.p50_ms:>8.2f}"
            f" {r.p99_ms:>8.2f} {r.throughput:>7.1f} {r.cpu_ms_per_request:>7.2f}"
            f" {r.round_trips:>5.1f} {r.kb_read:>8.1f} {r.ratios['p50']:>6.2f}"
            f" {r.ratios['cpu']:>6.2f} {r.ratios['kb_read']:>5.2f} {r.errors:>4}"
        )


def targets(rows: list[Row]) -> list[dict[str, Any]]:
    """The performance targets (baseline ratios, round trips, growth), each with its figure."""
    out: list[dict[str, Any]] = []

    def check(name: str, value: float, limit: float) -> None:
        out.append({"target": name, "value": round(value, 3), "limit": limit,
                    "met": value <= limit})  # fmt: skip

    by = {(r.size, r.driver, r.page_size, r.variant): r for r in rows}
    sizes = sorted({r.size for r in rows})
    for (size, driver, page, variant), r in sorted(by.items()):
        tag = f"{size} {driver} page {page}"
        if variant == "rest":
            check(f"REST p50 x ({tag})", r.ratios["p50"], 1.2)
            check(f"REST CPU x ({tag})", r.ratios["cpu"], 1.5)
        if variant == "graphql-all" and page == 10:
            check(f"GraphQL all p50 x ({tag})", r.ratios["p50"], 1.5)
            check(f"GraphQL all CPU x ({tag})", r.ratios["cpu"], 2.0)
        if variant == "graphql-all":
            rest = by[(size, driver, page, "rest")].cpu_ms_per_request
            if page in (100, 1000):
                check(f"GraphQL all CPU / REST CPU ({tag})", r.cpu_ms_per_request / rest, 1.3)
            if page == 10:
                check(f"GraphQL all CPU x, compiled ({tag})", r.ratios["cpu"], 1.5)
        if variant == "graphql-two":
            rest = by[(size, driver, page, "rest")].cpu_ms_per_request
            check(f"GraphQL two CPU / REST CPU ({tag})", r.cpu_ms_per_request / rest, 0.6)
            every = by[(size, driver, page, "graphql-all")].kb_read
            share = r.kb_read / every if every else float("inf")
            check(f"GraphQL two/all KB read ({tag})", share, 0.25)
        if variant != "raw":
            check(f"round trips ({tag} {variant})", r.round_trips, 3)
        check(f"failed requests ({tag} {variant})", r.errors, 0)
    if len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        for (size, driver, page, variant), r in sorted(by.items()):
            if size == large and (small, driver, page, variant) in by:
                growth = r.p50_ms / by[(small, driver, page, variant)].p50_ms
                check(f"p50 {small}->{large} ({driver} page {page} {variant})", growth, 1.3)
    return out


def parse_size(text: str) -> int:
    """A number of records as the options write it: 10k, 1m, 2500."""
    text = text.strip().lower()
    multiplier = {"k": 1_000, "m": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("km")) * multiplier)


def database_uri(data_dir: Path) -> tuple[str, EmbeddedServer | None]:
    """GQL_BADGES_MONGODB_URI, or an embedded server's with its files in `data_dir` (started
    here, returned so that the caller stops it)."""
    uri = os.environ.get("GQL_BADGES_MONGODB_URI")
    if uri:
        return uri, None
    embedded = EmbeddedServer(data_dir)
    uri = embedded.start()
    print(f"[db] embedded SecantusDB at {uri}, files in {data_dir}", flush=True)
    return uri, embedded


async def main_async(args: argparse.Namespace) -> int:
    args.log_dir.mkdir(parents=True, exist_ok=True)
    uri, embedded = database_uri(args.data_dir)
    rows: list[Row] = []
    try:
        for size in args.sizes:
            database = f"bench_{size}"
            ids = await ensure_data(uri, database, size)
            for driver in args.drivers:
                rows += await measure_driver(args, uri, database, size, driver, ids)
    finally:
        if embedded is not None:
            embedded.stop()
    print()
    print_table(rows)
    results = targets(rows)
    print()
    for result in results:
        mark = "met " if result["met"] else "MISS"
        print(f"  [{mark}] {result['target']}: {result['value']} (<= {result['limit']})")
    if args.json:
        settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
        document = {"settings": settings, "rows": [asdict(r) for r in rows], "targets": results}
        args.json.write_text(json.dumps(document, indent=1))
    if args.chart:
        from bench.chart import draw

        document = {"rows": [asdict(r) for r in rows]}
        print(f"chart: {draw(document, args.chart)}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sizes", default="10k,1m", help="customer_badges records, e.g. 10k,1m")
    parser.add_argument("--page-sizes", default="10,100,1000")
    parser.add_argument("--drivers", default="motor,pymongo")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per cell")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--accounting", type=int, default=5, help="requests through the proxy")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--no-compiled",
        action="store_true",
        help="run GraphQL through graphql-core only (GQL_BADGES_GRAPHQL_COMPILED=false)",
    )
    parser.add_argument("--chart", type=Path, help="also draw the ratios to the baseline (PNG)")
    parser.add_argument(
        "--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "gql-badges-bench"
    )
    parser.add_argument(
        "--log-dir", type=Path, default=Path(tempfile.gettempdir()) / "gql-badges-bench-logs"
    )
    args = parser.parse_args()
    args.sizes = [parse_size(s) for s in args.sizes.split(",")]
    args.page_sizes = [int(p) for p in args.page_sizes.split(",")]
    args.drivers = args.drivers.split(",")
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    raise SystemExit(main())
