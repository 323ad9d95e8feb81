"""Run the benchmark: `python -m bench.run` (options: `--help`; figures: bench/README.md).

For each data shape (bench/data.py: `large` and `small` items), data size, source tree and
driver it starts two servers as separate processes, the gateway (`gql-badges serve`) and the
raw baseline (`bench/baseline.py`), and measures four request kinds for each page size, in
the same run:

  raw           the baseline: the same MongoDB queries, documents returned as JSON
  rest          GET /api_gateway/v1/badges/customer/{id}?limit=N
  graphql-all   customerBadges with every field of a badge
  graphql-two   customerBadges { badges { badgeMetaId name } }

and, asked for with `--variants`:

  graphql-rest  customerBadges with the fields the REST URI answers too: every field but
                `group` and `badgeStatus` (same content as REST, as GraphQL writes it)

Requests ask for no compression (as the baseline answers); what compressing each answer would
add is a column of its own: the CPU of the gateway's `compress` at its levels on that answer,
measured in this process (`bench.compression` sweeps the levels), and the ratio it buys.

Latency (p50, p99) and throughput come from a timed pass with concurrent clients, in blocks of
`--block` requests to one server, the blocks of every variant (and tree) interleaved; CPU per
request is the hit server process's CPU time (its kernel CPU clock, in nanoseconds, on Linux)
summed around its blocks, divided by its requests. Round trips and bytes read from MongoDB per
request come from a second, sequential pass through a counting proxy
(tests/support/wire_proxy.py), so the proxy never slows the timed pass.

`--trees before=DIR,after=.` runs both servers from each source tree (e.g. a `git archive` of an
earlier commit), every tree's at once, its blocks interleaved with the other trees' in an order
that rotates each round, so a change is measured before and after in one run under the same
noise. Each tree has its ratios to its own baseline, and every tree after the first its ratios
(p50, CPU) to the first's same cell. `--load-clients N` adds a mixed-load row per shape and
tree (one tree after the other): N concurrent clients sending REST (both URIs) and GraphQL
(every field or two) for `--load-seconds`, with throughput, latency and the gateway's CPU.
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
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psutil

from bench import data, numbers, run_interruptible
from gql_badges.badges.items import Endpoint
from gql_badges.graphql._internals import graphql_schema
from gql_badges.graphql.schema import create_schema
from gql_badges.graphql.selection import every_item_field
from gql_badges.http.compression import BROTLI, GZIP, MINIMUM_SIZE, compress
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
from tests.support import CUSTOMER, MANAGEMENT, free_port, jwt_token
from tests.support.wire_proxy import CountingProxy

VARIANTS = ("raw", "rest", "graphql-all", "graphql-two")
MORE_VARIANTS = ("graphql-rest",)
JWT_SECRET = "bench-secret-" + "x" * 32
CLIENT_KEY = "bench-key"
ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")

# Every field of a badge, constraints through all union members.
ALL_FIELDS = every_item_field(graphql_schema(create_schema()), Endpoint.CUSTOMER)
# The fields of the REST answer: what GraphQL costs for the same content.
REST_FIELDS = every_item_field(graphql_schema(create_schema()), Endpoint.CUSTOMER, in_rest=True)
FIELDS = {"graphql-all": ALL_FIELDS, "graphql-rest": REST_FIELDS, "graphql-two": "badgeMetaId name"}
GRAPHQL = """query($id: ID!, $limit: Int) {
  customerBadges(customer: {id: $id}, limit: $limit) {
    badges { %s } pagination { page size total totalPages } } }"""


@dataclass
class Row:
    shape: str
    tree: str
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
    # The answer's own size, and what compressing it costs the gateway (CPU ms of its `compress`
    # at the levels it uses, measured in this process) and saves (uncompressed / compressed).
    kb_sent: float = 0.0
    br_cpu_ms: float = 0.0
    br_ratio: float = 0.0
    gzip_cpu_ms: float = 0.0
    gzip_ratio: float = 0.0
    ratios: dict[str, float] = field(default_factory=dict)
    # p50 and CPU against the same cell of the first tree named ("before"); none in that tree.
    tree_ratios: dict[str, float] = field(default_factory=dict)


@dataclass
class LoadRow:
    """Many clients at once, mixed requests: what the gateway and its database sustain."""

    shape: str
    tree: str
    size: int
    driver: str
    clients: int
    seconds: float
    requests: int = 0
    errors: int = 0
    throughput: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    cpu_ms_per_request: float = 0.0
    failures: dict[str, int] = field(default_factory=dict)  # by HTTP status or error


# --- data ---------------------------------------------------------------------------------


async def ensure_data(uri: str, database_name: str, size: int, shape: data.Shape) -> list[int]:
    """Load the data set of `size` records unless it is there already; the customer ids.

    Through the package's own `Database`: its indexes (`ensure_indexes`) and its loader for the
    API client (which stores only hashes). The generated documents themselves go in with plain
    `insert_many`: validating and upserting a million records one by one, in one transaction,
    would take longer than the benchmark.
    """
    ids = data.customer_ids(size, shape)
    settings = Settings(database=database_name, driver=Driver.PYMONGO)
    database = Database(settings, uri, loading=True)
    try:
        records = database.db[CUSTOMER_BADGES]
        if await records.estimated_document_count() == len(ids) * shape.records_per_customer:
            print(f"[data] {database_name}: already loaded", flush=True)
            return ids
        await database.drop()
        started = time.monotonic()
        generated = data.generate(size, shape)
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

    def __init__(
        self, name: str, command: list[str], env: dict[str, str], log: Path, tree: Path = ROOT
    ) -> None:
        self.name, self.command, self.env, self.log = name, command, env, log
        # The source tree it runs from: its directory comes first on the module path.
        self.tree = tree
        self.env = env | {"PYTHONPATH": str(tree)}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, port: int) -> str:
        command = [part.replace("{port}", str(port)) for part in self.command]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=self.tree
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
        """The process's CPU time so far, every thread's (ended ones too), in seconds."""
        assert self.process is not None
        return process_cpu_seconds(self.process.pid)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None


def process_cpu_seconds(pid: int) -> float:
    """The CPU time of process `pid`, from the kernel's CPU clock of that process on Linux
    (nanoseconds), else its user+system time (clock ticks: 10 ms steps, too coarse for a few
    requests).

    The clock is the one `clock_getcpuclockid(pid)` names (Linux encodes it as
    `~pid << 3 | CPUCLOCK_SCHED`): all the process's threads, those that ended included. Summing
    `/proc/PID/task/*/schedstat` is as precise but forgets the threads that ended, so a thread
    pool shrinking during a block would make its CPU negative.
    """
    if sys.platform == "linux":
        try:
            return time.clock_gettime_ns((~pid << 3) | 2) / 1e9
        except OSError:
            pass
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


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
        # On a shared machine the embedded database can take longer than the default 5 s for
        # a page of 1000: measure it, instead of answering 503.
        "GQL_BADGES_DB_TIMEOUT_MS": "120000",
        "GQL_BADGES_MAX_PAGE_SIZE": "1000",
        # Every field of a page of 1000 costs about 800,000 (the default limit suits 100).
        "GQL_BADGES_GRAPHQL_MAX_COST": "2000000",
        "BENCH_ORG_ID": str(data.ORG_ID),
        # Off: graphql-core's field-by-field execution, to compare with the compiled plans.
        "GQL_BADGES_GRAPHQL_COMPILED": "true" if compiled else "false",
    }


def servers(
    uri: str, database: str, driver: str, log_dir: Path, compiled: bool = True, tree: Path = ROOT
) -> dict[str, Server]:
    env = server_env(uri, database, driver, compiled)
    gateway = [sys.executable, "-m", "gql_badges.cli", "serve", "--port", "{port}"]
    baseline = [sys.executable, "-m", "uvicorn", "bench.baseline:app", "--port", "{port}"]
    quiet = ["--no-access-log"]
    return {
        "gateway": Server("gateway", gateway + quiet, env, log_dir / f"gateway-{driver}.log", tree),
        "baseline": Server(
            "baseline",
            [*baseline, "--no-access-log", "--log-level", "warning"],
            env,
            log_dir / f"baseline-{driver}.log",
            tree,
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
    body = {
        "query": GRAPHQL % FIELDS[variant],
        "variables": {"id": str(customer), "limit": page_size},
    }
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
            try:
                response = await client.send(request)
                failed = response.status_code != 200 or bool(response.json().get("errors"))
            except httpx.TransportError:
                failed = True
            latencies.append(time.perf_counter() - started)
            errors += failed

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, errors, time.perf_counter() - started


# --- the run ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What one pass measures: a data set (shape, size, its database), a tree and a driver."""

    shape: str
    size: int
    database: str
    ids: list[int]
    tree: str
    tree_path: Path
    driver: str

    def servers(self, args: argparse.Namespace, uri: str) -> dict[str, Server]:
        compiled = not args.no_compiled
        return servers(uri, self.database, self.driver, args.log_dir, compiled, self.tree_path)


