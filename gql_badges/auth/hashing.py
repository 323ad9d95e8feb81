"""How secrets are stored: Argon2 hashes only (of the MD5 for passwords, as Basic clients send
them; of the secret itself for OAuth secrets), and how a secret is checked against one."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator

from argon2 import Parameters, PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY

# argon2-cffi's default: 64 MiB, 3 passes, 4 lanes. Verification reads the parameters from the
# stored hash, so a hash costs what it cost to make, whatever the hasher is now.
PRODUCTION = RFC_9106_LOW_MEMORY


class _Hashing:
    """A hasher, and the hash verified against when a username or key does not exist (made with
    the same parameters, so an unknown client costs what a wrong secret costs)."""

    def __init__(self, parameters: Parameters) -> None:
        self.hasher = PasswordHasher.from_parameters(parameters)
        self.dummy_hash = self.hasher.hash("gql-badges: no such client")


_current = _Hashing(PRODUCTION)


@contextlib.contextmanager
def profile(parameters: Parameters) -> Iterator[None]:
    """Hash with `parameters` inside the block (in this process), then as before.

    For tests whose subject is not the cost of a hash (argon2's `CHEAPEST` makes one in
    microseconds instead of half a second); the gateway itself never calls it.
    """
    global _current
    previous, _current = _current, _Hashing(parameters)
    try:
        yield
    finally:
        _current = previous


def md5_hex(password: str) -> str:
    """What a legacy Basic client sends in place of its password."""
    return hashlib.md5(password.encode()).hexdigest()


def hash_secret(secret: str) -> str:
    return _current.hasher.hash(secret)


def password_hash(password: str) -> str:
    """The stored form of a plain password: Argon2 of its MD5, as Basic clients send it."""
    return hash_secret(md5_hex(password))


def verify(stored_hash: str | None, secret: str) -> bool:
    """Whether `secret` matches; for no hash at all, as slow a False as for a wrong secret."""
    hashing = _current
    try:
        return hashing.hasher.verify(stored_hash or hashing.dummy_hash, secret) and (
            stored_hash is not None
        )
    except (VerificationError, InvalidHashError):
        return False
