"""The benchmark's results as a picture: each variant's ratio to the raw-driver baseline.

    python -m bench.chart [bench/results.json] [--out bench/results.png]

One panel per data size and driver; in each, a group of bars per page size, one bar per variant
(REST, GraphQL with every field, GraphQL with two), for the gateway's CPU per request and its
p50 latency, both divided by the baseline's in the same run. The dashed line is the baseline.
`python -m bench.run --chart PATH` draws it at the end of a run.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

VARIANTS = ("rest", "graphql-all", "graphql-two")
METRICS = (("cpu", "CPU per request"), ("p50", "p50 latency"))


def draw(results: dict[str, Any], out: Path) -> Path:
    """Write the chart of `results` (bench.run's JSON document) to `out` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")  # no display: a file only
    import matplotlib.pyplot as plt

    rows = [row for row in results["rows"] if row["variant"] in VARIANTS]
    panels = sorted({(row["size"], row["driver"]) for row in rows})
    pages = sorted({row["page_size"] for row in rows})
    figure, axes = plt.subplots(
        len(METRICS), len(panels), figsize=(4.2 * len(panels), 3.4 * len(METRICS)),
        squeeze=False, sharey="row",
    )  # fmt: skip
    width = 0.8 / len(VARIANTS)
    for column, (size, driver) in enumerate(panels):
        for line, (metric, label) in enumerate(METRICS):
            ax = axes[line][column]
            for n, variant in enumerate(VARIANTS):
                ratios = [
                    next(
                        (
                            row["ratios"][metric]
                            for row in rows
                            if (row["size"], row["driver"], row["page_size"], row["variant"])
                            == (size, driver, page, variant)
                        ),
                        0.0,
                    )
                    for page in pages
                ]
                positions = [p + (n - 1) * width for p in range(len(pages))]
                ax.bar(positions, ratios, width, label=variant)
            ax.axhline(1.0, color="black", linestyle="--", linewidth=0.8)
            ax.set_xticks(range(len(pages)), [f"page {page}" for page in pages])
            ax.set_title(f"{size:,} records, {driver}: {label}", fontsize=9)
            if column == 0:
                ax.set_ylabel("ratio to the raw driver")
    axes[0][0].legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(out, dpi=110)
    plt.close(figure)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, nargs="?", default=Path("bench/results.json"))
    parser.add_argument("--out", type=Path, default=Path("bench/results.png"))
    args = parser.parse_args()
    print(draw(json.loads(args.results.read_text()), args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
