"""How secrets are stored: Argon2 hashes only (of the MD5 for passwords, as Basic clients send
them; of the secret itself for OAuth secrets), and how a secret is checked against one."""

from __future__ import annotations

import hashlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified against when a username or key does not exist, so failure costs the same either way.
_DUMMY_HASH = _hasher.hash("gql-badges: no such client")


def md5_hex(password: str) -> str:
    """What a legacy Basic client sends in place of its password."""
    return hashlib.md5(password.encode()).hexdigest()


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


def password_hash(password: str) -> str:
    """The stored form of a plain password: Argon2 of its MD5, as Basic clients send it."""
    return hash_secret(md5_hex(password))


def verify(stored_hash: str | None, secret: str) -> bool:
    """Whether `secret` matches; for no hash at all, as slow a False as for a wrong secret."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, secret) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False
