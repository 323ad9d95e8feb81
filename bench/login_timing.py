"""Do failed logins cost the same whether the username exists or not?

    python -m bench.login_timing [--attempts 200]

Against the app in-process over the embedded database with the demo data: Basic logins with a
wrong password for an existing user, and for users that do not exist (a fresh name each time,
so no cache helps). Prints the median and p90 of each and their ratio; a ratio near 1 means the
answer's timing does not tell whether a username exists.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from bench import run_interruptible
from gql_badges.app import create_app
from gql_badges.demo import demo_documents
from gql_badges.demo.handles import ORG_B_CLIENT
from gql_badges.loading import validate_documents, write_documents
from gql_badges.services import Services
from gql_badges.settings import Settings
from gql_badges.storage.embedded import EmbeddedServer
from tests.support import CUSTOMER, basic_auth


async def measure(uri: str, attempts: int) -> dict[str, list[float]]:
    # Limits off: this measures what one failed login costs, not when the limiter steps in.
    settings = Settings(
        database="login_timing",
        rate_limit_per_second=0,
        login_attempts_burst=1_000_000,
        login_address_burst=1_000_000,
        login_username_burst=1_000_000,
    )
    services = Services.create(settings, uri)
    await write_documents(services.database, validate_documents(demo_documents()))
    app = create_app(settings, services=services)
    transport = httpx.ASGITransport(app=app)
    timings: dict[str, list[float]] = {"existing user": [], "no such user": []}
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        for n in range(attempts):
            for kind, username in (
                ("existing user", ORG_B_CLIENT.username),
                ("no such user", f"x{n}"),
            ):
                started = time.perf_counter()
                wrong = basic_auth(username, f"wrong-{n}")
                response = await client.get(f"{CUSTOMER}1", headers=wrong)
                timings[kind].append(time.perf_counter() - started)
                assert response.status_code == 401, response.text
    await services.database.drop()
    await services.database.close()
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.login_timing", description=__doc__)
    parser.add_argument("--attempts", type=int, default=200)
    args = parser.parse_args()
    with EmbeddedServer(Path(tempfile.mkdtemp()), in_memory=True) as database:
        assert database.uri is not None
        timings = run_interruptible(measure(database.uri, args.attempts))
    medians = {}
    for kind, values in timings.items():
        medians[kind] = statistics.median(values) * 1000
        p90 = statistics.quantiles(values, n=10)[8] * 1000
        print(f"{kind:>14}: median {medians[kind]:.1f} ms, p90 {p90:.1f} ms ({len(values)} tries)")
    ratio = medians["no such user"] / medians["existing user"]
    print(f"ratio of medians (no such user / existing user): {ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
