"""The legacy REST URIs (issue #3 builds them out over the same query layer)."""

from __future__ import annotations

from starlette.routing import BaseRoute


def rest_routes() -> list[BaseRoute]:
    return []
