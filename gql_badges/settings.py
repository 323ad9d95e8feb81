"""Configuration, read once from the environment at start-up and passed down."""

from __future__ import annotations

import re
import secrets
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# A browser's serialized origin: scheme, host and port only (no path, no trailing slash).
_ORIGIN = re.compile(r"https?://[^/\s?#@]+")


class Driver(StrEnum):
    MOTOR = "motor"
    PYMONGO = "pymongo"


class ReadPreference(StrEnum):
    """MongoDB's read preference modes, spelled as in a connection string."""

    PRIMARY = "primary"
    PRIMARY_PREFERRED = "primaryPreferred"
    SECONDARY = "secondary"
    SECONDARY_PREFERRED = "secondaryPreferred"
    NEAREST = "nearest"


class Settings(BaseSettings):
    """Every knob of the gateway; each field is read from `GQL_BADGES_<NAME>`."""

    model_config = SettingsConfigDict(env_prefix="GQL_BADGES_", frozen=True)

    mongodb_uri: str | None = None
    database: str = "badges"
    data_dir: Path = Path(".gql-badges-data")
    jwt_secret: SecretStr = Field(default_factory=lambda: SecretStr(secrets.token_urlsafe(32)))
    # PyMongo's async client: Motor reached end of life on 2026-05-14 (critical fixes only, until
    # 2027-05-14). Motor stays selectable for deployments standardised on it.
    driver: Driver = Driver.PYMONGO

    # Database fault handling: a server-side limit on every operation and a client-side bound on
    # finding a server, so an unreachable database answers 503 quickly instead of hanging.
    db_timeout_ms: int = Field(default=5000, ge=100)
    server_selection_timeout_ms: int = Field(default=3000, ge=100)
    # Reads may go to a secondary while there is no primary (an election takes up to ~12 s);
    # a `readPreference` in the connection string wins over this.
    read_preference: ReadPreference = ReadPreference.PRIMARY_PREFERRED
    # Off for read-only deployments: `serve` then only checks the indexes and reports the
    # missing ones in /readyz; `gql-badges indexes --create` builds them.
    create_indexes: bool = True

    # How long a verified credential and a client record are trusted without asking MongoDB again.
    auth_cache_seconds: float = Field(default=30.0, ge=0)
    token_ttl_seconds: int = Field(default=300, ge=1)

    # Logins whose credentials are not yet verified (each costs an Argon2 verification): how many
    # run at once; how many failures each (username, address), each address, and each username
    # may make (token buckets: the burst, refilled per minute). An address that has logged in as
    # a username never spends that username's budget (README, "Limits").
    login_max_concurrent: int = Field(default=1, ge=1)
    login_attempts_per_minute: float = Field(default=10.0, gt=0)
    login_attempts_burst: int = Field(default=20, ge=1)
    login_address_per_minute: float = Field(default=30.0, gt=0)
    login_address_burst: int = Field(default=60, ge=1)
    login_username_per_minute: float = Field(default=600.0, gt=0)
    login_username_burst: int = Field(default=1200, ge=1)

    # Per-client token bucket: requests a second on average, and the largest burst; 0 turns it off.
    rate_limit_per_second: float = Field(default=100.0, ge=0)
    rate_limit_burst: int = Field(default=200, ge=1)

    # The largest page a request may ask for (100 by the contract); the benchmark raises it.
    # Bounded so that a page of large badges stays far below MongoDB's 16 MiB per reply batch.
    max_page_size: int = Field(default=100, ge=1, le=1_000)

    # GraphQL cost protection: refused documents answer QUERY_TOO_COMPLEX naming the limit.
    graphql_max_depth: int = Field(default=12, ge=2)
    # Introspection nests deeper (`ofType` chains) than data: the standard documents need 15.
    graphql_max_introspection_depth: int = Field(default=16, ge=2)
    graphql_max_aliases: int = Field(default=30, ge=0)
    graphql_max_cost: int = Field(default=150_000, ge=1)
    # Parsing costs about 12 µs a token before any other check can run: 2,500 keep a refusal
    # near 30 ms, and are eight times the largest legitimate document (305 tokens).
    graphql_max_tokens: int = Field(default=2_500, ge=100)
    graphql_introspection: bool = True
    # Queries over the badge root fields run from compiled plans (graphql/plan.py); off, every
    # operation goes through graphql-core's field-by-field execution (the same answers, slower).
    graphql_compiled: bool = True
    # An Apollo persisted-query manifest: only the operations it lists run (safelist mode).
    persisted_operations: Path | None = None
    # GraphiQL for a browser's GET /graphql, with its files served by the gateway itself.
    graphiql: bool = True
    # The largest request head (all header lines), and body; larger answers 431 and 413.
    max_header_bytes: int = Field(default=16 * 1024, ge=1024)
    # The largest request body (a GraphQL document with its variables); larger answers 413.
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)

    # Live subscriptions (WebSocket and SSE on /graphql, fed by one change stream; see
    # docs/architecture.md): each subscriber's queue of undelivered events (full: the
    # subscription ends with SUBSCRIBER_TOO_SLOW), subscriptions per connection, live
    # connections (WebSockets and event streams) per API client, the wait for
    # `connection_init`, the server's ping interval (shorter than any proxy's idle timeout),
    # the largest message a client may send, how often a subscription's credentials are
    # checked again (a deactivated client's subscriptions end within twice this), and how long
    # a stopping process gives its sockets to close.
    live_queue_size: int = Field(default=100, ge=1, le=100_000)
    live_max_subscriptions_per_connection: int = Field(default=20, ge=1)
    live_max_connections_per_client: int = Field(default=200, ge=1)
    live_init_timeout_seconds: float = Field(default=10.0, gt=0)
    live_ping_seconds: float = Field(default=15.0, gt=0)
    live_max_message_bytes: int = Field(default=64 * 1024, ge=1024)
    live_recheck_seconds: float = Field(default=30.0, gt=0)
    live_drain_seconds: float = Field(default=10.0, ge=0)

    # Operations: Prometheus metrics (on /metrics, or on a listener of their own at host:port),
    # logs (JSON lines unless stdout is a terminal), and rate limits shared through Redis.
    metrics: bool = True
    metrics_address: str | None = Field(default=None, pattern=r"^[^:\s]*:\d{1,5}$")
    log_format: Literal["json", "text"] | None = None
    log_level: str = Field(default="INFO", pattern=r"(?i)^(debug|info|warning|error|critical)$")
    redis_url: str | None = None
    # Browser origins that may call the gateway (CORS; the live endpoints' origin check too):
    # comma-separated exact origins, `*` for any (only when written out); none by default.
    cors_origins: Annotated[tuple[str, ...], NoDecode] = ()

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            return value  # pydantic names the wrong type
        origins = []
        for item in map(str, items):
            origin = item.strip().lower()  # browsers send scheme and host in lower case
            if not origin:
                continue
            if origin != "*" and not _ORIGIN.fullmatch(origin):
                raise ValueError(
                    f"{item.strip()!r} is not an origin: write scheme://host[:port], "
                    "e.g. https://app.example.com, with no path or trailing slash"
                )
            origins.append(origin)
        return tuple(origins)
