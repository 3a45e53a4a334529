"""Benchmark: where people wait, on the sample project (issue "Fast where people wait").

Usage (from the repository root, in the project's virtual environment):

    python bench/bench_speed.py [--repeat 5]

Starts a sample project (`roi init --sample`) in a temporary folder and runs `roi run` once.
Then, each command as its own process, the median of `--repeat` runs, each beside its baseline
measured in the same run:

- start-up: `roi --help` and `roi scenario forecast --help` against `python -c "import click"`
  (goal: within 3×);
- a rerun with nothing changed: `roi run` against `roi status` (goal: within 5×);
- the forecast: `roi scenario forecast` (36 series; goal ≤ 3 s);
- the report, its PDF and the workbook: `roi report` + `roi export excel` (goal ≤ 4 s).

The 200-model figures (forecast of 600 series, report + workbook) are `bench_reports.py`'s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_billing import measure


def median_seconds(command: list[str], cwd: Path, repeat: int) -> float:
    """The median wall time of `command` over `repeat` runs (each its own process)."""
    return statistics.median(measure(command, cwd)[0] for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    roi = [sys.executable, "-m", "roi"]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "sample"
        measure([*roi, "init", str(root), "--sample"], Path(tmp))
        first, _, _ = measure([*roi, "run", "--quiet"], root)
        rows = []

        def timed(label: str, command: list[str], baseline: float | None, goal: str) -> float:
            seconds = median_seconds(command, root, args.repeat)
            ratio = f"{seconds / baseline:.1f}×" if baseline else ""
            rows.append(f"| {label} | {seconds:.2f} s | {ratio} | {goal} |")
            return seconds

        click = timed(
            "python -c 'import click' (baseline)", [sys.executable, "-c", "import click"], None, ""
        )
        timed("roi --help", [*roi, "--help"], click, "≤ 3× import click")
        timed(
            "roi scenario forecast --help",
            [*roi, "scenario", "forecast", "--help"],
            click,
            "≤ 3× import click",
        )
        status = timed("roi status (baseline)", [*roi, "status", "--quiet"], None, "")
        timed("roi run, nothing changed", [*roi, "run", "--quiet"], status, "≤ 5× roi status")
        timed(
            "roi scenario forecast (36 series)",
            [*roi, "scenario", "forecast", "--quiet"],
            None,
            "≤ 3 s",
        )
        report = timed("roi report (HTML, charts, PDF)", [*roi, "report", "--quiet"], None, "")
        excel = timed("roi export excel", [*roi, "export", "excel", "--quiet"], None, "")
        rows.append(f"| report + PDF + workbook | {report + excel:.2f} s | | ≤ 4 s |")
    print(f"sample project; first `roi run` {first:.1f} s; median of {args.repeat} runs each")
    print("| command | time | ratio to its baseline | goal |")
    print("|---|---:|---:|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
