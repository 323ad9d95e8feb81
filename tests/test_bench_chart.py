"""`python -m bench.chart` draws a results document as a PNG (run as its users run it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow  # matplotlib in a process of its own
def test_the_chart_is_a_png_of_every_panel(tmp_path: Path) -> None:
    rows = [
        {"size": size, "driver": driver, "page_size": page, "variant": variant,
         "ratios": {"cpu": 1.0 + n / 10, "p50": 1.0}}
        for n, (size, driver, page, variant) in enumerate(
            (s, d, p, v) for s in (10_000,) for d in ("motor", "pymongo") for p in (10, 100)
            for v in ("raw", "rest", "graphql-all", "graphql-two")
        )
    ]  # fmt: skip
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"rows": rows}))
    out = tmp_path / "chart.png"
    done = subprocess.run(
        [sys.executable, "-m", "bench.chart", str(results), "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