def rotated(items: Sequence[T], by: int) -> list[T]:
    """`items` starting from its `by`-th (round after round, each item comes first in turn)."""
    by %= len(items)
    return [*items[by:], *items[:by]]


async def measure(args: argparse.Namespace, uri: str, trees: list[Target]) -> list[Row]:
    """Every tree's rows for one data set and driver: the timed pass of all trees at once, then
    each tree's accounting pass.

    The timed pass starts every tree's servers together and interleaves the requests in blocks
    of `--block`: per round, for each tree (in an order that rotates with the round), for each
    variant (rotating too), one block. A noisy moment of the machine then falls on every tree
    and variant alike, so ratios between trees mean what ratios within a tree do (measured one
    tree after the other, the tree measured second served the same code for a quarter less
    CPU). CPU is the hit server's own, taken around its block only.
    """
    first = trees[0]
    size, driver, ids = first.size, first.driver, first.ids
    rng = random.Random(size)
    rows = {
        (target.tree, page, variant): Row(target.shape, target.tree, size, driver, page, variant)
        for target in trees
        for page in args.page_sizes
        for variant in args.variants
    }
    # Identity, as the baseline answers: the passes measure the gateway without compression, and
    # its cost is a column of its own (`compression_columns`).
    headers = {"X-CAP-API-OAUTH-TOKEN": token(), "Accept-Encoding": "identity"}
    # Idle connections dropped by the client well before uvicorn's keep-alive (5 s) closes
    # them: a connection reused as the server closes it fails the request.
    limits = httpx.Limits(max_connections=args.concurrency * 2 * len(trees), keepalive_expiry=2)
    async with httpx.AsyncClient(headers=headers, timeout=60, limits=limits) as client:
        running = {target.tree: target.servers(args, uri) for target in trees}
        try:
            urls = {
                tree: {name: server.start(free_port()) for name, server in pair.items()}
                for tree, pair in running.items()
            }
            for page in args.page_sizes:
                await timed_pass(args, client, running, urls, rows, page, rng, ids)
        finally:
            for pair in running.values():
                for server in pair.values():
                    server.stop()

        for target in trees:
            await accounting_pass(args, uri, client, target, rows, rng)
    for (tree, page, _), row in rows.items():
        base = rows[(tree, page, "raw")]
        row.ratios = {
            "p50": row.p50_ms / base.p50_ms,
            "cpu": row.cpu_ms_per_request / base.cpu_ms_per_request,
            "kb_read": row.kb_read / base.kb_read if base.kb_read else 0.0,
        }
        before = rows[(first.tree, page, row.variant)]
        if tree != first.tree:
            row.tree_ratios = {
                "p50": row.p50_ms / before.p50_ms,
                "cpu": row.cpu_ms_per_request / before.cpu_ms_per_request,
            }
    return list(rows.values())


