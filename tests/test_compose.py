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
    assert {name for name, service in services.items() if "profiles" not in service} == {
        "mongo",
        "gateway",
    }
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


def test_scale_profile_shares_the_limit_behind_one_port() -> None:
    services = compose()["services"]
    scale = {name for name, service in services.items() if "scale" in service.get("profiles", [])}
    assert scale == {"redis", "replica", "balancer"}
    replica, gateway = services["replica"], services["gateway"]
    assert replica["deploy"]["replicas"] >= 2
    known = {f"GQL_BADGES_{name.upper()}" for name in Settings.model_fields}
    assert set(replica["environment"]) <= known
    assert replica["environment"]["GQL_BADGES_REDIS_URL"].startswith("redis://redis:")
    for shared in ("GQL_BADGES_MONGODB_URI", "GQL_BADGES_JWT_SECRET", "GQL_BADGES_DATABASE"):
        assert replica["environment"][shared] == gateway["environment"][shared]
    balancer = services["balancer"]
    assert "ports" not in replica and balancer["ports"]
    mounted = balancer["volumes"][0].split(":")[0]
    conf = (ROOT / mounted).read_text()
    assert "server replica:8000" in conf and "proxy_pass http://gateways" in conf
    published = balancer["ports"][0].split(":")[-1]
    assert f"listen {published}" in conf
