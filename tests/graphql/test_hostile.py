"""Hostile documents are refused quickly, in bounded memory, and the refusal grows linearly.

Budgets here are generous (these machines are noisy): they catch blow-ups, seconds and hundreds of
megabytes, not milliseconds. `bench/hostile.py` records the real figures.
"""

from __future__ import annotations

import asyncio
import time
import tracemalloc
from collections.abc import Callable

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strawberry import Schema

from gql_badges.graphql.schema import create_schema
from tests.support.hostile import (
    CORPUS,
    Hostile,
    aliases,
    doubling_fragments,
    mutual_fragments,
    repeated_field,
)

# Wall-clock budgets: no other worker runs meanwhile (`alone`), one after another (`timing`).
pytestmark = [pytest.mark.xdist_group("timing"), pytest.mark.alone]

SECONDS = 2.0
MEMORY = 32 * 1024 * 1024


@pytest.mark.parametrize("hostile", CORPUS, ids=[h.name for h in CORPUS])
async def test_a_hostile_document_is_refused_fast_in_bounded_memory(
    client: httpx.AsyncClient, hostile: Hostile
) -> None:
    document = hostile.build()
    body = {"query": document, "variables": hostile.variables or {}}
    started = time.perf_counter()
    response = await client.post("/graphql", json=body)  # no credentials: anyone can send it
    elapsed = time.perf_counter() - started
    # Memory on a second copy (a new text, so no cache answers); tracing slows it, so untimed.
    tracemalloc.start()
    await client.post("/graphql", json=body | {"query": document + " "})
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    errors = response.json()["errors"]
    if hostile.limit is not None:
        extensions = errors[0]["extensions"]
        assert extensions["code"] == "QUERY_TOO_COMPLEX", errors
        assert extensions["limit"] == hostile.limit, errors
    else:
        assert hostile.message is not None and hostile.message in errors[0]["message"], errors
    assert len(errors) <= 2, "one refusal, not one per fragment or cycle"
    assert elapsed < SECONDS, f"{elapsed:.2f} s"
    assert peak < MEMORY, f"{peak / 2**20:.1f} MiB"


# Each family over its limit from the smallest size drawn on.
FAMILIES: dict[str, Callable[[int], str]] = {
    "fan-out": lambda n: doubling_fragments(10 + n),
    "cycles": mutual_fragments,
    "aliases": lambda n: aliases(31 + n),
    "repeats": lambda n: repeated_field(51 + n),
}


@pytest.mark.slow  # times each document three times at two sizes
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(family=st.sampled_from(sorted(FAMILIES)), small=st.integers(8, 24))
def test_the_time_to_refuse_grows_at_most_linearly(family: str, small: int) -> None:
    """Four times the document may cost about four times as much, never 2⁴ or 2^(3n)."""
    build = FAMILIES[family]
    short, long = build(small), build(small * 4)
    ratio = len(long) / len(short)
    t_short, t_long = _refusal_seconds(short), _refusal_seconds(long)
    # Generous: linear growth is `ratio`; allow four times that, plus a fixed 20 ms of noise.
    assert t_long <= 4 * ratio * t_short + 0.02, (family, small, t_short, t_long)


def _refusal_seconds(document: str) -> float:
    schema = create_schema()
    best = float("inf")
    for n in range(3):  # the best of three, each a new text so no cache answers
        started = time.perf_counter()
        asyncio.run(_with_padding(schema, document, n))
        best = min(best, time.perf_counter() - started)
    return best


async def _with_padding(schema: Schema, document: str, n: int) -> None:
    result = await schema.execute(document + " " * n)
    assert result.errors
