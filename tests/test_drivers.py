"""One end-to-end pass per driver: both APIs through the real app, on PyMongo's async client
(the default) and on Motor (still supported with `GQL_BADGES_DRIVER=motor`).

Everything else above the storage layer runs once, on the default driver; the tests of what
writes and reads through a driver itself (`tests/storage/test_client.py`,
`tests/test_loading.py`) run on each.
"""

from __future__ import annotations

import httpx
import pytest

from gql_badges.demo.handles import SWATI
from gql_badges.services import Services
from gql_badges.settings import Driver, Settings
from tests.support import CUSTOMER, MANAGEMENT, get, graphql

QUERY = """query ($id: ID!) {
  customerBadges(customer: {id: $id}, badgeType: EARNED, sortOn: RANK) {
    badges { name badgeRank } pagination { total }
  }
  badgeManagement(customer: {id: $id}) { customerBadges { name badgeStatus } pagination { total } }
}"""


def test_the_default_driver_is_pymongos_async_client() -> None:
    assert Settings.model_fields["driver"].default is Driver.PYMONGO


@pytest.mark.every_driver
@pytest.mark.usefixtures("demo")
async def test_rest_and_graphql_answer_the_same_on_this_driver(
    services: Services, client: httpx.AsyncClient, org_b_auth: dict[str, str]
) -> None:
    ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text

    rest = await get(client, CUSTOMER + SWATI.key, org_b_auth, {"badgeType": "EARNED"})
    rest_management = await get(client, MANAGEMENT + SWATI.key, org_b_auth)
    body = await graphql(client, QUERY, org_b_auth, id=str(SWATI.id))
    assert "errors" not in body, body
    earned = body["data"]["customerBadges"]
    management = body["data"]["badgeManagement"]

    assert earned["pagination"]["total"] == rest["data"]["pagination"]["total"] > 0
    assert sorted(b["name"] for b in earned["badges"]) == sorted(
        b["name"] for b in rest["data"]["badges"]
    )
    assert management["pagination"]["total"] == rest_management["data"]["pagination"]["total"] > 0
    # The client under the app is the driver's own, not the default one twice.
    package = type(services.database.client).__module__.split(".")[0]
    assert package == {Driver.PYMONGO: "pymongo", Driver.MOTOR: "motor"}[services.settings.driver]
