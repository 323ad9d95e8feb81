"""GraphiQL, self-hosted: its files in the package, served with immutable caching, and the page."""

from __future__ import annotations

import glob
import hashlib
import json
import re
import tomllib
from importlib import resources
from pathlib import Path

import httpx
import pytest

from gql_badges.app import create_app
from gql_badges.graphiql.assets import IMMUTABLE, assets_version, manifest
from gql_badges.graphiql.page import DEFAULT_HEADERS
from gql_badges.services import Services
from gql_badges.storage.collections import Document
from tests.support import graphql, make_settings

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = resources.files("gql_badges.graphiql")
HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def packaged_files() -> list[str]:
    """Every file the IDE needs at run time, relative to the package."""
    listed = manifest()
    return [
        "page.html",
        "boot.js",
        "default_query.graphql",
        "static/VERSIONS.json",
        *(f"static/{name}" for name in listed["files"]),
        *(f"static/{package['license_file']}" for package in listed["packages"]),
    ]


def test_the_installed_package_holds_every_asset_of_the_manifest() -> None:
    for name, entry in manifest()["files"].items():
        asset = PACKAGE.joinpath("static", name)
        assert asset.is_file(), name
        # Unchanged since scripts/refresh-graphiql copied it from its npm package.
        assert hashlib.sha256(asset.read_bytes()).hexdigest() == entry["sha256"], name
    for package in manifest()["packages"]:
        assert package["license"] == "MIT"
        assert "Permission is hereby granted" in (
            PACKAGE.joinpath("static", package["license_file"]).read_text()
        )
    assert {p["name"] for p in manifest()["packages"]} >= {
        "graphiql",
        "react",
        "react-dom",
        "@graphiql/plugin-explorer",
    }


def test_package_data_puts_every_asset_in_the_wheel() -> None:
    """setuptools globs `package-data` patterns in the package directory; so does this test."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["gql_badges.graphiql"]
    root = ROOT / "gql_badges" / "graphiql"
    matched = {path for pattern in patterns for path in glob.glob(pattern, root_dir=root)}
    assert set(packaged_files()) <= matched


def test_the_default_query_is_the_readme_example() -> None:
    readme = (ROOT / "README.md").read_text()
    example = re.search(r"## Trying it.*?```graphql\n(.*?)```", readme, re.S)
    assert example is not None
    assert PACKAGE.joinpath("default_query.graphql").read_text().endswith(example.group(1))


def test_the_example_header_is_json_graphiql_can_parse() -> None:
    # GraphiQL 3 runs JSON.parse on the headers pane; a comment line would break every run.
    assert json.loads(DEFAULT_HEADERS) == {
        "#Authorization": "Basic base64(username:md5-hex-of-password)"
    }


async def test_a_browser_gets_the_page_loading_only_the_gateway_s_files(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/graphql", headers=HTML)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "<title>gql-badges</title>" in page
    loaded = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert sorted(loaded) == sorted(
        ["data:,", *(f"graphiql/{assets_version()}/{name}" for name in manifest()["files"])]
    )
    assert "http://" not in page.replace("http://www.w3.org", "")
    assert "https://" not in page
    assert "{{" not in page
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "connect-src 'self'" in policy


async def test_the_page_s_default_query_runs(
    client: httpx.AsyncClient, org_b_auth: dict[str, str], demo: dict[str, list[Document]]
) -> None:
    body = await graphql(client, PACKAGE.joinpath("default_query.graphql").read_text(), org_b_auth)
    assert "errors" not in body, body
    assert body["data"]["customerBadges"]["badges"]
    assert body["data"]["badgeManagement"]["pagination"]["total"] >= 1


async def test_assets_are_served_immutable_under_their_version(client: httpx.AsyncClient) -> None:
    for name in manifest()["files"]:
        response = await client.get(f"/graphiql/{assets_version()}/{name}")
        assert response.status_code == 200, name
        assert response.headers["cache-control"] == IMMUTABLE
        expected = "text/javascript" if name.endswith(".js") else "text/css"
        assert response.headers["content-type"].startswith(expected)
        assert hashlib.sha256(response.content).hexdigest() == manifest()["files"][name]["sha256"]


async def test_a_large_asset_is_sent_gzipped_to_a_client_that_accepts_it(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(
        f"/graphiql/{assets_version()}/graphiql.min.js", headers={"Accept-Encoding": "gzip"}
    )
    assert response.headers["content-encoding"] == "gzip"
    assert int(response.headers["content-length"]) < 1_500_000  # 3.5 MB unpacked
    digest = hashlib.sha256(response.content).hexdigest()  # httpx decoded it
    assert digest == manifest()["files"]["graphiql.min.js"]["sha256"]


@pytest.mark.parametrize(
    "path",
    [
        "/graphiql/{version}/no-such-file.js",
        "/graphiql/{version}/VERSIONS.json",
        "/graphiql/{version}/licenses",
        "/graphiql/{version}/..%2Fpage.py",
        "/graphiql/0.0.0-000000000000/graphiql.min.js",
    ],
)
async def test_unknown_files_and_versions_are_404(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path.format(version=assets_version()))
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == 404


async def test_without_graphiql_a_browser_gets_the_api_and_no_files(services: Services) -> None:
    settings = make_settings(services.settings.driver, graphiql=False)
    app = create_app(settings, services=services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        page = await http.get("/graphql", headers=HTML)
        assert page.status_code == 400  # a GET without a query, as any API client gets
        assert "<html" not in page.text
        asset = await http.get(f"/graphiql/{assets_version()}/graphiql.min.js")
        assert asset.status_code == 404
        introspection = await http.post("/graphql", json={"query": "{ __typename }"})
        assert introspection.json() == {"data": {"__typename": "Query"}}