async def timed_pass(
    args: argparse.Namespace,
    client: httpx.AsyncClient,
    running: dict[str, dict[str, Server]],
    urls: dict[str, dict[str, str]],
    rows: dict[tuple[str, int, str], Row],
    page: int,
    rng: random.Random,
    ids: list[int],
) -> None:
    """One page size, every tree and variant, interleaved in blocks (see `measure`)."""
    trees = list(running)
    # The same customers, in the same order, for every tree.
    variants = args.variants
    customers = {variant: [rng.choice(ids) for _ in range(args.requests)] for variant in variants}
    for tree in trees:
        for variant in variants:
            warm = [
                build_request(client, urls[tree], variant, rng.choice(ids), page)
                for _ in range(args.warmup)
            ]
            await timed(client, warm, args.concurrency)
    latencies: dict[tuple[str, str], list[float]] = {(t, v): [] for t in trees for v in variants}
    cpu = dict.fromkeys(latencies, 0.0)
    wall = dict.fromkeys(latencies, 0.0)
    errors = dict.fromkeys(latencies, 0)
    # Small blocks (by default as many requests as run at once, at least 2), so that even a few
    # requests a cell make several rounds.
    block_size = args.block or max(2, args.concurrency)
    last_used: dict[Server, float] = {}
    for round_, start in enumerate(range(0, args.requests, block_size)):
        for tree in rotated(trees, round_):
            for variant in rotated(variants, round_):
                server = running[tree]["baseline" if variant == "raw" else "gateway"]
                customers_of_block = customers[variant][start : start + block_size]
                block = [
                    build_request(client, urls[tree], variant, customer, page)
                    for customer in customers_of_block
                ]
                if time.monotonic() - last_used.get(server, 0.0) > 1.5:
                    # Untimed: the client drops idle connections after 2 s; open them again
                    # outside the block, so that no block pays for connecting.
                    reopen = [
                        build_request(client, urls[tree], variant, customer, page)
                        for customer in customers_of_block[: args.concurrency]
                    ]
                    await timed(client, reopen, args.concurrency)
                before = server.cpu_seconds()
                took, failed, seconds = await timed(client, block, args.concurrency)
                cpu[(tree, variant)] += server.cpu_seconds() - before
                latencies[(tree, variant)] += took
                wall[(tree, variant)] += seconds
                errors[(tree, variant)] += failed
                last_used[server] = time.monotonic()
    for (tree, variant), took in latencies.items():
        row = rows[(tree, page, variant)]
        row.requests, row.errors = len(took), errors[(tree, variant)]
        row.p50_ms = statistics.median(took) * 1000
        row.p99_ms = statistics.quantiles(took, n=100)[98] * 1000
        row.throughput = len(took) / wall[(tree, variant)]
        row.cpu_ms_per_request = cpu[(tree, variant)] / len(took) * 1000
        cell = f"{row.shape} {tree} {row.size} {row.driver} page {page} {variant}"
        figures = f"p50 {row.p50_ms:.1f} ms, CPU {row.cpu_ms_per_request:.2f} ms"
        print(f"[timed] {cell}: {figures}", flush=True)


