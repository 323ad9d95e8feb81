"""The document cache: what a document costs before it runs, paid once per document.

Frontends send the same few documents again and again. Each entry holds what the document's
first request computed: the parsed document, then its verdict (the limits' figures and
graphql-core's validation, `limits.DocumentFigures`). A repeated document is one dictionary
look-up away from execution, where the plan cache (`plan_cache.py`) finds its plan by the same
parsed document's text.

Entries are keyed by the SHA-256 of the text and the operation name. That digest is the hash
Apollo's persisted queries name a document by, so a document sent as a hash (APQ), listed in the
safelist, or sent in full shares one entry. The cache is a bounded LRU: a client sending new
documents on every request evicts old entries, it never grows memory.

    cache = DocumentCache(maxsize=256)
    known = cache.parsed(query, operation_name, parse_options)   # parses once
    known.verdict = known.verdict or judge(known.document)        # validates once
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from cachetools import LRUCache
from graphql import DocumentNode, parse

DEFAULT_SIZE = 256
Verdict = TypeVar("Verdict")  # what validation concluded: `limits.DocumentFigures`


@dataclass(slots=True)
class KnownDocument(Generic[Verdict]):
    """A document seen before: parsed, and judged once its first request reached validation."""

    document: DocumentNode
    verdict: Verdict | None = None


class DocumentCache(Generic[Verdict]):
    """Known documents by (SHA-256 of the text, operation name), in a bounded LRU."""

    def __init__(self, maxsize: int = DEFAULT_SIZE) -> None:
        self.entries: LRUCache[tuple[bytes, str | None], KnownDocument[Verdict]] = LRUCache(maxsize)

    def parsed(
        self, query: str, operation_name: str | None, parse_options: Mapping[str, Any]
    ) -> KnownDocument[Verdict]:
        """The document of `query`, parsed now unless known. A document that does not parse
        raises graphql-core's `GraphQLSyntaxError` and is not kept."""
        key = (hashlib.sha256(query.encode()).digest(), operation_name)
        known = self.entries.get(key)
        if known is None:
            known = KnownDocument[Verdict](parse(query, **parse_options))
            self.entries[key] = known
        return known


__all__: Sequence[str] = ["DocumentCache", "KnownDocument"]
