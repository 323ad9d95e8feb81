"""The cost of observability per request: `python -m bench.observability`.

Three gateway processes on the same data, started together and measured in alternating rounds
so that drift on a shared machine hits them alike:

  off              GQL_BADGES_METRICS=false, no tracing
  metrics          the default: Prometheus series and the MongoDB command listener
  metrics+tracing  plus OpenTelemetry (OTLP/HTTP to a local sink that discards the spans)

Reported: CPU milliseconds per request of each server process (its CPU time over the timed
passes divided by their requests), p50 latency, and each variant's ratio to `off`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from bench import data, run_interruptible
from bench.run import (
    Server,
    build_request,
    database_uri,
    ensure_data,
    parse_size,
    server_env,
    timed,
    token,
)
from tests.support import free_port


class DiscardingSink(BaseHTTPRequestHandler):
    """An OTLP/HTTP endpoint that reads every export and throws it away."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def variants(uri: str, database: str, driver: str, sink: str) -> dict[str, dict[str, str]]:
    base = server_env(uri, database, driver)
    tracing = {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": sink}
    return {
        "off": base | {"GQL_BADGES_METRICS": "false"},
        "metrics": base,
        "metrics+tracing": base | tracing,
    }


async def main_async(args: argparse.Namespace) -> int:
    args.log_dir.mkdir(parents=True, exist_ok=True)
    uri, embedded = database_uri(args.data_dir)
    sink = ThreadingHTTPServer(("127.0.0.1", 0), DiscardingSink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    sink_url = f"http://127.0.0.1:{sink.server_address[1]}"
    shape = data.SHAPES["large"]
    database = f"bench_{shape.name}_{args.size}"
    ids = await ensure_data(uri, database, args.size, shape)
    command = [sys.executable, "-m", "gql_badges.cli", "serve", "--port", "{port}"]
    running = {
        name: Server(name, [*command, "--no-access-log"], env, args.log_dir / f"obs-{name}.log")
        for name, env in variants(uri, database, args.driver, sink_url).items()
    }
    rng = random.Random(7)
    cpu: dict[str, list[float]] = {name: [] for name in running}
    p50: dict[str, list[float]] = {name: [] for name in running}
    try:
        urls = {name: server.start(free_port()) for name, server in running.items()}
        limits = httpx.Limits(max_connections=args.concurrency * 2)
        headers = {"X-CAP-API-OAUTH-TOKEN": token()}
        async with httpx.AsyncClient(headers=headers, timeout=60, limits=limits) as client:
            for round_ in range(args.rounds + 1):
                for name, server in running.items():
                    batch = [
                        build_request(
                            client,
                            {"gateway": urls[name]},
                            args.variant,
                            rng.choice(ids),
                            args.page_size,
                        )
                        for _ in range(args.requests)
                    ]
                    before = server.cpu_seconds()
                    latencies, errors, _ = await timed(client, batch, args.concurrency)
                    used = server.cpu_seconds() - before
                    assert errors == 0, f"{name}: {errors} failed requests"
                    if round_:  # the first round warms caches and connections
                        cpu[name].append(used / len(latencies) * 1000)
                        p50[name].append(statistics.median(latencies) * 1000)
                        print(f"[round {round_}] {name}: {cpu[name][-1]:.3f} CPU ms/request",
                              flush=True)  # fmt: skip
    finally:
        for server in running.values():
            server.stop()
        sink.shutdown()
        if embedded is not None:
            embedded.stop()
    base = statistics.median(cpu["off"])
    print(f"\n{args.variant}, page {args.page_size}, {args.driver}, {args.rounds} rounds "
          f"of {args.requests} requests (medians over rounds)")  # fmt: skip
    print(f"{'variant':<16} {'CPU ms/req':>10} {'ratio':>7} {'p50 ms':>7}")
    for name in running:
        mid = statistics.median(cpu[name])
        print(f"{name:<16} {mid:>10.3f} {mid / base:>7.3f} {statistics.median(p50[name]):>7.2f}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.observability", description=__doc__)
    parser.add_argument("--size", type=parse_size, default=parse_size("10k"))
    parser.add_argument("--driver", default="pymongo")
    parser.add_argument("--variant", default="graphql-two", help="rest, graphql-all, graphql-two")
    parser.add_argument("--page-size", type=int, default=10)
    parser.add_argument("--requests", type=int, default=300, help="requests per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=4)
    tmp = Path(tempfile.gettempdir())
    parser.add_argument("--data-dir", type=Path, default=tmp / "gql-badges-bench")
    parser.add_argument("--log-dir", type=Path, default=tmp / "gql-badges-bench-logs")
    return run_interruptible(main_async(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
