"""How documents are executed: parsing and validation are cached per document text."""

from __future__ import annotations

import functools
from typing import Any

from cachetools import LRUCache
from strawberry import Schema

from gql_badges.graphql.limits import GuardedValidation
from gql_badges.graphql.schema import create_schema

QUERY = "{ __schema { queryType { name } } }"


def _verdicts(schema: Schema) -> LRUCache[str, Any]:
    (extension,) = [
        e
        for e in schema.extensions
        if isinstance(e, functools.partial) and e.func is GuardedValidation
    ]
    verdicts: LRUCache[str, Any] = extension.keywords["verdicts"]
    return verdicts


async def test_a_repeated_document_is_validated_once() -> None:
    schema = create_schema()
    await schema.execute(QUERY)
    verdicts = _verdicts(schema)
    (first,) = verdicts.values()
    for _ in range(3):
        result = await schema.execute(QUERY)
        assert result.errors is None
    assert list(verdicts.values()) == [first]
    assert next(iter(verdicts.values())) is first  # the same verdict, not a new one


async def test_the_verdict_cache_is_bounded() -> None:
    schema = create_schema()
    for n in range(300):
        await schema.execute(f"{{ a{n}: __typename }}")
    verdicts = _verdicts(schema)
    assert len(verdicts) == verdicts.maxsize < 300
