"""Benchmark: `roi portfolio` on the sample project (the value issue's goal: under 2 s).

Usage (from the repository root, in the project's virtual environment):

    python bench/bench_portfolio.py [--runs 5]

Copies the sample project to a temporary folder, runs `roi run` there once (load, attribute,
value, reports), then times `roi portfolio --month 2026-10 --format json` as a whole process
(start-up, reading the project, the query, JSON out), `--runs` times, and prints the median and
worst wall time and the peak memory, as a Markdown row for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_billing import ROOT, measure

PROJECT_PARTS = ("roi.toml", "connectors", "models", "pools", "reports", "sample_data")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        project.mkdir()
        for part in PROJECT_PARTS:
            source = ROOT / part
            if source.is_dir():
                shutil.copytree(source, project / part, ignore=shutil.ignore_patterns("out"))
            else:
                shutil.copy2(source, project / part)
        roi = [sys.executable, "-m", "roi"]
        seconds, _, _ = measure([*roi, "run", "--project", str(project), "--quiet"])
        print(f"roi run (once, to build the warehouse): {seconds:.1f} s", file=sys.stderr)
        times, peaks = [], []
        for _ in range(args.runs):
            wall, peak, out = measure(
                [*roi, "portfolio", "--project", str(project), "--month", "2026-10",
                 "--format", "json"]
            )  # fmt: skip
            assert '"TOTAL"' in out, out[:200]
            times.append(wall)
            peaks.append(peak)
        print("| runs | median | worst | peak memory | goal |")
        print("|---:|---:|---:|---:|---:|")
        print(
            f"| {args.runs} | {statistics.median(times):.2f} s | {max(times):.2f} s | "
            f"{max(peaks):.0f} MiB | < 2 s |"
        )


if __name__ == "__main__":
    main()
