"""Argon2 as stored: the production parameters, the tests' cheap profile, and the hash an unknown
client is verified against."""

from __future__ import annotations

import pytest
from argon2 import Parameters, extract_parameters
from argon2.profiles import CHEAPEST, RFC_9106_LOW_MEMORY

from gql_badges.auth import hashing


@pytest.mark.usefixtures("production_hashing")
def test_production_hashes_use_argon2s_default_rfc_9106_low_memory() -> None:
    assert hashing.PRODUCTION == RFC_9106_LOW_MEMORY
    stored = hashing.password_hash("pw")
    assert extract_parameters(stored) == RFC_9106_LOW_MEMORY
    assert hashing.verify(stored, hashing.md5_hex("pw"))
    assert not hashing.verify(stored, hashing.md5_hex("other"))


def test_the_tests_hash_cheaply_unless_the_cost_is_the_subject() -> None:
    stored = hashing.hash_secret("s")
    assert extract_parameters(stored) == CHEAPEST
    assert hashing.verify(stored, "s")
    with hashing.profile(hashing.PRODUCTION):
        # A hash made earlier verifies by its own parameters, whatever the hasher is now.
        assert hashing.verify(stored, "s")
    assert extract_parameters(hashing.hash_secret("s")) == CHEAPEST  # the profile is restored


@pytest.mark.parametrize("profile", [CHEAPEST, RFC_9106_LOW_MEMORY], ids=["cheapest", "production"])
def test_an_unknown_client_is_verified_against_a_hash_of_the_same_cost(profile: Parameters) -> None:
    with hashing.profile(profile):
        assert extract_parameters(hashing._current.dummy_hash) == profile
        assert hashing.verify(None, "anything") is False
