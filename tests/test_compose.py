"""docker-compose.yml and the Dockerfile, checked by reading (no Docker engine runs here)."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import yaml

from gql_badges.cli import build_parser
from gql_badges.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict[str, Any]:
    content: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return content


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
    # The subcommands: the one action of the parser whose choices map names to parsers.
    (commands,) = [a.choices for a in build_parser()._actions if isinstance(a.choices, dict)]
    for used in ("demo-data", "load", "serve"):
        assert f"gql-badges {used}" in command
        assert used in commands
    assert "--host 0.0.0.0" in command


def test_dockerfile_installs_the_package() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install" in dockerfile and "COPY gql_badges" in dockerfile
    # The image gets the locked versions, never whatever the index serves that day.
    assert "--require-hashes -r requirements/base.txt" in dockerfile
    assert "--no-deps ." in dockerfile
    assert '"gql-badges", "serve"' in dockerfile


def _compose_text() -> str:
    return (ROOT / "docker-compose.yml").read_text()


def test_every_command_works_without_the_secret() -> None:
    """Compose interpolates the whole file for every command: a required variable (`${X:?}`,
    `${X?}`) would make `docker compose down` and `logs` fail without it."""
    text = _compose_text().replace("$$", "")  # `$$` is a literal `$` for the container's shell
    variables = re.findall(r"\$\{([^}]*)\}", text)
    assert variables, "the file should still read the secret from the environment"
    for variable in variables:
        assert "?" not in variable, variable
    assert re.search(r"\$[A-Za-z_]", text) is None  # a bare $NAME: compose warns when unset


def test_the_gateway_refuses_to_start_without_the_secret() -> None:
    """The gateway's command, as the container's shell gets it, stops before serving."""
    gateway = compose()["services"]["gateway"]
    assert gateway["environment"]["GQL_BADGES_JWT_SECRET"] == "${GQL_BADGES_JWT_SECRET:-}"
    command = [part.replace("$$", "$") for part in gateway["command"]]
    result = subprocess.run(
        command, env={"PATH": "/usr/bin:/bin", "GQL_BADGES_JWT_SECRET": ""},
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode == 64
    assert "set GQL_BADGES_JWT_SECRET" in result.stderr
    assert "$(openssl rand -hex 32)" in result.stderr  # printed as an example, not run


def test_published_on_loopback_only() -> None:
    for service in compose()["services"].values():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), port


def test_the_build_backend_reads_the_licence_string() -> None:
    """`license = "MIT"` (an SPDX expression) needs setuptools 77 or newer to build."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert isinstance(pyproject["project"]["license"], str)
    (setuptools,) = [r for r in pyproject["build-system"]["requires"] if "setuptools" in r]
    minimum = re.fullmatch(r"setuptools>=(\d+)(\.\d+)*", setuptools)
    assert minimum and int(minimum.group(1)) >= 77, setuptools


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
