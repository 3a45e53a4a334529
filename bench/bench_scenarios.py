"""Benchmark: failure-exposure Monte Carlo, 100k draws × 50 models × 5 failure modes.

Usage (from the repository root, in the project's virtual environment):

    python bench/bench_scenarios.py [--draws 100000] [--models 50] [--modes 5] [--repeat 3]

Writes a project of `--models` models, each with `--modes` failure modes whose frequency,
metric drop, detection delay, fix time and recovery cost are all PERT ranges (every input
drawn: the slowest case), and one compliance mode per ten models; then times
`roi.scenarios.failure.exposure` (the simulation, the Gaussian-copula correlation at 0.2 and the
summaries) in this process, best of `--repeat`, after one warm-up run. Goal (the scenario
issue): under 2 s for 100k draws × 50 models × 5 modes, vectorised.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from roi.config import load_project
from roi.scenarios.baseline import COST_PARTS, Baseline
from roi.scenarios.failure import exposure

RISK = """
[[risks]]
name = "mode {i}"
kind = "{kind}"
frequency_per_year = [0.2, {freq}, 3]
metric_drop = [0.005, 0.02, 0.08]
detection_delay_days = [2, 14, 60]
fix_days = [1, 3, 10]
recovery_cost = [1000, 5000, 40000]
"""
COMPLIANCE = """
[[risks]]
name = "compliance"
kind = "compliance"
tier = "high_risk"
frequency_per_year = 0.02
fine_share = [0.001, 0.01, 0.1]
recovery_cost = 100000
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=100_000)
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--modes", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "models").mkdir()
        (root / "roi.toml").write_text("[risk]\nannual_turnover = 4e9\ncorrelation = 0.2\n")
        for m in range(args.models):
            risks = "".join(
                RISK.format(i=i, kind="drift" if i % 2 else "data_failure", freq=0.5 + i * 0.2)
                for i in range(args.modes - (1 if m % 10 == 0 else 0))
            ) + (COMPLIANCE if m % 10 == 0 else "")
            (root / "models" / f"m{m:03d}.toml").write_text(
                f'model_id = "m{m:03d}"\nname = "m{m}"\nowner = "o"\nbusiness_unit = "b"\n'
                f'stage = "production"\n{risks}'
            )
        project = load_project(root)
        models = [m.model_id for m in project.models]
        base = {
            m: Baseline(
                m,
                m,
                "production",
                date(2026, 10, 1),
                "USD",
                {p: 0.0 for p in COST_PARTS},
                10_000.0,
                None,
                None,
                None,
                10_000.0,
                None,
                150.0,
                "bench",
            )
            for m in models
        }
        modes = sum(len(m.risks) for m in project.models)
        exposure(project, base, models, 10_000, 1, 0.95)  # warm-up (imports, allocations)
        times = []
        for seed in range(args.repeat):
            start = time.perf_counter()
            out = exposure(project, base, models, args.draws, seed, 0.95)
            times.append(time.perf_counter() - start)
        portfolio = out["portfolio"]
        assert isinstance(portfolio, dict), portfolio
        print(f"{args.draws:,} draws × {len(models)} models × {modes} failure modes in all")
        print("| draws | models | failure modes | best | worst | portfolio EAL | P99 | goal |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|")
        print(
            f"| {args.draws:,} | {len(models)} | {modes} | {min(times):.2f} s | "
            f"{max(times):.2f} s | {portfolio['expected_annual_loss']:,.0f} | "
            f"{portfolio['p99']:,.0f} | < 2 s |"
        )


if __name__ == "__main__":
    main()
