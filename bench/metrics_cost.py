"""The gateway's own CPU per request with metrics off, on, and on with tracing, in one process.

    python -m bench.metrics_cost [--rounds 7] [--requests 100]

`bench.observability` compares three server processes end to end; on a shared machine the
embedded database's time swamps what it measures. This one runs two apps over the same embedded
database (demo data) inside one process, in alternating rounds: metrics off, metrics on (the
default), and metrics with OpenTelemetry tracing exported over OTLP/HTTP to a sink in this
process (its receiving counts against tracing, so tracing's figure is an upper bound). This
process's CPU time (the database runs in another) over the requests is the gateway's and the
driver's work only. Prints each round and the median ratios to off.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import httpx

from bench import run_interruptible
from bench.observability import DiscardingSink
from gql_badges.app import create_app
from gql_badges.demo import demo_documents
from gql_badges.demo.handles import ORG_B_CLIENT, SWATI
from gql_badges.loading import validate_documents, write_documents
from gql_badges.services import Services
from gql_badges.settings import Settings
from gql_badges.storage.embedded import EmbeddedServer
from tests.support import basic_auth

QUERY = f"""{{ customerBadges(customer: {{id: "{SWATI.key}"}}, badgeType: EARNED) {{
  badges {{ badgeMetaId name expiresOn badgeGroupName earnedCount }} pagination {{ total }} }} }}"""


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


async def measure(uri: str, sink: str, rounds: int, requests: int) -> dict[str, list[float]]:
    clients: dict[str, httpx.AsyncClient] = {}
    owned = []
    for name, metrics, tracing in (
        ("off", False, False),
        ("metrics", True, False),
        ("metrics+tracing", True, True),
    ):
        settings = Settings(database="metrics_cost", metrics=metrics, rate_limit_per_second=0)
        otel = {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": sink}
        with _environment(otel if tracing else {}):  # read by Services.create only
            services = Services.create(settings, uri)
        owned.append(services)
        transport = httpx.ASGITransport(app=create_app(settings, services=services))
        clients[name] = httpx.AsyncClient(transport=transport, base_url="http://gateway")
    await write_documents(owned[0].database, validate_documents(demo_documents()))
    headers = basic_auth(*ORG_B_CLIENT.credentials)
    cpu: dict[str, list[float]] = {name: [] for name in clients}
    try:
        for round_ in range(rounds + 1):
            for name, client in clients.items():
                started = time.process_time()
                for _ in range(requests):
                    response = await client.post("/graphql", json={"query": QUERY}, headers=headers)
                    assert response.status_code == 200 and "errors" not in response.json()
                used = (time.process_time() - started) / requests * 1000
                if round_:  # the first round warms caches, connections and the login
                    cpu[name].append(used)
                    print(f"[round {round_}] {name}: {used:.3f} CPU ms/request", flush=True)
    finally:
        for client in clients.values():
            await client.aclose()
        await owned[0].database.drop()
        for services in owned:
            await services.database.close()
            if services.tracing is not None:
                services.tracing.shutdown()
    return cpu


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.metrics_cost", description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    sink = ThreadingHTTPServer(("127.0.0.1", 0), DiscardingSink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    sink_url = f"http://127.0.0.1:{sink.server_address[1]}"
    with EmbeddedServer(Path(tempfile.mkdtemp()), in_memory=True) as database:
        assert database.uri is not None
        cpu = run_interruptible(measure(database.uri, sink_url, args.rounds, args.requests))
    sink.shutdown()
    off = statistics.median(cpu["off"])
    for name, values in cpu.items():
        median = statistics.median(values)
        print(f"{name:>16}: median {median:.3f} CPU ms/request, {median / off:.3f} x off")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
