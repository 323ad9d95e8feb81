"""What each document of the hostile corpus costs the gateway to refuse: time and memory.

    python -m bench.hostile [--repeat 5]

In-process, through the schema as the GraphQL endpoint runs it (parse, limits, validation), with
no credentials. Each document is sent as a new text every time, so no cache answers it. Prints,
per document, its size, the median time and the peak memory traced while it was answered; the
budget is under 50 ms and 10 MiB each. A document within every limit runs its resolvers with
no request context and fails there ("runs"): its time is that of being let through.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
import tracemalloc

from strawberry import Schema

from bench import run_interruptible
from gql_badges.graphql.schema import create_schema
from tests.support.hostile import CORPUS


async def _answer(schema: Schema, document: str, variables: dict[str, object] | None) -> str:
    result = await schema.execute(document, variable_values=variables)
    error = result.errors[0] if result.errors else None
    if error is None or error.path is not None:
        return "runs"
    return str((error.extensions or {}).get("limit") or error.message[:40])


async def main(repeat: int) -> None:
    logging.disable(logging.ERROR)  # the resolvers' complaints about the missing context
    schema = create_schema()
    print(f"{'document':45} {'bytes':>7} {'median ms':>10} {'peak MiB':>9}  answer")
    for n, hostile in enumerate(CORPUS):
        document = hostile.build()
        times = []
        for attempt in range(repeat):
            text = document + " " * (n * repeat + attempt + 1)  # a new text: no cache hit
            started = time.perf_counter()
            answer = await _answer(schema, text, hostile.variables)
            times.append(time.perf_counter() - started)
        tracemalloc.start()
        await _answer(schema, document + "\n", hostile.variables)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        median = statistics.median(times) * 1000
        print(f"{hostile.name:45} {len(document):7} {median:10.1f} {peak / 2**20:9.2f}  {answer}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    run_interruptible(main(parser.parse_args().repeat))
