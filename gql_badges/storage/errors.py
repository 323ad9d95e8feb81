"""Driver failures that mean "the database cannot answer now", as `DatabaseUnavailable`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from pymongo.errors import ConnectionFailure, DocumentTooLarge, OperationFailure, PyMongoError

from gql_badges.errors import DatabaseUnavailable

# Server error codes that mean "not now": an election, a node shutting down or recovering, a
# query killed by the server (plan killed, interrupted, time limit), or a cursor that vanished
# with a failed-over node. The caller may retry; nothing about the request was wrong.
TRANSIENT_CODES: frozenset[int] = frozenset(
    {
        6,  # HostUnreachable
        7,  # HostNotFound
        24,  # LockTimeout
        43,  # CursorNotFound
        46,  # LockBusy
        50,  # MaxTimeMSExpired
        89,  # NetworkTimeout
        91,  # ShutdownInProgress
        112,  # WriteConflict
        133,  # FailedToSatisfyReadPreference
        134,  # ReadConcernMajorityNotAvailableYet
        175,  # QueryPlanKilled
        189,  # PrimarySteppedDown
        202,  # NetworkInterfaceExceededTimeLimit
        262,  # ExceededTimeLimit
        9001,  # SocketException
        10058,  # LegacyNotPrimary
        10107,  # NotWritablePrimary
        10334,  # BSONObjectTooLarge: a result larger than 16 MiB
        11600,  # InterruptedAtShutdown
        11601,  # Interrupted
        11602,  # InterruptedDueToReplStateChange
        13435,  # NotPrimaryNoSecondaryOk
        13436,  # NotPrimaryOrSecondary
        17419,  # a document grown beyond 16 MiB
    }
)
# How long a caller should wait: an election takes up to ~12 s, most are over in a few.
RETRY_AFTER_SECONDS = 5


def translate_driver_error(error: BaseException) -> DatabaseUnavailable | None:
    """`DatabaseUnavailable` for a driver failure that means "the database cannot answer now",
    else None (a bug or bad data: let it surface as what it is)."""
    # DocumentTooLarge: a command or reply beyond 16 MiB, which a smaller page avoids.
    transient = isinstance(error, ConnectionFailure | DocumentTooLarge)
    if isinstance(error, OperationFailure):
        transient = error.code in TRANSIENT_CODES or error.has_error_label(
            "TransientTransactionError"
        )
    if transient:
        return DatabaseUnavailable(retry_after_seconds=RETRY_AFTER_SECONDS)
    return None


@asynccontextmanager
async def unavailable_on_driver_errors() -> AsyncIterator[None]:
    """Raise the failures `translate_driver_error` knows as `DatabaseUnavailable`."""
    try:
        yield
    except PyMongoError as error:
        unavailable = translate_driver_error(error)
        if unavailable is None:
            raise
        raise unavailable from error
