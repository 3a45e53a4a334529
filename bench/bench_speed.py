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
- the report, its PDF and the workbook (goal ≤ 4 s): `roi report` (which writes all three,
  the workbook built while the PDF is laid out), and `roi report --only monthly_finance` and
  `roi export excel` one after the other (an earlier roi: the two commands only);
- `roi load` of the sample into a fresh warehouse (what every test that loads it waits for).

With `--before PATH` (a checkout of an earlier commit, e.g. `git worktree add /tmp/before REV`)
every figure is measured with that roi too, in the same run, each in a sample of its own.

The 200-model figures (forecast of 600 series, report + workbook) are `bench_reports.py`'s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_billing import measure


def median_seconds(command: list[str], cwd: Path, repeat: int) -> float:
    """The median wall time of `command` over `repeat` runs (each its own process)."""
    return statistics.median(measure(command, cwd)[0] for _ in range(repeat))


def fresh_loads(roi: list[str], tmp: Path, repeat: int) -> float:
    """The median wall time of `roi load` of the sample into a fresh warehouse."""
    times = []
    for n in range(repeat):
        root = tmp / f"load-{n}"
        measure([*roi, "init", str(root), "--sample"], tmp)
        times.append(measure([*roi, "load", "--quiet"], root)[0])
    return statistics.median(times)


def timings(tree: Path | None, repeat: int) -> tuple[float, list[tuple[str, float, str, str]]]:
    """(first `roi run`, rows of (command, seconds, ratio to its baseline, goal)) with the roi
    of `tree` (a checkout of another commit; None: this one)."""
    if tree is not None:
        os.environ["PYTHONPATH"] = str(tree)
    roi = [sys.executable, "-m", "roi"]
    rows: list[tuple[str, float, str, str]] = []
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        root = tmp / "sample"
        measure([*roi, "init", str(root), "--sample"], tmp)
        first, _, _ = measure([*roi, "run", "--quiet"], root)

        def timed(label: str, command: list[str], baseline: float | None, goal: str) -> float:
            seconds = median_seconds(command, root, repeat)
            rows.append((label, seconds, f"{seconds / baseline:.1f}×" if baseline else "", goal))
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
        # `roi report` writes the workbook too (built while the PDF is laid out) since
        # --only exists; an earlier roi's `roi report` wrote the HTML report and PDF only.
        helped = measure([*roi, "report", "--help"], root)[2]
        only = ["--only", "monthly_finance"] if "--only" in helped else []
        report = timed(
            "roi report --only monthly_finance (HTML, charts, PDF)",
            [*roi, "report", *only, "--quiet"],
            None,
            "",
        )
        excel = timed("roi export excel", [*roi, "export", "excel", "--quiet"], None, "")
        rows.append(("the two, one after the other", report + excel, "", ""))
        together = (
            timed(
                "roi report (HTML, charts, PDF and workbook)",
                [*roi, "report", "--quiet"],
                None,
                "≤ 4 s",
            )
            if only
            else report + excel
        )
        if not only:
            rows.append(("roi report (HTML, charts, PDF and workbook)", together, "", "≤ 4 s"))
        loads = fresh_loads(roi, tmp, repeat)
        rows.append(("roi load of the sample, fresh warehouse", loads, "", ""))
    os.environ.pop("PYTHONPATH", None)
    return first, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--before", type=Path, help="a checkout of an earlier commit, measured in the same run"
    )
    args = parser.parse_args()
    first, rows = timings(None, args.repeat)
    before = timings(args.before, args.repeat) if args.before else None
    print(f"sample project; first `roi run` {first:.1f} s", end="")
    print(f" (before: {before[0]:.1f} s)" if before else "", end="")
    print(f"; median of {args.repeat} runs each")
    print("| command | time | ratio to its baseline | goal |" + (" before |" if before else ""))
    print("|---|---:|---:|---|" + ("---:|" if before else ""))
    for i, (label, seconds, ratio, goal) in enumerate(rows):
        line = f"| {label} | {seconds:.2f} s | {ratio} | {goal} |"
        if before:
            _, seconds_before, ratio_before, _ = before[1][i]
            line += f" {seconds_before:.2f} s {ratio_before} |"
        print(line)


if __name__ == "__main__":
    main()
