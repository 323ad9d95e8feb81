"""docker-compose.yml and the Dockerfile, checked by reading (no Docker engine runs here)."""

from __future__ import annotations

from pathlib import Path

import yaml

from gql_badges.cli import build_parser
from gql_badges.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_services_and_replica_set() -> None:
    services = compose()["services"]
    assert set(services) == {"mongo", "gateway"}
    mongo = services["mongo"]
    assert "--replSet" in mongo["command"]
    assert "rs.initiate" in " ".join(mongo["healthcheck"]["test"])
    assert any(volume.endswith(":/data/db") for volume in mongo["volumes"])
    gateway = services["gateway"]
    assert gateway["depends_on"]["mongo"]["condition"] == "service_healthy"
    assert "replicaSet=rs0" in gateway["environment"]["GQL_BADGES_MONGODB_URI"]
    assert gateway["environment"]["GQL_BADGES_MONGODB_URI"].startswith("mongodb://mongo:")


def test_gateway_environment_names_real_settings() -> None:
    environment = compose()["services"]["gateway"]["environment"]
    known = {f"GQL_BADGES_{name.upper()}" for name in Settings.model_fields}
    assert set(environment) <= known
    assert environment["GQL_BADGES_DRIVER"] in {"motor", "pymongo"}


def test_gateway_command_uses_the_cli() -> None:
    command = " ".join(compose()["services"]["gateway"]["command"])
    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for used in ("demo-data", "load", "serve"):
        assert f"gql-badges {used}" in command
        assert used in commands
    assert "--host 0.0.0.0" in command


def test_dockerfile_installs_the_package() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install" in dockerfile and "COPY gql_badges" in dockerfile
    assert '"gql-badges", "serve"' in dockerfile
