"""The Grafana dashboard asks only for series the gateway exposes."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from gql_badges.observability.metrics import Metrics

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "gql-badges.json"
_SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}


def exposed() -> set[str]:
    """Every sample name a scrape can hold, including series with no samples yet."""
    names: set[str] = set()
    for family in text_string_to_metric_families(Metrics("motor").render().decode()):
        names |= {family.name + suffix for suffix in _SUFFIXES[family.type]}
    return names


def test_every_metric_in_the_dashboard_exists() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    expressions = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    used = {name for expr in expressions for name in re.findall(r"gql_badges_\w+", expr)}
    assert len(used) >= 10
    missing = used - exposed()
    assert not missing, f"the dashboard queries series /metrics does not have: {missing}"
