"""Where a small request's CPU goes: `python -m bench.fixed_cost` (figures: bench/README.md).

In one process, the real app over the embedded database with the demo data (an org of a few
badges, so the database answers quickly and per-item work is small): the same request sent N
times, first timed (this process's CPU time, the database being another process), then under
cProfile, whose cumulative times per part give the profile. cProfile inflates code that makes
many small calls more than code that makes few, so read the parts as shares, not as absolute
times; the unprofiled CPU per request is the absolute figure.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from bench import run_interruptible
from gql_badges.app import create_app
from gql_badges.demo import demo_documents
from gql_badges.demo.handles import ORG_B_CLIENT, SWATI
from gql_badges.loading import validate_documents, write_documents
from gql_badges.services import Services
from gql_badges.settings import Driver, Settings
from gql_badges.storage.embedded import EmbeddedServer
from tests.support import CUSTOMER, basic_auth

TWO_FIELDS = """query Two($id: ID!) { customerBadges(customer: {id: $id}, badgeType: EARNED) {
  badges { badgeMetaId name } } }"""

# (label, module path fragment, function name): cumulative time of each, per request.
PARTS = [
    (
        "the app, whole (the ASGI call; every part below is inside it)",
        "asgi",
        "handle_async_request",
    ),
    ("authentication (cached client and verification)", "credentials.py", "authenticate"),
    ("context (GraphQLContext per request)", "view.py", "context_for"),
    ("persisted-query extension", "persisted.py", "on_operation"),
    ("parse (Strawberry's ParserCache: a look-up)", "parser_cache.py", "on_parse"),
    ("parse (the document cache: a look-up)", "limits.py", "on_parse"),
    ("validate and limits (verdict lookup, cost)", "limits.py", "on_validate"),
    ("cost check before execution", "limits.py", "on_execute"),
    ("plan lookup", "plan_cache.py", "plan"),
    ("plan lookup (before the split)", "compiled.py", "plan"),
    ("the repository: queries, driver, BSON", "repository.py", "badge_page"),
    ("items and the plan's completion", "executor.py", "_execute_root"),
    ("items and the plan's completion (before the split)", "compiled.py", "_execute_root"),
    ("Strawberry's execute (every part above but context is inside it)", "schema.py", "execute"),
    ("result to JSON (process_result, orjson)", "view.py", "encode_json"),
    ("REST rendering", "render.py", "render_customer_page"),
]


async def run(args: argparse.Namespace, uri: str) -> None:
    # One client sends every request, faster than its rate limit allows: the limiter still
    # runs, but never refuses.
    settings = Settings(
        database=f"fixed_cost_{os.getpid()}",
        driver=Driver(args.driver),
        rate_limit_per_second=1e6,
        rate_limit_burst=10**6,
    )
    services = Services.create(settings, uri)
    await services.database.ensure_indexes()
    await write_documents(services.database, validate_documents(demo_documents()))
    app = create_app(settings, services=services)
    headers = basic_auth(*ORG_B_CLIENT.credentials)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:

        async def graphql() -> None:
            body = {"query": TWO_FIELDS, "variables": {"id": str(SWATI.id)}}
            response = await client.post("/graphql", json=body, headers=headers)
            assert response.status_code == 200 and "errors" not in response.json(), response.text

        async def rest() -> None:
            url = f"{CUSTOMER}{SWATI.id}?badgeType=EARNED"
            response = await client.get(url, headers=headers)
            assert response.status_code == 200, response.text

        if args.batches:
            await alternating(args, graphql, rest)
        for name, send in (("graphql-two", graphql), ("rest", rest)):
            for _ in range(args.warmup):
                await send()
            started = time.process_time()
            for _ in range(args.requests):
                await send()
            cpu = (time.process_time() - started) / args.requests * 1000
            profiler = cProfile.Profile(time.process_time)  # CPU, not waiting
            profiler.enable()
            for _ in range(args.requests):
                await send()
            profiler.disable()
            report(name, cpu, pstats.Stats(profiler), args.requests, args.top)
    await services.database.drop()
    await services.database.close()


async def alternating(
    args: argparse.Namespace,
    graphql: Callable[[], Awaitable[None]],
    rest: Callable[[], Awaitable[None]],
) -> None:
    """CPU per request in batches that alternate GraphQL and REST (which goes first alternates
    too), so that both see the same load: the min and median batch of each, and the median of
    the batch pairs' ratios, steadier on a shared machine than one long run of each."""
    for _ in range(args.warmup):
        await graphql()
        await rest()
    batches: dict[str, list[float]] = {"graphql-two": [], "rest": []}
    for number in range(args.batches):
        pair = [("graphql-two", graphql), ("rest", rest)]
        for name, send in pair if number % 2 == 0 else reversed(pair):
            started = time.process_time()
            for _ in range(args.batch_size):
                await send()
            batches[name].append((time.process_time() - started) / args.batch_size * 1e6)
    graphql_us, rest_us = batches["graphql-two"], batches["rest"]
    ratios = [g / r for g, r in zip(graphql_us, rest_us, strict=True)]
    print(
        f"alternating {args.batches} batches of {args.batch_size}, CPU µs per request "
        f"(client included): graphql-two min {min(graphql_us):.0f} median "
        f"{statistics.median(graphql_us):.0f}; rest min {min(rest_us):.0f} median "
        f"{statistics.median(rest_us):.0f}; graphql-two / rest: of the mins "
        f"{min(graphql_us) / min(rest_us):.3f}, median of the pairs {statistics.median(ratios):.3f}"
    )


