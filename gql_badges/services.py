"""What every request needs, made once per process from the settings."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from gql_badges.auth.credentials import Authenticator
from gql_badges.auth.limits import Limiter, LoginGate, LoginLimits
from gql_badges.badges.repository import BadgeRepository
from gql_badges.live.hub import Hub
from gql_badges.observability import context as observed
from gql_badges.observability.metrics import Metrics
from gql_badges.observability.mongodb import listeners, watch_database
from gql_badges.observability.tracing import Tracing, tracing_from_environment
from gql_badges.settings import Settings
from gql_badges.storage.client import Database
from gql_badges.storage.redis_store import RedisStore


def _login_key(settings: Settings) -> bytes:
    """The key of the login gate's hashes of usernames and addresses: derived from the JWT
    secret, so every replica (which shares that secret) and every restart computes the same."""
    secret = settings.jwt_secret.get_secret_value().encode()
    return hmac.new(secret, b"gql-badges login gate", hashlib.sha256).digest()


@dataclass
class Services:
    """What every request needs, made once per process."""

    settings: Settings
    database: Database
    authenticator: Authenticator
    repository: BadgeRepository
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    """The request's `now` (docs/semantics.md); tests set it to put data on the rules' edges."""
    metrics: Metrics | None = None
    tracing: Tracing | None = None
    store: RedisStore = field(default_factory=lambda: RedisStore(None))
    """The one Redis client (rate limits, login limits, APQ documents), or none."""
    hub: Hub | None = None  # live subscriptions' change stream (opened by the first subscriber)

    @classmethod
    def create(cls, settings: Settings, uri: str, store: RedisStore | None = None) -> Services:
        metrics = Metrics(settings.driver.value) if settings.metrics else None
        tracing = tracing_from_environment()
        database = Database(settings, uri, listeners(metrics, tracing))
        if metrics is not None:
            watch_database(metrics, database.client)
        store = store or RedisStore(settings.redis_url, on_fallback=observed.limiter_fallback)
        limits = LoginLimits(
            concurrent=settings.login_max_concurrent,
            per_minute=settings.login_attempts_per_minute,
            burst=settings.login_attempts_burst,
            address_per_minute=settings.login_address_per_minute,
            address_burst=settings.login_address_burst,
            username_per_minute=settings.login_username_per_minute,
            username_burst=settings.login_username_burst,
        )
        return cls(
            settings=settings,
            database=database,
            authenticator=Authenticator(
                database,
                settings,
                client_limit=Limiter(
                    settings.rate_limit_per_second, settings.rate_limit_burst, store
                ),
                logins=LoginGate(limits, store, _login_key(settings)),
            ),
            repository=BadgeRepository(database),
            metrics=metrics,
            tracing=tracing,
            store=store,
            hub=Hub(
                uri,
                settings.database,
                queue_size=settings.live_queue_size,
                server_selection_timeout_ms=settings.server_selection_timeout_ms,
                metrics=metrics,
            ),
        )
