"""How documents are executed: parsing and validation are paid once per document."""

from __future__ import annotations

import functools

from strawberry import Schema

from gql_badges.graphql.documents import DocumentCache
from gql_badges.graphql.limits import DocumentFigures, GuardedValidation
from gql_badges.graphql.manifest import sha256_hex
from gql_badges.graphql.schema import create_schema

QUERY = "{ __schema { queryType { name } } }"


def _documents(schema: Schema) -> DocumentCache[DocumentFigures]:
    (extension,) = [
        e
        for e in schema.extensions
        if isinstance(e, functools.partial) and e.func is GuardedValidation
    ]
    documents: DocumentCache[DocumentFigures] = extension.keywords["documents"]
    return documents


async def test_a_repeated_document_is_parsed_and_validated_once() -> None:
    schema = create_schema()
    await schema.execute(QUERY)
    entries = _documents(schema).entries
    (first,) = entries.values()
    document, verdict = first.document, first.verdict
    assert verdict is not None and not verdict.errors
    for _ in range(3):
        result = await schema.execute(QUERY)
        assert result.errors is None
    assert list(entries.values()) == [first]
    assert first.document is document and first.verdict is verdict  # neither made again


async def test_a_persisted_query_and_its_text_share_one_entry() -> None:
    """APQ names a document by the SHA-256 of its text: the cache's key."""
    schema = create_schema()
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(QUERY)}}
    registered = await schema.execute(QUERY, operation_extensions=persisted)
    assert registered.errors is None
    by_hash = await schema.execute(None, operation_extensions=persisted)
    assert by_hash.errors is None
    assert (await schema.execute(QUERY)).errors is None
    assert len(_documents(schema).entries) == 1


async def test_the_document_cache_is_bounded() -> None:
    schema = create_schema()
    for n in range(300):
        await schema.execute(f"{{ a{n}: __typename }}")
    entries = _documents(schema).entries
    assert len(entries) == entries.maxsize < 300
