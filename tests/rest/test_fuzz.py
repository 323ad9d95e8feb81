"""Fuzz the REST side from its own OpenAPI document (schemathesis), against a live server.

Valid and invalid requests generated from `/openapi.json` must never get a 5xx, and every
answer must match the document: a documented status, JSON, and the declared schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from requests.structures import CaseInsensitiveDict
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from gql_badges.app import create_app
from gql_badges.demo.handles import SWATI
from gql_badges.rest.openapi import openapi_document
from gql_badges.services import Services
from tests.support import served_in_thread

schema = schemathesis.openapi.from_dict(openapi_document())
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], with_security_parameters=False
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="session")
def live_gateway(services: Services, demo: object) -> Iterator[str]:
    """The app under uvicorn on a free loopback port, in a thread with its own event loop."""
    settings_ = services.settings.model_copy(update={"rate_limit_per_second": 0})
    with served_in_thread(create_app(settings_, services.database.uri)) as base:
        yield base


@pytest.fixture(scope="session")
def demo_auth(org_b_auth: dict[str, str]) -> dict[str, str]:
    return org_b_auth


@pytest.mark.slow  # schemathesis against a live server
@schema.parametrize()
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_errors_and_the_document_holds(
    case: Case[Any], live_gateway: str, demo_auth: dict[str, str]
) -> None:
    case.call_and_validate(base_url=live_gateway, checks=CHECKS)
    if case.operation.path.startswith("/api_gateway"):
        # Again with valid credentials and a customer that exists, so the query parameters
        # are what is fuzzed and most answers are pages (auth failures: test_errors).
        kept = {k: v for k, v in (case.headers or {}).items() if not k.lower().startswith("x-cap")}
        case.headers = CaseInsensitiveDict({**kept, **demo_auth})
        case.path_parameters = {"customerId": SWATI.key}
        case.call_and_validate(base_url=live_gateway, checks=CHECKS)


def test_the_served_document_is_the_one_fuzzed(live_gateway: str) -> None:
    import httpx

    served = httpx.get(f"{live_gateway}/openapi.json").json()
    assert served == openapi_document()
    schemathesis.openapi.from_dict(served).validate()