async def accounting_pass(
    args: argparse.Namespace,
    uri: str,
    client: httpx.AsyncClient,
    target: Target,
    rows: dict[tuple[str, int, str], Row],
    rng: random.Random,
) -> None:
    """Round trips and bytes read per request, through the counting proxy, one tree's servers
    at a time (sequential requests: the counts do not depend on the machine's noise)."""
    proxy = await CountingProxy(uri).start()
    running = target.servers(args, proxy.uri)
    try:
        urls = {name: server.start(free_port()) for name, server in running.items()}
        for page in args.page_sizes:
            for variant in args.variants:
                counts = []
                for n in range(args.accounting + 1):
                    request = build_request(client, urls, variant, rng.choice(target.ids), page)
                    proxy.reset()
                    response = await client.send(request)
                    assert response.status_code == 200, response.text[:300]
                    await asyncio.sleep(0.01)  # let the proxy forward the last bytes
                    if n:  # the first request warms caches (auth)
                        counts.append(proxy.reset())
                row = rows[(target.tree, page, variant)]
                compression_columns(row, response.content)
                row.round_trips = statistics.mean(c.round_trips for c in counts)
                row.kb_read = statistics.mean(c.bytes_read for c in counts) / 1024
    finally:
        for server in running.values():
            server.stop()
        await proxy.stop()


def cpu_ms(body: bytes, encoding: str, level: int | None = None, seconds: float = 0.25) -> float:
    """CPU milliseconds to compress `body` once (the mean over repetitions)."""
    compress(body, encoding, level)  # warm: allocations, first-use costs
    rounds, started = 0, time.process_time()
    while (spent := time.process_time() - started) < seconds or rounds < 3:
        compress(body, encoding, level)
        rounds += 1
    return spent / rounds * 1000


