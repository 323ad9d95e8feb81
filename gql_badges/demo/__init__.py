"""The demo data set: two orgs from the reference pages, customers in every state.

The documents are package data, `data.json`: a load file (MongoDB Extended JSON, as
`gql-badges load` takes) in which every date is written relative to the moment of loading,
`{"$relative": "-30d"}` (30 days ago) or `{"$relative": "+4.5d"}`, so every badgeType and status
has something to show however long after today the demo is started. `demo_documents(now)`
resolves them; the named customers and clients are in `gql_badges.demo.handles`.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any, NamedTuple

from bson import ObjectId, json_util
from bson.json_util import JSONOptions

from gql_badges.storage.collections import Document

_RELATIVE = re.compile(r"[+-]\d+(\.\d+)?d")
_JSON_OPTIONS = JSONOptions(tz_aware=True)


class DemoClient(NamedTuple):
    """An API client of the demo set, with its password and secret in plain text."""

    username: str
    password: str
    key: str
    secret: str
    org_id: int
    active: bool

    @property
    def credentials(self) -> tuple[str, str]:
        """Username and password, as Basic takes them."""
        return self.username, self.password


@cache
def _text() -> str:
    return resources.files(__package__).joinpath("data.json").read_text(encoding="utf-8")


def _relative_date(value: str, now: datetime) -> datetime:
    if not _RELATIVE.fullmatch(value):
        raise ValueError(f'demo data: "$relative" takes days as "-30d" or "+4.5d", not {value!r}')
    return now + timedelta(days=float(value[:-1]))


def demo_documents(now: datetime | None = None) -> dict[str, list[Document]]:
    """The demo set as a load file's content, its dates resolved against `now` (whole seconds)."""
    moment = (now or datetime.now(UTC)).replace(microsecond=0)

    def hook(document: dict[str, Any]) -> Any:
        if document.keys() == {"$relative"}:
            return _relative_date(document["$relative"], moment)
        return json_util.object_hook(document, _JSON_OPTIONS)

    documents: dict[str, list[Document]] = json.loads(_text(), object_hook=hook)
    return documents


@cache
def raw_documents() -> dict[str, list[dict[str, Any]]]:
    """The file as written: ids as `{"$oid": ...}`, dates unresolved (for the named handles)."""
    raw: dict[str, list[dict[str, Any]]] = json.loads(_text())
    return raw


def _clients() -> list[DemoClient]:
    return [
        DemoClient(c["username"], c["password"], c["key"], c["secret"], c["orgId"], c["active"])
        for c in raw_documents()["api_clients"]
    ]


DEMO_CLIENTS = _clients()
ORG_A, ORG_B = sorted({client.org_id for client in DEMO_CLIENTS})


def _group_id(org_id: int, name: str) -> ObjectId:
    groups = raw_documents()["badge_groups"]
    (found,) = (g["_id"]["$oid"] for g in groups if g["orgId"] == org_id and g["name"] == name)
    return ObjectId(found)


GROUP_A = _group_id(ORG_A, "Group")
GROUP_B = _group_id(ORG_B, "2024 Badges")
GROUP_B_ARCHIVE = _group_id(ORG_B, "Archive")


def credentials_text() -> str:
    lines = ["Demo credentials (Basic: username + MD5 of the password; OAuth: key + secret):"]
    for username, password, key, secret, org, active in DEMO_CLIENTS:
        state = "" if active else "  (inactive: answers 403)"
        lines.append(
            f"  org {org}: username={username} password={password} key={key} secret={secret}{state}"
        )
    return "\n".join(lines)


__all__ = [
    "DEMO_CLIENTS",
    "GROUP_A",
    "GROUP_B",
    "GROUP_B_ARCHIVE",
    "ORG_A",
    "ORG_B",
    "DemoClient",
    "credentials_text",
    "demo_documents",
    "raw_documents",
]
