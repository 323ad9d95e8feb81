"""Rows as the legacy callers read them, their keys in order (docs/semantics.md, REST rendering).

Instants become epoch seconds, each followed by an ISO-8601 twin named `<field>ISO`; ids become
hex strings; stored sub-documents (images, ownership, tags, custom fields, constraints) pass
through as stored, but for the dates inside constraints, which become epoch seconds too.

What to write for each field is decided once per endpoint from the item table
(`badges/items.py`). A page is then written column by column, so that most fields cost no
Python call per item (see `ItemWriter`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from itertools import chain
from operator import itemgetter, methodcaller
from typing import Any

from gql_badges.badges.items import Endpoint, Item, Kind, derive, rest_fields, rest_keys
from gql_badges.badges.repository import RowPage
from gql_badges.storage.collections import Document
from gql_badges.timefmt import INSTANT_COLUMN_TYPES, epoch_and_iso, epochs_and_isos


def _dated(stored: list[Any]) -> list[Any]:
    """Sub-documents as stored, their dates (`startDate`, `endDate`) as epoch seconds + twins.
    The stored list itself when no date is inside (most constraints have none)."""
    for document in stored:
        # The driver decodes BSON dates as exactly `datetime`: a test of types, all in C.
        if type(document) is dict and datetime in map(type, document.values()):
            return [_with_instants(document) for document in stored]
    return stored


def _with_instants(document: Any) -> Any:
    if not isinstance(document, dict):
        return document
    converted: dict[str, Any] = {}
    for key, value in document.items():
        if isinstance(value, datetime):
            converted[key], converted[key + "ISO"] = epoch_and_iso(value)
        else:
            converted[key] = value
    return converted


Column = list[Any] | tuple[Any, ...]
# How one field fills its column(s) for a page: from the badges and the items, in page order.
# Stored badges are read by the table's names, not literal keys: as mappings.
Stored = list[Mapping[str, Any]]
ColumnMaker = Callable[[Stored, list[Item]], list[Column]]


def _copied(key: str) -> ColumnMaker:
    """A badge_meta field as stored: `badge.get(key)` for every badge, all in C."""
    read = methodcaller("get", key)
    return lambda badges, items: [list(map(read, badges))]


def _instant(read: Callable[[Item], datetime | None], stored: str | None) -> ColumnMaker:
    """Two columns: epoch seconds and their ISO twin."""
    from_badge = methodcaller("get", stored) if stored is not None else None

    def columns(badges: Stored, items: list[Item]) -> list[Column]:
        values = list(map(from_badge, badges) if from_badge else map(read, items))
        if {*map(type, values)} <= INSTANT_COLUMN_TYPES:  # one scan of types, in C
            return list(epochs_and_isos(values))
        return list(_stored_instants(values))

    return columns


def _stored_instants(values: list[Any]) -> tuple[list[Any], list[str | None]]:
    """A column holding values that are not dates (a string, a number: stored by another
    writer): those are written as stored with a null ISO twin, the dates as usual."""
    epochs: list[Any] = []
    texts: list[str | None] = []
    for value in values:
        epoch, text = epoch_and_iso(value) if isinstance(value, datetime) else (value, None)
        epochs.append(epoch)
        texts.append(text)
    return epochs, texts


def _computed(read: Callable[[Item], Any]) -> ColumnMaker:
    return lambda badges, items: [list(map(read, items))]


def _with_dates(read: Callable[[Item], Any]) -> ColumnMaker:
    """Lists of sub-documents: the page's lists as they are when no date is inside any of them
    (one scan of types, in C), else each list through `_dated`."""

    def column(badges: Stored, items: list[Item]) -> list[Column]:
        lists = list(map(read, items))
        if not {*map(type, lists)} <= {list}:  # a value stored in place of a list
            return [[_dated(stored) if type(stored) is list else stored for stored in lists]]
        documents = list(chain.from_iterable(lists))
        values = chain.from_iterable(map(dict.values, documents))
        if {*map(type, documents)} <= {dict} and datetime not in map(type, values):
            return [lists]
        return [list(map(_dated, lists))]

    return column


class ItemWriter:
    """Writes the items of one endpoint a page at a time, column by column: each field's values
    for the whole page (a stored field's in one C-level pass), then each item's dict made of its
    row in one call. The decisions (which fields, which keys in which order, how each field is
    written) are taken here, once, from the item table."""

    def __init__(self, endpoint: Endpoint) -> None:
        fields = rest_fields(endpoint)
        makers: list[ColumnMaker] = []
        for field in fields:
            if field.kind is Kind.INSTANT:
                makers.append(_instant(field.value, field.stored))
            elif field.instants_inside:
                makers.append(_with_dates(field.value))
            elif field.stored is not None:
                makers.append(_copied(field.stored))
            else:
                makers.append(_computed(field.value))
        self.makers = tuple(makers)
        self.keys = rest_keys(endpoint, earned=True)
        kept = [n for n, key in enumerate(self.keys) if key in rest_keys(endpoint, earned=False)]
        self.unearned_keys = tuple(self.keys[n] for n in kept)
        # The row of an item not earned, without the keys that exist only when earned.
        self.unearned = itemgetter(*kept) if len(kept) > 1 else lambda row: (row[kept[0]],)

    def write(self, items: list[Item]) -> list[Document]:
        if not items:
            return []
        badges: Stored = [item.badge for item in items]
        columns = [column for make in self.makers for column in make(badges, items)]
        keys, unearned_keys, unearned = self.keys, self.unearned_keys, self.unearned
        return [
            dict(zip(keys, row, strict=True))
            if item.earned
            else dict(zip(unearned_keys, unearned(row), strict=True))
            for item, row in zip(items, zip(*columns, strict=True), strict=True)
        ]


WRITERS = {endpoint: ItemWriter(endpoint) for endpoint in Endpoint}


def render_items(endpoint: Endpoint, page: RowPage) -> list[Document]:
    return WRITERS[endpoint].write(derive(page.rows, page.now))


def render_pagination(page: RowPage) -> dict[str, int]:
    return {
        "page": page.page,
        "size": len(page.rows),
        "total": page.total,
        "totalPages": page.total_pages,
    }


def render_customer_page(page: RowPage) -> dict[str, Any]:
    return {
        "badges": render_items(Endpoint.CUSTOMER, page),
        "pagination": render_pagination(page),
    }


def render_management_page(page: RowPage) -> dict[str, Any]:
    return {
        "customerBadges": render_items(Endpoint.MANAGEMENT, page),
        "pagination": render_pagination(page),
    }