def compression_columns(row: Row, body: bytes) -> None:
    """What the gateway's compression would add to this answer, at its own levels."""
    row.kb_sent = len(body) / 1024
    if len(body) < MINIMUM_SIZE:
        return  # sent as it is
    row.br_cpu_ms = cpu_ms(body, BROTLI)
    row.br_ratio = len(body) / len(compress(body, BROTLI))
    row.gzip_cpu_ms = cpu_ms(body, GZIP)
    row.gzip_ratio = len(body) / len(compress(body, GZIP))


def print_table(rows: list[Row]) -> None:
    header = (
        f"{'shape':<5} {'tree':<7} {'records':>8} {'driver':>7} {'page':>5} {'variant':<12}"
        f" {'p50 ms':>8} {'p99 ms':>8} {'req/s':>7} {'CPU ms':>7} {'trips':>5} {'KB read':>8}"
        f" {'p50 x':>6} {'CPU x':>6} {'KB x':>5} {'err':>4} {'KB sent':>8} {'br ms':>6}"
        f" {'br x':>5} {'gz ms':>6} {'gz x':>5} {'p50 /1st':>8} {'CPU /1st':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        # Against the same cell of the first tree named; blank in that tree.
        between = "".join(f" {r.tree_ratios[key]:>8.2f}" for key in ("p50", "cpu") if r.tree_ratios)
        print(
            f"{r.shape:<5} {r.tree:<7} {r.size:>8} {r.driver:>7} {r.page_size:>5}"
            f" {r.variant:<12} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} {r.throughput:>7.1f}"
            f" {r.cpu_ms_per_request:>7.2f} {r.round_trips:>5.1f} {r.kb_read:>8.1f}"
            f" {r.ratios['p50']:>6.2f} {r.ratios['cpu']:>6.2f} {r.ratios['kb_read']:>5.2f}"
            f" {r.errors:>4} {r.kb_sent:>8.1f} {r.br_cpu_ms:>6.2f} {r.br_ratio:>5.1f}"
            f" {r.gzip_cpu_ms:>6.2f} {r.gzip_ratio:>5.1f}{between}"
        )


def print_load(rows: list[LoadRow]) -> None:
    header = (
        f"{'shape':<5} {'tree':<7} {'records':>8} {'driver':>7} {'clients':>7} {'seconds':>7}"
        f" {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms':>7} {'err':>4}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r.shape:<5} {r.tree:<7} {r.size:>8} {r.driver:>7} {r.clients:>7}"
            f" {r.seconds:>7.0f} {r.requests:>8} {r.throughput:>7.1f} {r.p50_ms:>8.1f}"
            f" {r.p99_ms:>8.1f} {r.cpu_ms_per_request:>7.2f} {r.errors:>4}"
        )


def targets(rows: list[Row]) -> list[dict[str, Any]]:
    """The performance targets (baseline ratios, round trips, growth), each with its figure."""
    out: list[dict[str, Any]] = []

    def check(name: str, value: float, limit: float) -> None:
        out.append({"target": name, "value": round(value, 3), "limit": limit,
                    "met": value <= limit})  # fmt: skip

    by = {(r.shape, r.tree, r.size, r.driver, r.page_size, r.variant): r for r in rows}
    for (shape, tree, size, driver, page, variant), r in sorted(by.items()):
        tag = f"{shape} {tree} {size} {driver} page {page}"
        rest = by[(shape, tree, size, driver, page, "rest")].cpu_ms_per_request
        if variant == "rest":
            check(f"REST p50 x ({tag})", r.ratios["p50"], 1.2)
            check(f"REST CPU x ({tag})", r.ratios["cpu"], 1.5)
        if variant == "graphql-all" and page == 10:
            check(f"GraphQL all p50 x ({tag})", r.ratios["p50"], 1.5)
            check(f"GraphQL all CPU x ({tag})", r.ratios["cpu"], 1.5)
        if variant == "graphql-all" and page in (100, 1000):
            check(f"GraphQL all CPU / REST CPU ({tag})", r.cpu_ms_per_request / rest, 1.2)
        if variant == "graphql-rest" and page in (100, 1000):
            check(f"GraphQL REST's fields CPU / REST CPU ({tag})", r.cpu_ms_per_request / rest, 1.2)
        if variant == "graphql-two":
            check(f"GraphQL two CPU / REST CPU ({tag})", r.cpu_ms_per_request / rest, 0.6)
            every = by.get((shape, tree, size, driver, page, "graphql-all"))
            if every is not None:
                share = r.kb_read / every.kb_read if every.kb_read else float("inf")
                check(f"GraphQL two/all KB read ({tag})", share, 0.25)
        if variant != "raw":
            check(f"round trips ({tag} {variant})", r.round_trips, 3)
        check(f"failed requests ({tag} {variant})", r.errors, 0)
    # Across trees: the first tree named is "before"; REST no slower in the later ones.
    trees = list(dict.fromkeys(r.tree for r in rows))
    for (shape, tree, size, driver, page, variant), r in sorted(by.items()):
        if variant == "rest" and r.tree_ratios:
            tag = f"{shape} {size} {driver} page {page}"
            check(f"REST CPU {tree} / {trees[0]} ({tag})", r.tree_ratios["cpu"], 1.0)
    # Growth with the data: the same cell on the smallest and the largest data set.
    sizes = sorted({r.size for r in rows})
    if len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        for (shape, tree, size, driver, page, variant), r in sorted(by.items()):
            smaller = by.get((shape, tree, small, driver, page, variant))
            if size == large and smaller is not None:
                growth = r.p50_ms / smaller.p50_ms
                check(f"p50 {small}->{large} ({shape} {tree} {driver} page {page} {variant})",
                      growth, 1.3)  # fmt: skip
    return out


# --- mixed load ---------------------------------------------------------------------------


def mixed_request(
    client: httpx.AsyncClient, url: str, customer: int, rng: random.Random
) -> httpx.Request:
    """One request of the mix: REST customer and management URIs, GraphQL every field or two,
    at pages of 10 or 100."""
    kind, limit = rng.random(), rng.choice((10, 10, 100))
    if kind < 0.35:
        return client.build_request("GET", f"{url}{CUSTOMER}{customer}?limit={limit}")
    if kind < 0.5:
        path = f"{MANAGEMENT}{customer}?size={limit}&sortOn=LAST_MODIFIED_DATE"
        return client.build_request("GET", f"{url}{path}")
    fields = ALL_FIELDS if kind < 0.75 else "badgeMetaId name"
    body = {"query": GRAPHQL % fields, "variables": {"id": str(customer), "limit": limit}}
    return client.build_request("POST", f"{url}/graphql", json=body)


async def mixed_load(args: argparse.Namespace, uri: str, target: Target) -> LoadRow:
    """`--load-clients` clients, each sending one mixed request after another, for
    `--load-seconds`: what the gateway and the database answer together."""
    row = LoadRow(target.shape, target.tree, target.size, target.driver,
                  args.load_clients, args.load_seconds)  # fmt: skip
    gateway = target.servers(args, uri)["gateway"]
    latencies: list[float] = []
    headers = {"X-CAP-API-OAUTH-TOKEN": token()}
    limits = httpx.Limits(max_connections=args.load_clients + 5, keepalive_expiry=2)
    async with httpx.AsyncClient(headers=headers, timeout=120, limits=limits) as client:
        url = gateway.start(free_port())
        try:
            await client.send(mixed_request(client, url, target.ids[0], random.Random(0)))
            deadline = time.perf_counter() + args.load_seconds

            async def one_client(seed: int) -> None:
                rng = random.Random(seed)
                while time.perf_counter() < deadline:
                    request = mixed_request(client, url, rng.choice(target.ids), rng)
                    started = time.perf_counter()
                    try:
                        response = await client.send(request)
                        body = response.json()
                        failed = response.status_code != 200 or bool(body.get("errors"))
                        status = response.status_code
                        outcome = (
                            "" if not failed else f"HTTP {status}" if status != 200 else "errors"
                        )
                    except httpx.HTTPError as error:
                        outcome = type(error).__name__
                    latencies.append(time.perf_counter() - started)
                    if outcome:
                        row.errors += 1
                        row.failures[outcome] = row.failures.get(outcome, 0) + 1

            cpu, started = gateway.cpu_seconds(), time.perf_counter()
            await asyncio.gather(*(one_client(n) for n in range(args.load_clients)))
            wall, cpu = time.perf_counter() - started, gateway.cpu_seconds() - cpu
        finally:
            gateway.stop()
    row.requests = len(latencies)
    row.throughput = len(latencies) / wall
    row.p50_ms = statistics.median(latencies) * 1000
    row.p99_ms = statistics.quantiles(latencies, n=100)[98] * 1000
    row.cpu_ms_per_request = cpu / len(latencies) * 1000
    print(f"[load] {target.shape} {target.tree} {target.driver}: {row.throughput:.1f} req/s, "
          f"p50 {row.p50_ms:.0f} ms, errors {row.failures}", flush=True)  # fmt: skip
    return row


def parse_variants(text: str) -> tuple[str, ...]:
    """The request kinds `--variants` names, in the usual order; raw and rest always (every
    ratio is to one of them)."""
    named = {name.strip() for name in text.split(",") if name.strip()}
    unknown = named - {*VARIANTS, *MORE_VARIANTS}
    if unknown:
        raise SystemExit(f"unknown variants: {', '.join(sorted(unknown))}")
    return tuple(v for v in VARIANTS + MORE_VARIANTS if v in named | {"raw", "rest"})


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
    loads: list[LoadRow] = []
    print(f"[machine] load average {os.getloadavg()}", flush=True)
    try:
        for shape in args.shapes:
            for size in args.sizes:
                database = f"bench_{shape.name}_{size}"
                ids = await ensure_data(uri, database, size, shape)
                for driver in args.drivers:
                    trees = [
                        Target(shape.name, size, database, ids, tree, path, driver)
                        for tree, path in args.trees.items()
                    ]
                    if args.requests:
                        rows += await measure(args, uri, trees)
                    if args.load_clients:
                        for target in trees:
                            loads.append(await mixed_load(args, uri, target))
    finally:
        if embedded is not None:
            embedded.stop()
    print(f"[machine] load average {os.getloadavg()}", flush=True)
    results = targets(rows)
    if rows:
        print()
        print_table(rows)
        print()
        for result in results:
            mark = "met " if result["met"] else "MISS"
            print(f"  [{mark}] {result['target']}: {result['value']} (<= {result['limit']})")
    if loads:
        print()
        print_load(loads)
    if args.json:
        settings = {k: str(v) for k, v in vars(args).items()}
        document = {"settings": settings, "rows": [asdict(r) for r in rows],
                    "load": [asdict(r) for r in loads], "targets": results}  # fmt: skip
        args.json.write_text(json.dumps(document, indent=1))
    if args.chart:
        from bench.chart import draw

        document = {"rows": [asdict(r) for r in rows]}
        print(f"chart: {draw(document, args.chart)}")
    return 0


def parse_trees(text: str) -> dict[str, Path]:
    """`label=DIR,...` (a bare DIR is labelled by its name); default: this tree, "current"."""
    trees: dict[str, Path] = {}
    for part in text.split(","):
        label, _, path = part.rpartition("=")
        directory = Path(path).resolve()
        trees[label or directory.name] = directory
    return trees


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sizes", default="10k,1m", help="customer_badges records, e.g. 10k,1m")
    parser.add_argument("--shapes", default="large,small", help="data shapes (bench/data.py)")
    parser.add_argument(
        "--trees", default=f"current={ROOT}", help="label=DIR,...: source trees to run servers from"
    )
    parser.add_argument("--load-clients", type=int, default=0, help="mixed-load clients (0: none)")
    parser.add_argument("--load-seconds", type=float, default=30)
    parser.add_argument("--page-sizes", default="10,100,1000", type=numbers)
    parser.add_argument("--drivers", default="motor,pymongo")
    parser.add_argument(
        "--requests", type=int, default=200, help="timed requests per cell (0: load row only)"
    )
    parser.add_argument(
        "--block",
        type=int,
        default=0,
        help="timed requests in a row to one server, interleaved (0: --concurrency, at least 2)",
    )
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--accounting", type=int, default=5, help="requests through the proxy")
    parser.add_argument(
        "--variants",
        default=",".join(VARIANTS),
        help=f"request kinds, of {', '.join(VARIANTS + MORE_VARIANTS)} (raw and rest always)",
    )
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
    args.drivers = args.drivers.split(",")
    args.shapes = [data.SHAPES[name] for name in args.shapes.split(",")]
    args.trees = parse_trees(args.trees)
    args.variants = parse_variants(args.variants)
    return run_interruptible(main_async(args))


if __name__ == "__main__":
    raise SystemExit(main())
