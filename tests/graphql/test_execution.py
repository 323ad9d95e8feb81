"""How documents are executed: parsing and validation are cached per document text."""

from __future__ import annotations

from strawberry.extensions.validation_cache import DEFAULT_MAXSIZE, _get_validate_cache

from gql_badges.graphql.schema import create_schema

QUERY = "{ __schema { queryType { name } } }"


async def test_a_repeated_document_is_validated_once() -> None:
    schema = create_schema()
    cache = _get_validate_cache(DEFAULT_MAXSIZE)
    await schema.execute(QUERY)
    before = cache.cache_info()
    for _ in range(3):
        result = await schema.execute(QUERY)
        assert result.errors is None
    after = cache.cache_info()
    assert after.hits - before.hits == 3
    assert after.misses == before.misses
