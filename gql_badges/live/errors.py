"""Why a live subscription ended, or was refused: each a code the client can act on.

GatewayError
├── SubscriberTooSlow         its queue filled: it read too slowly; subscribe again
├── SubscriptionReset         the change stream lost its place: refetch, subscribe again
├── ServerShuttingDown        this process is stopping: reconnect (to another replica)
└── SubscriptionsUnavailable  this deployment cannot serve subscriptions (no change streams)
"""

from __future__ import annotations

from gql_badges.errors import GatewayError


class SubscriberTooSlow(GatewayError):
    http_status = 503
    graphql_code = "SUBSCRIBER_TOO_SLOW"
    default_message = (
        "The subscription ended: its events were not read fast enough. "
        "Refetch the badges and subscribe again"
    )


class SubscriptionReset(GatewayError):
    http_status = 503
    graphql_code = "SUBSCRIPTION_RESET"
    default_message = (
        "The subscription ended: the gateway lost its place in the database's change history, "
        "so events may be missing. Refetch the badges and subscribe again"
    )


class ServerShuttingDown(GatewayError):
    http_status = 503
    graphql_code = "SERVER_SHUTTING_DOWN"
    default_message = "The subscription ended: this gateway process is stopping. Subscribe again"


class SubscriptionsUnavailable(GatewayError):
    http_status = 503
    capillary_code = 503
    graphql_code = "SUBSCRIPTIONS_UNAVAILABLE"
    default_message = "Subscriptions are not available"


__all__ = [
    "ServerShuttingDown",
    "SubscriberTooSlow",
    "SubscriptionReset",
    "SubscriptionsUnavailable",
]
