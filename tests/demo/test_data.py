"""The demo data set as package data: a load file with dates relative to now, and its handles."""

from __future__ import annotations

import glob
import tomllib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

from gql_badges.demo import DEMO_CLIENTS, credentials_text, demo_documents, raw_documents
from gql_badges.demo.handles import (
    BECKY,
    BIRTHDAY_BADGE,
    GROUP_B,
    HUCK,
    INACTIVE_CLIENT,
    ORG_A,
    ORG_A_CLIENT,
    ORG_B,
    ORG_B_CLIENT,
    SWATI,
    TOM,
)
from gql_badges.loading import validate_documents
from tests.support import ROOT

NOW = datetime(2031, 2, 28, 12, 30, 5, tzinfo=UTC)


def _dates(value: Any, path: str = "") -> dict[str, datetime]:
    """Every datetime in `value`, by its path."""
    if isinstance(value, datetime):
        return {path: value}
    items: Iterable[tuple[object, Any]]
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return {}
    found: dict[str, datetime] = {}
    for key, item in items:
        found |= _dates(item, f"{path}/{key}")
    return found


def _without_dates(value: Any) -> Any:
    if isinstance(value, datetime):
        return "a date"
    if isinstance(value, dict):
        return {key: _without_dates(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_dates(item) for item in value]
    return value


def test_package_data_puts_the_demo_data_in_the_wheel() -> None:
    """setuptools globs `package-data` patterns in the package directory; so does this test."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["gql_badges.demo"]
    root = ROOT / "gql_badges" / "demo"
    matched = {path for pattern in patterns for path in glob.glob(pattern, root_dir=root)}
    assert "data.json" in matched
    assert resources.files("gql_badges.demo").joinpath("data.json").is_file()


def test_dates_are_resolved_against_now_and_nothing_else_moves() -> None:
    later = NOW + timedelta(days=400, hours=3)
    first, second = demo_documents(NOW), demo_documents(later)
    first_dates, second_dates = _dates(first), _dates(second)
    assert first_dates and first_dates.keys() == second_dates.keys()
    assert all(d.tzinfo is not None for d in first_dates.values())
    assert {second_dates[p] - first_dates[p] for p in first_dates} == {later - NOW}
    # Relative to now both ways: badges that expired, badges still to start.
    expires = [b["expiresOn"] for b in first["badge_meta"]]
    assert min(expires) < NOW < max(expires)
    # Apart from the dates, the documents are the same.
    assert _without_dates(first) == _without_dates(second)


def test_now_is_taken_to_the_second() -> None:
    documents = demo_documents(NOW.replace(microsecond=654_321))
    assert documents == demo_documents(NOW)


def test_the_file_is_a_valid_load_file() -> None:
    checked = validate_documents(demo_documents(NOW))
    assert {name: len(docs) for name, docs in checked.items()} == {
        "badge_groups": 3,
        "badge_meta": 20,
        "customers": 4,
        "customer_badges": 10,
        "api_clients": 3,
    }


def test_the_handles_name_what_the_file_holds() -> None:
    customers = {c["_id"]: c for c in raw_documents()["customers"]}
    for handle, org in ((TOM, ORG_A), (HUCK, ORG_A), (SWATI, ORG_B), (BECKY, ORG_B)):
        stored = customers[handle.id]
        assert (stored["orgId"], stored["email"], tuple(stored["cardNumbers"])) == (
            org,
            handle.email,
            handle.card_numbers,
        )
        assert handle.ref == {"id": str(handle.id)}
    assert [c.org_id for c in (ORG_A_CLIENT, ORG_B_CLIENT, INACTIVE_CLIENT)] == [
        ORG_A,
        ORG_B,
        ORG_B,
    ]
    assert not INACTIVE_CLIENT.active and ORG_A_CLIENT.active and ORG_B_CLIENT.active
    assert set(DEMO_CLIENTS) == {ORG_A_CLIENT, ORG_B_CLIENT, INACTIVE_CLIENT}
    birthday = next(b for b in demo_documents(NOW)["badge_meta"] if b["_id"] == BIRTHDAY_BADGE)
    assert (birthday["name"], birthday["badgeGroupId"]) == ("Birthday Badge", GROUP_B)


def test_the_credentials_text_names_every_client() -> None:
    text = credentials_text()
    for client in DEMO_CLIENTS:
        assert f"username={client.username} password={client.password}" in text
        assert f"key={client.key} secret={client.secret}" in text
    assert text.count("inactive: answers 403") == 1
