"""GraphiQL's vendored files, served by the gateway itself under a path keyed by their manifest.

`static/` is written by `scripts/refresh-graphiql` from the npm packages, never by hand;
`static/VERSIONS.json` names each file's package, version and sha256. The URL of every file holds
a digest of that manifest, so the files can be cached for a year: a refresh changes every URL.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TypedDict

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from gql_badges.http.compression import GZIP, accepts

PREFIX = "/graphiql"
IMMUTABLE = "public, max-age=31536000, immutable"
_MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
# Below this size gzip saves too little to be worth a header.
_GZIP_MIN_BYTES = 1024


class AssetFile(TypedDict):
    package: str
    version: str
    source: str
    sha256: str


class Package(TypedDict):
    name: str
    version: str
    license: str
    license_file: str
    license_from: str
    integrity: str


class Manifest(TypedDict):
    refreshed_by: str
    packages: list[Package]
    files: dict[str, AssetFile]


def _static() -> resources.abc.Traversable:
    return resources.files(__package__).joinpath("static")


@cache
def manifest() -> Manifest:
    manifest: Manifest = json.loads(_static().joinpath("VERSIONS.json").read_bytes())
    return manifest


@cache
def assets_version() -> str:
    """The path segment of this set of files: GraphiQL's version and a digest of the manifest."""
    graphiql = next(p["version"] for p in manifest()["packages"] if p["name"] == "graphiql")
    digest = hashlib.sha256(_static().joinpath("VERSIONS.json").read_bytes()).hexdigest()
    return f"{graphiql}-{digest[:12]}"


def asset_url(name: str) -> str:
    return f"{PREFIX}/{assets_version()}/{name}"


@dataclass(frozen=True)
class _Asset:
    body: bytes
    gzipped: bytes | None
    media_type: str


@cache
def _asset(name: str) -> _Asset:
    """A file's bytes, read once; `name` must be in the manifest."""
    body = _static().joinpath(name).read_bytes()
    gzipped = gzip.compress(body, mtime=0) if len(body) >= _GZIP_MIN_BYTES else None
    suffix = name[name.rfind(".") :]
    return _Asset(body, gzipped, _MEDIA_TYPES.get(suffix, "application/octet-stream"))


async def _serve(request: Request) -> Response:
    name = request.path_params["file"]
    if request.path_params["version"] != assets_version() or name not in manifest()["files"]:
        raise HTTPException(404, "Not Found")
    asset = _asset(name)
    headers = {"Cache-Control": IMMUTABLE, "Vary": "Accept-Encoding"}
    # The GraphiQL bundle is 3.5 MB; gzip makes it under 1 MB for a browser on a slow link.
    # (Compressed once, here; the compression middleware leaves an encoded answer alone.)
    if asset.gzipped is not None and accepts(request.headers.get("accept-encoding"), GZIP):
        headers["Content-Encoding"] = "gzip"
        return Response(asset.gzipped, media_type=asset.media_type, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


def graphiql_routes() -> list[BaseRoute]:
    """The routes of GraphiQL's files; mount them only when the IDE is served."""
    return [Route(PREFIX + "/{version}/{file}", _serve, methods=["GET", "HEAD"])]


__all__ = [
    "IMMUTABLE",
    "AssetFile",
    "Manifest",
    "asset_url",
    "assets_version",
    "graphiql_routes",
    "manifest",
]
