"""Traces through the real app to an OTLP/HTTP receiver: one server span per request, the
GraphQL operation under it, one client span per MongoDB command (counted on the wire)."""

from __future__ import annotations

import logging

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from gql_badges.app import create_app
from gql_badges.demo.handles import SWATI
from gql_badges.observability.tracing import tracing_from_environment
from gql_badges.services import Services
from tests.support import asgi_client, make_settings
from tests.support.otlp_receiver import OTLPReceiver, attributes
from tests.support.wire_proxy import CountingProxy

pytestmark = pytest.mark.usefixtures("demo")

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
QUERY = (
    f'query Earned {{ customerBadges(customer: {{id: "{SWATI.key}"}}) {{ badges {{ name }} }} }}'
)


def test_tracing_is_off_unless_otlp_is_asked_for() -> None:
    assert tracing_from_environment({}) is None
    assert tracing_from_environment({"OTEL_TRACES_EXPORTER": "none"}) is None
    off = {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}
    assert tracing_from_environment(off) is None


async def test_a_request_is_traced_to_its_database_commands(
    services: Services,
    org_b_auth: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with OTLPReceiver() as receiver:
        monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
        monkeypatch.setenv("OTEL_SERVICE_NAME", "badges-under-test")
        proxy = await CountingProxy(services.database.uri).start()
        settings = make_settings(services.settings.driver, database=services.settings.database)
        own = Services.create(settings, proxy.uri)
        assert own.tracing is not None
        app = create_app(settings, services=own)
        try:
            async with asgi_client(app) as client:
                warm = await client.post("/graphql", json={"query": QUERY}, headers=org_b_auth)
                assert warm.status_code == 200
                proxy.commands.clear()
                traceparent = {"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"}
                with caplog.at_level(logging.INFO, logger="gql_badges.access"):
                    answer = await client.post(
                        "/graphql", json={"query": QUERY}, headers=org_b_auth | traceparent
                    )
                assert "errors" not in answer.json()
                sent = list(proxy.commands)
        finally:
            await proxy.stop()
            await own.database.close()
            own.tracing.shutdown()  # flushes the batch to the receiver

    spans = [span for span in receiver.spans if span.trace_id.hex() == TRACE_ID]
    by_kind: dict[int, list[Span]] = {}
    for span in spans:
        by_kind.setdefault(span.kind, []).append(span)
    [server] = by_kind[Span.SPAN_KIND_SERVER]
    assert server.parent_span_id.hex() == PARENT_ID
    assert server.name == "POST /graphql"
    assert attributes(server)["http.route"] == "/graphql"
    assert attributes(server)["http.response.status_code"] == 200

    [operation] = by_kind[Span.SPAN_KIND_INTERNAL]
    assert operation.parent_span_id == server.span_id
    assert operation.name == "query Earned"
    assert [event.name for event in operation.events] == [
        "graphql.parse",
        "graphql.validate",
        "graphql.execute",
    ]

    commands = by_kind[Span.SPAN_KIND_CLIENT]
    assert len(commands) == len(sent) >= 3
    assert sorted(str(attributes(span)["db.operation"]) for span in commands) == sorted(sent)
    for span in commands:
        assert span.parent_span_id == operation.span_id
        values = attributes(span)
        assert values["db.system"] == "mongodb"
        assert values["db.name"] == settings.database
        assert SWATI.key not in str(values)  # no filter values
    assert {"badges-under-test"} == {r["service.name"] for r in receiver.resources}

    [access] = [r for r in caplog.records if r.name == "gql_badges.access"]
    assert vars(access)["fields"]["request_id"] == TRACE_ID
