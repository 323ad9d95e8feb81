"""`python -m bench.live --draw-only` draws a results document as a PNG (as its users run it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support import ROOT


def test_the_live_chart_is_a_png(tmp_path: Path) -> None:
    rows = [
        {"subscribers": n, "p50_ms": 3.0, "p99_ms": 9.0 + n / 1000, "idle_cpu_percent": 0.3,
         "kib_per_subscriber": 12.0, "events_per_s": 2500, "hub_capacity_per_core": 9000}
        for n in (100, 1000, 5000)
    ]  # fmt: skip
    targets = {"p99_ms": 50, "idle_cpu_percent": 2, "kib_per_subscriber": 20, "events_per_s": 5000}
    results = tmp_path / "live.json"
    results.write_text(json.dumps({"rows": rows, "targets": targets}))
    out = tmp_path / "live.png"
    done = subprocess.run(
        [sys.executable, "-m", "bench.live", "--draw-only", "--out", str(results),
         "--chart", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