def report(name: str, cpu_ms: float, stats: pstats.Stats, requests: int, top: int) -> None:
    # {(file, line, function): (calls, primitive calls, own time, cumulative time, callers)}:
    # `get_stats_profile` would key by function name alone, merging the `on_validate`s.
    table: dict[tuple[str, int, str], tuple[Any, ...]] = getattr(stats, "stats")  # noqa: B009
    # Shares of the app's own time: the rest of the process is the in-process client and loop.
    total = max(
        entry[3]
        for (file, _, func), entry in table.items()
        if func == "handle_async_request" and "asgi" in file
    )
    print(f"\n{name}: {cpu_ms:.2f} ms CPU per request (unprofiled; client included)")
    print(f"{'part':<72} {'of app':>6} {'µs/req (profiled)':>18}")
    for label, path, function in PARTS:
        cumulative = sum(
            entry[3]
            for (file, _, func), entry in table.items()
            if func == function and path in file
        )
        if cumulative:
            share = cumulative / total
            print(f"{label:<72} {share:>6.1%} {cumulative / requests * 1e6:>18.0f}")
    if top:
        print(f"the {top} functions of most cumulative time:")
        ranked = sorted(table.items(), key=lambda item: -item[1][3])[:top]
        for (file, line, func), entry in ranked:
            where = f"{Path(file).parent.name}/{Path(file).name}:{line} {func}"
            print(
                f"  {where[-70:]:<72} {entry[3] / total:>6.1%} {entry[3] / requests * 1e6:>10.0f}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fixed_cost", description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--driver", default="pymongo")
    parser.add_argument("--top", type=int, default=0, help="also list the N costliest functions")
    parser.add_argument(
        "--batches",
        type=int,
        default=0,
        help="first, N batches alternating GraphQL and REST (min and median of each)",
    )
    parser.add_argument("--batch-size", type=int, default=20)
    args = parser.parse_args()
    uri = os.environ.get("GQL_BADGES_MONGODB_URI")
    embedded = None
    if uri is None:
        embedded = EmbeddedServer(Path(tempfile.mkdtemp(prefix="fixed-cost-")), in_memory=True)
        uri = embedded.start()
    try:
        run_interruptible(run(args, uri))
    finally:
        if embedded is not None:
            embedded.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
