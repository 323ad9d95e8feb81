"""What compressing the gateway's answers costs and saves, per page size and level.

    python -m bench.compression [--size 10k] [--page-sizes 10,100,1000] [--json out.json]

The answers are the benchmark's own (bench/data.py, the data set `python -m bench.run` loads,
reused when present): the REST customer URI and the GraphQL query with every badge field, at
each page size, fetched once from the app in this process. Each is then compressed by the
gateway's own `compress` (gql_badges/http/compression.py) at every level of interest, timed by
this process's CPU clock over enough repetitions to last a quarter of a second. The figures are
the CPU the middleware adds to one answer of that size, and the ratio it buys
(uncompressed / compressed bytes). bench/README.md has a run, and the level chosen from it.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
from pydantic import SecretStr

from bench import data, numbers, run_interruptible
from bench.run import (
    ALL_FIELDS,
    GRAPHQL,
    JWT_SECRET,
    cpu_ms,
    database_uri,
    ensure_data,
    parse_size,
    server_env,
    token,
)
from gql_badges.app import create_app
from gql_badges.http.compression import BROTLI, BROTLI_QUALITY, GZIP, GZIP_LEVEL, compress
from gql_badges.services import Services
from gql_badges.settings import Settings
from tests.support import CUSTOMER

LEVELS = {GZIP: (1, 3, 6, 9), BROTLI: (1, 3, 4, 5, 6, 9, 11)}
CHOSEN = {GZIP: GZIP_LEVEL, BROTLI: BROTLI_QUALITY}
VARIANTS = ("rest", "graphql-all")


@dataclass
class Cost:
    page_size: int
    variant: str
    encoding: str
    level: int
    body_kb: float
    compressed_kb: float
    ratio: float
    cpu_ms: float


def measure(body: bytes, page: int, variant: str, encoding: str, level: int) -> Cost:
    packed = compress(body, encoding, level)
    return Cost(
        page, variant, encoding, level, len(body) / 1024, len(packed) / 1024,
        len(body) / len(packed), cpu_ms(body, encoding, level),
    )  # fmt: skip


async def bodies(
    uri: str, database: str, ids: list[int], pages: list[int]
) -> dict[tuple[int, str], bytes]:
    """The uncompressed answers of each page size and variant, from the app in this process."""
    environment = server_env(uri, database, "pymongo")
    settings = Settings(
        database=database,
        jwt_secret=SecretStr(JWT_SECRET),
        max_page_size=int(environment["GQL_BADGES_MAX_PAGE_SIZE"]),
        graphql_max_cost=int(environment["GQL_BADGES_GRAPHQL_MAX_COST"]),
        rate_limit_per_second=0,
    )
    services = Services.create(settings, uri)
    app = create_app(settings, services=services)
    headers = {"X-CAP-API-OAUTH-TOKEN": token(), "Accept-Encoding": "identity"}
    out: dict[tuple[int, str], bytes] = {}
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://gateway", headers=headers, timeout=120
        ) as client:
            customer = ids[0]
            for page in pages:
                rest = await client.get(f"{CUSTOMER}{customer}?limit={page}")
                body = {"query": GRAPHQL % ALL_FIELDS, "variables": {"id": str(customer),
                        "limit": page}}  # fmt: skip
                graphql = await client.post("/graphql", json=body)
                for variant, response in (("rest", rest), ("graphql-all", graphql)):
                    assert response.status_code == 200, response.text[:300]
                    assert "content-encoding" not in response.headers
                    out[(page, variant)] = response.content
    finally:
        await services.database.close()
    return out


def print_table(costs: list[Cost]) -> None:
    header = (
        f"{'page':>5} {'variant':<12} {'KB':>8} {'codec':>5} {'level':>5} {'KB out':>8}"
        f" {'ratio':>6} {'CPU ms':>8} {'MB/s':>7}"
    )
    print(header)
    print("-" * len(header))
    for c in costs:
        mark = " <- chosen" if CHOSEN[c.encoding] == c.level else ""
        speed = c.body_kb / 1024 / (c.cpu_ms / 1000) if c.cpu_ms else 0.0
        print(
            f"{c.page_size:>5} {c.variant:<12} {c.body_kb:>8.1f} {c.encoding:>5} {c.level:>5}"
            f" {c.compressed_kb:>8.1f} {c.ratio:>6.1f} {c.cpu_ms:>8.3f} {speed:>7.1f}{mark}"
        )


async def main_async(args: argparse.Namespace) -> int:
    uri, embedded = database_uri(args.data_dir)
    try:
        shape = data.SHAPES["large"]
        database = f"bench_{shape.name}_{args.size}"
        ids = await ensure_data(uri, database, args.size, shape)
        answers = await bodies(uri, database, ids, args.page_sizes)
    finally:
        if embedded is not None:
            embedded.stop()
    costs = [
        measure(body, page, variant, encoding, level)
        for (page, variant), body in sorted(answers.items())
        for encoding, levels in LEVELS.items()
        for level in levels
    ]
    print_table(costs)
    if args.json:
        args.json.write_text(json.dumps([asdict(c) for c in costs], indent=1))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.compression",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--size", default="10k", help="customer_badges records of the data set")
    parser.add_argument("--page-sizes", default="10,100,1000", type=numbers)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "gql-badges-bench"
    )
    args = parser.parse_args()
    args.size = parse_size(args.size)
    return run_interruptible(main_async(args))


if __name__ == "__main__":
    raise SystemExit(main())
