"""Helpers for the REST side: GET a legacy URI through the real app."""

from __future__ import annotations

import httpx

CUSTOMER = "/api_gateway/v1/badges/customer/"
MANAGEMENT = "/api_gateway/v1/badges/management/"


async def get(
    client: httpx.AsyncClient,
    path: str,
    headers: dict[str, str],
    params: dict[str, object] | list[tuple[str, str]] | None = None,
    status: int = 200,
) -> dict:
    response = await client.get(path, params=params, headers=headers)  # type: ignore[arg-type]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()
