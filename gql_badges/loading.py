"""`gql-badges load`: a JSON file of Extended-JSON documents, checked whole, then upserted.

Three steps, each named by its function:

- `validate_documents`: the file alone: every document against its collection's schema, no
  top-level `$`/dotted keys, integers that fit in int64, unique identifiers within the file;
- `check_against_database`: unique identifiers not held by other documents in the database, no
  document moved to another org (or customer), and every reference resolved (a record's
  customer and badge, a badge's group) in the file or the database;
- `write_documents`: upserts in bounded batches, in one transaction where the server has them
  (a replica set or mongos), so a refusal half way (a duplicate key) leaves nothing written.

A problem is named by its collection, position and field, and nothing is written.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bson import Int64, json_util
from bson.json_util import JSONOptions
from pydantic import TypeAdapter, ValidationError
from pymongo.errors import OperationFailure
from pymongo.operations import ReplaceOne

from gql_badges.auth import hashing
from gql_badges.storage.client import Database
from gql_badges.storage.collections import (
    API_CLIENTS,
    BADGE_GROUPS,
    BADGE_META,
    CUSTOMER_BADGES,
    CUSTOMERS,
    ApiClientEntry,
    BadgeGroup,
    BadgeMeta,
    BadgeRecord,
    Customer,
    Document,
)
from gql_badges.storage.indexes import INDEXES

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
"""Told (collection, documents written so far, documents of that collection) after each batch."""

# Writes per bulk write, and values per `$in` of a check: bounded requests and replies.
BATCH_SIZE = 1000
_INT64 = (-(2**63), 2**63 - 1)

_JSON_OPTIONS = JSONOptions(tz_aware=True)


class LoadError(ValueError):
    """The file cannot be loaded; the message names every problem found."""


# Each collection's documents are checked against the shape the gateway reads them in.
_SCHEMAS: dict[str, TypeAdapter[Any]] = {
    BADGE_GROUPS: TypeAdapter(BadgeGroup),
    BADGE_META: TypeAdapter(BadgeMeta),
    CUSTOMERS: TypeAdapter(Customer),
    CUSTOMER_BADGES: TypeAdapter(BadgeRecord),
    API_CLIENTS: TypeAdapter(ApiClientEntry),
}
# Write order: what is referred to before what refers to it.
_ORDER = (BADGE_GROUPS, BADGE_META, CUSTOMERS, CUSTOMER_BADGES, API_CLIENTS)


@dataclass(frozen=True, slots=True)
class _Unique:
    """A unique index's fields: `scope` (exact) then `field` (a value, or each value of an
    array for `cardNumbers`); `strings_only` for a partial index over strings."""

    scope: tuple[str, ...]
    field: str
    strings_only: bool = False


def _unique_indexes(collection: str) -> list[_Unique]:
    """`_id`, and the unique indexes of the catalogue in `db.py`, so the checks cannot drift."""
    found = [_Unique((), "_id")]
    for model in INDEXES[collection]:
        spec = model.document
        if spec.get("unique"):
            *scope, field = list(spec["key"])
            found.append(_Unique(tuple(scope), field, "partialFilterExpression" in spec))
    return found


_UNIQUE: dict[str, list[_Unique]] = {
    collection: _unique_indexes(collection) for collection in _ORDER
}
# The fields an upsert's filter names: the identity, and the shard key (README "Deploying on
# MongoDB"), without which an upsert on a sharded collection is refused.
_FILTER_FIELDS: dict[str, tuple[str, ...]] = {
    BADGE_GROUPS: ("orgId", "_id"),
    BADGE_META: ("orgId", "_id"),
    CUSTOMERS: ("orgId", "_id"),
    CUSTOMER_BADGES: ("orgId", "customerId", "_id"),
    API_CLIENTS: ("username",),  # unsharded; `_id` is the server's unless the file gives one
}


def _identity(collection: str) -> str:
    return "username" if collection == API_CLIENTS else "_id"


def _location(collection: str, index: int, loc: Sequence[str | int]) -> str:
    path = f"{collection}[{index}]"
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _raw_problems(
    value: Any, loc: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Field names MongoDB refuses at the top level, and integers BSON cannot hold."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not loc and (key.startswith("$") or "." in key):
                yield (key,), "a field name may not start with '$' or contain '.'"
                continue
            yield from _raw_problems(item, (*loc, key))
    elif isinstance(value, list):
        for position, item in enumerate(value):
            yield from _raw_problems(item, (*loc, position))
    elif (
        isinstance(value, int)
        and not isinstance(value, bool)
        and not _INT64[0] <= value <= _INT64[1]
    ):
        yield loc, "integer out of the int64 range"


def _values(document: Document, unique: _Unique) -> list[Any]:
    value = document.get(unique.field)
    values = value if isinstance(value, list) else [value]
    if unique.strings_only:
        return [v for v in values if isinstance(v, str)]
    return [v for v in values if v is not None]


def _key(document: Document, unique: _Unique, value: Any) -> tuple[Any, ...]:
    return (*(document.get(part) for part in unique.scope), value)


def _within_file(loaded: Mapping[str, list[Document]]) -> list[str]:
    problems: list[str] = []
    for collection, documents in loaded.items():
        for unique in _UNIQUE[collection]:
            first: dict[tuple[Any, ...], int] = {}
            for index, document in enumerate(documents):
                for value in set(_values(document, unique)):
                    earlier = first.setdefault(_key(document, unique, value), index)
                    if earlier != index:
                        problems.append(
                            f"{collection}[{index}].{unique.field}: {value!r} is already used by "
                            f"{collection}[{earlier}]"
                        )
    return problems


def _stored_form(collection: str, document: Document) -> Document:
    """What is written: identifiers as int64, client secrets only as hashes."""
    stored = dict(document)
    if collection == CUSTOMERS:
        stored["_id"] = Int64(stored["_id"])
    elif collection == CUSTOMER_BADGES:
        stored["customerId"] = Int64(stored["customerId"])
    elif collection == API_CLIENTS:
        stored["active"] = stored.get("active", True)  # a client is active unless it says not
        stored["passwordHash"] = hashing.password_hash(stored.pop("password"))
        secret = stored.pop("secret", None)
        stored["secretHash"] = hashing.hash_secret(secret) if secret else None
    return stored


def _upsert(collection: str, stored: Document) -> ReplaceOne[Document]:
    """Replace the stored document, or insert it.

    The replacement carries no `_id`: MongoDB keeps the stored one, of whatever type it was
    written with (an int32 from mongoimport stays int32; changing an `_id`'s type is refused),
    and an insert takes it from the filter's equality, as int64.
    """
    filter = {name: stored[name] for name in _FILTER_FIELDS[collection] if name in stored}
    if collection == API_CLIENTS and "_id" in stored:
        filter["_id"] = stored["_id"]
    replacement = {name: value for name, value in stored.items() if name != "_id"}
    return ReplaceOne(filter, replacement, upsert=True)


def parse_load_file(text: str) -> dict[str, list[Document]]:
    """The documents to write, per collection, or LoadError naming every bad document."""
    try:
        content = json_util.loads(text, json_options=_JSON_OPTIONS)
    except json.JSONDecodeError as error:
        position = f"line {error.lineno}, column {error.colno}"
        raise LoadError(f"not valid JSON: {position}: {error.msg}") from None
    except (TypeError, ValueError) as error:  # malformed Extended JSON ($oid, $date, ...)
        raise LoadError(f"not valid Extended JSON: {error}") from None
    if not isinstance(content, Mapping):
        raise LoadError("the file must hold one JSON object keyed by collection name")
    return validate_documents(content)


def validate_documents(content: Mapping[str, Any]) -> dict[str, list[Document]]:
    """Check the file on its own (schemas, field names, int64 range, unique identifiers);
    LoadError names each problem."""
    problems: list[str] = []
    loaded: dict[str, list[Document]] = {}
    for collection, documents in content.items():
        schema = _SCHEMAS.get(collection)
        if schema is None:
            known = ", ".join(_SCHEMAS)
            problems.append(f"{collection}: unknown collection (expected one of {known})")
            continue
        if not isinstance(documents, list):
            problems.append(f"{collection}: expected an array of documents")
            continue
        for index, document in enumerate(documents):
            if not isinstance(document, dict):
                problems.append(f"{collection}[{index}]: expected a document")
                continue
            raw = [
                f"{_location(collection, index, loc)}: {msg}"
                for loc, msg in _raw_problems(document)
            ]
            if raw:
                problems += raw
                continue
            try:
                schema.validate_python(document)
            except ValidationError as error:
                problems += [
                    f"{_location(collection, index, e['loc'])}: {e['msg']}" for e in error.errors()
                ]
                continue
            loaded.setdefault(collection, []).append(document)
    if not problems:
        problems = _within_file(loaded)
    if problems:
        raise LoadError("nothing was written; bad documents:\n  " + "\n  ".join(problems))
    return loaded


def _chunks(values: Sequence[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(values), BATCH_SIZE):
        yield list(values[start : start + BATCH_SIZE])


class _Checker:
    """The checks against the database, each a few `$in` queries per collection."""

    def __init__(self, database: Database, documents: Mapping[str, list[Document]]) -> None:
        self.database = database
        self.documents = documents
        self.problems: list[str] = []

    def _in_file(self, collection: str) -> set[tuple[Any, ...]]:
        return {(d["orgId"], d["_id"]) for d in self.documents.get(collection, ())}

    async def _stored(
        self,
        collection: str,
        scope: Document,
        field: str,
        values: Iterable[Any],
        fields: Iterable[str],
    ) -> list[Document]:
        found: list[Document] = []
        projection = dict.fromkeys({"_id", field, *fields}, 1)
        for chunk in _chunks(sorted(set(values), key=repr)):
            filter = {**scope, field: {"$in": chunk}}
            found += await self.database.find(collection, filter, projection)
        return found

    async def run(self) -> list[str]:
        for collection in _ORDER:
            documents = self.documents.get(collection, [])
            if documents:
                await self._moves(collection, documents)
                await self._unique(collection, documents)
        await self._references(CUSTOMER_BADGES, "customerId", CUSTOMERS, "customer")
        await self._references(CUSTOMER_BADGES, "badgeMetaId", BADGE_META, "badge")
        await self._references(BADGE_META, "badgeGroupId", BADGE_GROUPS, "badge group")
        return self.problems

    async def _moves(self, collection: str, documents: list[Document]) -> None:
        """A stored document may not change org (or customer): its shard key is fixed."""
        keys = [name for name in _FILTER_FIELDS[collection] if name not in ("_id", "username")]
        if not keys:
            return
        ids = [document["_id"] for document in documents]
        stored = {d["_id"]: d for d in await self._stored(collection, {}, "_id", ids, keys)}
        for index, document in enumerate(documents):
            before = stored.get(document["_id"])
            for key in keys:
                if before is not None and before.get(key) != document[key]:
                    self.problems.append(
                        f"{collection}[{index}].{key}: the stored document {document['_id']!r} "
                        f"has {key} {before.get(key)!r}; a document cannot move"
                    )

    async def _unique(self, collection: str, documents: list[Document]) -> None:
        identity = _identity(collection)
        in_file = {document.get(identity) for document in documents}
        for unique in _UNIQUE[collection]:
            if unique.field == identity:
                continue
            wanted: dict[tuple[Any, ...], list[tuple[int, Any]]] = defaultdict(list)
            for index, document in enumerate(documents):
                scope_values = tuple(document.get(part) for part in unique.scope)
                wanted[scope_values] += [(index, value) for value in _values(document, unique)]
            for scope_values, entries in wanted.items():
                scope = dict(zip(unique.scope, scope_values, strict=True))
                values = [value for _, value in entries]
                fields = (identity, unique.field)
                for holder in await self._stored(collection, scope, unique.field, values, fields):
                    if holder.get(identity) in in_file:
                        continue  # rewritten by this file, which holds no duplicates itself
                    held = holder.get(unique.field)
                    held_values = held if isinstance(held, list) else [held]
                    for index, value in entries:
                        if value in held_values:
                            self.problems.append(
                                f"{collection}[{index}].{unique.field}: {value!r} is already "
                                f"used by the stored document {holder.get(identity)!r}"
                            )

    async def _references(self, collection: str, field: str, target: str, what: str) -> None:
        known = self._in_file(target)
        missing: dict[int, list[tuple[int, Any]]] = defaultdict(list)
        for index, document in enumerate(self.documents.get(collection, ())):
            value = document.get(field)
            if value is not None and (document["orgId"], value) not in known:
                missing[document["orgId"]].append((index, value))
        for org_id, entries in missing.items():
            values = [value for _, value in entries]
            stored = {
                d["_id"] for d in await self._stored(target, {"orgId": org_id}, "_id", values, ())
            }
            for index, value in entries:
                if value not in stored:
                    self.problems.append(
                        f"{collection}[{index}].{field}: {what} {value!r} of org {org_id} is "
                        "neither in the file nor in the database"
                    )


async def check_against_database(
    database: Database, documents: Mapping[str, list[Document]]
) -> None:
    """LoadError naming every document the database would refuse or leave dangling."""
    problems = await _Checker(database, documents).run()
    if problems:
        raise LoadError(
            "nothing was written; conflicts with the database:\n  " + "\n  ".join(problems)
        )


async def write_documents(
    database: Database, documents: Mapping[str, list[Document]], progress: Progress | None = None
) -> dict[str, int]:
    """Upsert by `_id` (by `username` for api_clients); returns the count per collection.

    In one transaction where the server supports them: a refusal (a duplicate key the checks
    could not see, such as one of a DBA's own unique indexes) then leaves nothing written.
    Without transactions (a standalone server), the batches before a refusal stay written.
    """
    problems = await database.indexes_for_writing()
    for problem in problems:
        logger.warning(problem.log_line())
    batches = {
        collection: [
            _upsert(collection, _stored_form(collection, doc))
            for doc in documents.get(collection, ())
        ]
        for collection in _ORDER
    }

    async def write(session: Any) -> None:
        for collection, requests in batches.items():
            for done, chunk in enumerate(_chunks(requests), start=1):
                await database.bulk_write(collection, chunk, session)
                if progress is not None:
                    progress(collection, min(done * BATCH_SIZE, len(requests)), len(requests))

    transactional = await database.supports_transactions()
    try:
        if transactional:
            await database.in_transaction(write)
        else:
            await write(None)
    except OperationFailure as error:
        if not (error.details or {}).get("writeErrors") and error.code not in (11000, 11001):
            raise
        outcome = (
            "nothing was written"
            if transactional
            else "the batches before it stay written (this server has no transactions)"
        )
        raise LoadError(f"the database refused a document, {outcome}: {_refusal(error)}") from error
    return {collection: len(requests) for collection, requests in batches.items()}


def _refusal(error: OperationFailure) -> str:
    details = error.details or {}
    write_errors = details.get("writeErrors") or []
    message = write_errors[0].get("errmsg") if write_errors else None
    return str(message or error)


async def load_documents(
    database: Database, documents: Mapping[str, list[Document]], progress: Progress | None = None
) -> dict[str, int]:
    """Check the documents against the database, then write them (see the module's docstring)."""
    await check_against_database(database, documents)
    return await write_documents(database, documents, progress)


async def load_text(database: Database, text: str) -> dict[str, int]:
    return await load_documents(database, parse_load_file(text))
