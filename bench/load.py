"""Sustained load: N concurrent clients for M minutes against a gateway, then a report.

    python -m bench.load --clients 16 --minutes 10 [--url http://127.0.0.1:8000]

Without --url it starts the embedded database and `gql-badges serve` itself, on the demo data.
The clients mix the REST URIs and GraphQL over the demo customers. It reports requests, errors
(any answer but the expected 200), p50/p99 latency, and the gateway's memory (RSS) at the start
of the timed part and at the end of each minute, so growth shows. Traffic goes to loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench import run_interruptible
from bench.run import Server
from gql_badges.demo.handles import BECKY, ORG_B_CLIENT, SWATI
from tests.support import CUSTOMER, MANAGEMENT, basic_auth, free_port

CUSTOMERS = [SWATI.key, BECKY.key]
GRAPHQL = """query($id: ID!) { customerBadges(customer: {id: $id}, badgeType: EARNED) {
  badges { badgeMetaId name badgeGroupName earnedCount lastEarnedOnDate }
  pagination { total } } }"""


def _requests(rng: random.Random) -> tuple[str, str, dict[str, Any] | None]:
    customer = rng.choice(CUSTOMERS)
    kind = rng.random()
    if kind < 0.4:
        badge_type = rng.choice(["EARNED", "AVAILABLE", "EXPIRED", "AVAILABLE_TO_ISSUE"])
        return "GET", f"{CUSTOMER}{customer}?badgeType={badge_type}", None
    if kind < 0.7:
        return "GET", f"{MANAGEMENT}{customer}?sortOn=LAST_MODIFIED_DATE", None
    return "POST", "/graphql", {"query": GRAPHQL, "variables": {"id": customer}}


async def run(args: argparse.Namespace, url: str, pid: int | None) -> dict[str, Any]:
    headers = basic_auth(*ORG_B_CLIENT.credentials)
    latencies: list[float] = []
    errors: dict[str, int] = {}
    memory: list[float] = []
    process = psutil.Process(pid) if pid else None
    deadline = time.monotonic() + args.minutes * 60

    async def client(seed: int) -> None:
        rng = random.Random(seed)
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as http:
            while time.monotonic() < deadline:
                method, path, body = _requests(rng)
                started = time.perf_counter()
                try:
                    response = await http.request(method, path, json=body)
                    ok = response.status_code == 200 and not response.json().get("errors")
                    outcome = "ok" if ok else f"HTTP {response.status_code}"
                except httpx.HTTPError as error:
                    outcome = type(error).__name__
                latencies.append(time.perf_counter() - started)
                if outcome != "ok":
                    errors[outcome] = errors.get(outcome, 0) + 1

    async def sample_memory() -> None:
        while time.monotonic() < deadline:
            if process is not None:
                memory.append(process.memory_info().rss / 2**20)
                print(f"[load] {len(latencies)} requests, {sum(errors.values())} errors, "
                      f"gateway RSS {memory[-1]:.1f} MiB", flush=True)  # fmt: skip
            await asyncio.sleep(min(60, args.minutes * 60 / 10))

    started = time.monotonic()
    await asyncio.gather(sample_memory(), *(client(n) for n in range(args.clients)))
    wall = time.monotonic() - started
    if process is not None:
        memory.append(process.memory_info().rss / 2**20)
    return {
        "clients": args.clients,
        "minutes": args.minutes,
        "requests": len(latencies),
        "throughput": round(len(latencies) / wall, 1),
        "errors": errors,
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(statistics.quantiles(latencies, n=100)[98] * 1000, 1),
        "rss_mib": [round(m, 1) for m in memory],
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--url", help="a running gateway (with the demo data loaded)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    server = None
    url, pid = args.url, None
    if url is None:
        data_dir = Path(tempfile.mkdtemp(prefix="gql-badges-load-"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("GQL_BADGES_")}
        env |= {"GQL_BADGES_DATA_DIR": str(data_dir), "GQL_BADGES_RATE_LIMIT_PER_SECOND": "0"}
        command = [sys.executable, "-m", "gql_badges.cli", "serve", "--port", "{port}"]
        server = Server("gateway", [*command, "--no-access-log"], env, data_dir / "gateway.log")
        url = server.start(free_port())
        assert server.process is not None
        pid = server.process.pid
    try:
        report = run_interruptible(run(args, url, pid))
    finally:
        if server is not None:
            server.stop()
    print(json.dumps(report, indent=1))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
