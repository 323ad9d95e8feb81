"""Rows as the legacy callers read them, their keys in order (docs/semantics.md, REST rendering).

Instants become epoch seconds, each followed by an ISO-8601 twin named `<field>ISO`; ids become
hex strings; stored sub-documents (images, ownership, tags, custom fields, constraints) pass
through as stored, but for the dates inside constraints, which become epoch seconds too.

What to write for each field is decided once per endpoint from the item table
(`badges/items.py`), so rendering an item is a copy of a template holding its keys in order,
then one pass per group of fields that are written alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from gql_badges.badges.items import Endpoint, Item, Kind, derive, rest_fields, rest_keys
from gql_badges.badges.repository import RowPage
from gql_badges.storage.collections import Document
from gql_badges.timefmt import epoch_seconds, format_iso


def _dated(stored: list[Any]) -> list[Any]:
    """Sub-documents as stored, their dates (`startDate`, `endDate`) as epoch seconds + twins.
    The stored list itself when no date is inside (most constraints have none)."""
    for index, document in enumerate(stored):
        if isinstance(document, dict) and any(
            isinstance(value, datetime) for value in document.values()
        ):
            return stored[:index] + [_with_instants(document) for document in stored[index:]]
    return stored


def _with_instants(document: Any) -> Any:
    if not isinstance(document, dict):
        return document
    converted: dict[str, Any] = {}
    for key, value in document.items():
        if isinstance(value, datetime):
            converted[key] = epoch_seconds(value)
            converted[key + "ISO"] = format_iso(value)
        else:
            converted[key] = value
    return converted


class ItemWriter:
    """Writes the items of one endpoint. Keys come from a template in the legacy order (values
    None, so a null instant costs nothing); then the fields copied as stored, in one C-level
    pass; then the instants; then everything else, by its `value`."""

    def __init__(self, endpoint: Endpoint) -> None:
        fields = rest_fields(endpoint)
        self.template = dict.fromkeys(rest_keys(endpoint, earned=False))
        self.earned_template = dict.fromkeys(rest_keys(endpoint, earned=True))
        copied = [(f.name, f.stored) for f in fields if f.stored and f.kind is not Kind.INSTANT]
        self.copied_names = tuple(name for name, _ in copied)
        self.copied_keys = tuple(key for _, key in copied)
        instants = [(f.name, f.stored) for f in fields if f.stored and f.kind is Kind.INSTANT]
        self.instant_names = tuple((name, name + "ISO") for name, _ in instants)
        self.instant_keys = tuple(key for _, key in instants)
        self.computed_instants = tuple(
            (f.name, f.name + "ISO", f.value)
            for f in fields
            if f.stored is None and f.kind is Kind.INSTANT and not f.only_when_earned
        )
        self.earned_instants = tuple(
            (f.name, f.name + "ISO", f.value) for f in fields if f.only_when_earned
        )
        self.computed = tuple(
            (f.name, f.value)
            for f in fields
            if f.stored is None and f.kind is not Kind.INSTANT and not f.instants_inside
        )
        self.dated = tuple((f.name, f.value) for f in fields if f.instants_inside)
        if any(f.kind is not Kind.INSTANT for f in fields if f.only_when_earned):
            raise AssertionError("only instants are left out of items not earned")
        written = {name for pair in self.instant_names for name in pair}
        written |= {name for name, iso, _ in self.computed_instants + self.earned_instants}
        written |= {iso for name, iso, _ in self.computed_instants + self.earned_instants}
        written |= {*self.copied_names, *(name for name, _ in self.computed + self.dated)}
        if written != set(self.earned_template):
            raise AssertionError(f"keys without a writer: {set(self.earned_template) ^ written}")

    def write(self, item: Item) -> dict[str, Any]:
        out = (self.earned_template if item.earned else self.template).copy()
        badge: Mapping[str, Any] = item.badge  # read by the table's names, not literal keys
        out.update(zip(self.copied_names, map(badge.get, self.copied_keys), strict=True))
        for (name, iso), value in zip(
            self.instant_names, map(badge.get, self.instant_keys), strict=True
        ):
            if value is not None:
                out[name] = epoch_seconds(value)
                out[iso] = format_iso(value)
        instants = self.earned_instants if item.earned else ()
        for name, iso, read in self.computed_instants + instants:
            value = read(item)
            if value is not None:
                out[name] = epoch_seconds(value)
                out[iso] = format_iso(value)
        for name, read in self.computed:
            out[name] = read(item)
        for name, read in self.dated:
            out[name] = _dated(read(item))
        return out


WRITERS = {endpoint: ItemWriter(endpoint) for endpoint in Endpoint}


def render_items(endpoint: Endpoint, page: RowPage) -> list[Document]:
    write = WRITERS[endpoint].write
    return [write(item) for item in derive(page.rows, page.now)]


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
