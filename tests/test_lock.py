"""The lock (`requirements/*.txt`): every distribution pyproject.toml names is pinned there, the
profiles agree, and this environment holds exactly the locked versions.

A dependency added to pyproject.toml without `./dev lock` fails here, as does a venv that drifted
from the lock (reinstall with `./dev test`, which installs from the lock when it changed).
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.support import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
# Which of pyproject's groups each lock file serves: the Dockerfile, `./dev serve`, `./dev test`.
PROFILES = {"base": [], "embedded": ["embedded"], "dev": ["dev"]}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", re.MULTILINE)


def locked(profile: str) -> dict[str, Version]:
    text = (ROOT / "requirements" / f"{profile}.txt").read_text()
    return {canonicalize_name(name): Version(version) for name, version in PIN.findall(text)}


def named(extras: list[str]) -> list[Requirement]:
    lines = list(PYPROJECT["dependencies"])
    for extra in extras:
        lines += PYPROJECT["optional-dependencies"][extra]
    return [Requirement(line) for line in lines]


@pytest.mark.parametrize("profile", PROFILES)
def test_every_named_distribution_is_locked_within_its_range(profile: str) -> None:
    pins = locked(profile)
    for requirement in named(PROFILES[profile]):
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is in pyproject.toml but not in requirements/{profile}.txt"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"requirements/{profile}.txt pins {name}=={pins[name]}, outside {requirement}"
        )


def test_every_pin_carries_its_hashes() -> None:
    """`pip install --require-hashes` refuses a file whose hash the lock does not list."""
    for profile in PROFILES:
        text = (ROOT / "requirements" / f"{profile}.txt").read_text()
        hashed = re.findall(r"^\S+==\S+ \\\n\s+--hash=sha256:", text, re.MULTILINE)
        assert len(hashed) == len(PIN.findall(text)), f"requirements/{profile}.txt"


def test_the_profiles_agree_on_every_version() -> None:
    """base and embedded are resolved under dev's pins, so a library is one version everywhere."""
    dev = locked("dev")
    for profile in ("base", "embedded"):
        for name, version in locked(profile).items():
            assert dev.get(name) == version, f"{name}: {profile} {version}, dev {dev.get(name)}"


def test_this_environment_holds_the_locked_versions() -> None:
    drifted = []
    for name, version in locked("dev").items():
        try:
            installed = Version(metadata.version(name))
        except metadata.PackageNotFoundError:
            drifted.append(f"{name} (locked {version}) is not installed")
            continue
        if installed != version:
            drifted.append(f"{name} {installed} is installed, {version} is locked")
    assert not drifted, "; ".join(drifted) + " (reinstall: ./dev test)"


def test_the_libraries_whose_internals_are_used_are_capped_at_the_locked_minor() -> None:
    """compiled execution is tested against the locked strawberry-graphql and graphql-core only:
    pyproject.toml must not let an install reach their next minor release."""
    pins = locked("base")
    for requirement in named([]):
        name = canonicalize_name(requirement.name)
        if name not in ("strawberry-graphql", "graphql-core"):
            continue
        major, minor = pins[name].release[:2]
        next_minor = Version(f"{major}.{minor + 1}")
        assert not requirement.specifier.contains(next_minor, prereleases=True), requirement
