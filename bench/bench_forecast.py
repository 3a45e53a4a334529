"""Benchmark: the forecast of a 200-model portfolio (600 series), in one process and in one
worker process per core, same run.

Usage (from the repository root, in the project's virtual environment):

    python bench/bench_forecast.py [--models 200] [--months 24] [--repeat 3]

A fresh warehouse gets `--models` models' monthly cost, value and net over `--months` months
(`model_roi`: trends, noise, a level shift in one model of five, a model in ten without value);
`roi.scenarios.forecast.forecast` then forecasts every series and the portfolio 12 months ahead
at 80%, alternately as roi runs it (worker processes from `PARALLEL_MIN` series on) and with
every series fitted in this process (the baseline), `--repeat` times each; medians. The two
give the same table (checked). Goal (issue "Fast where people wait"): 600 series ≤ 10 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from roi import warehouse
from roi.progress import SilentProgress
from roi.scenarios import forecast as forecasting
from roi.vocabulary import add_months


def portfolio(models: int, months: int, seed: int = 0) -> pl.DataFrame:
    """`model_roi` rows: each model's cost, value and net over `months` months."""
    rng = np.random.default_rng(seed)
    rows = []
    for m in range(models):
        level = rng.uniform(500, 40_000)
        growth = rng.normal(0.01, 0.02)
        shift = months // 2 if m % 5 == 0 else months
        valued = m % 10 != 0
        for i in range(months):
            cost = level * (1 + growth) ** i * (1.6 if i >= shift else 1.0)
            cost *= 1 + rng.normal(0, 0.06)
            value = cost * rng.uniform(1.5, 3.0) if valued else None
            rows.append(
                {
                    "month": add_months(date(2024, 11, 1), i),
                    "model_id": f"model-{m:03d}",
                    "currency": "USD",
                    "cost": cost,
                    "value": value,
                    "net": None if value is None else value - cost,
                }
            )
    return pl.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    frame = portfolio(args.models, args.months)
    models = sorted(frame["model_id"].unique().to_list())
    with (
        tempfile.TemporaryDirectory() as folder,
        warehouse.open_warehouse(Path(folder) / "bench.duckdb") as con,
    ):
        with warehouse.registered(con, "_rows", frame):
            warehouse.execute(con, "INSERT INTO model_roi BY NAME SELECT * FROM _rows")
        series = 0
        times: dict[str, list[float]] = {"workers": [], "one process": []}
        tables = {}
        parallel_min = forecasting.PARALLEL_MIN
        for i in range(args.repeat):
            order = ("workers", "one process") if i % 2 == 0 else ("one process", "workers")
            for name in order:
                forecasting.PARALLEL_MIN = parallel_min if name == "workers" else 10**9
                start = time.perf_counter()
                table = forecasting.forecast(con, models, "USD", 12, 0.8, SilentProgress())
                times[name].append(time.perf_counter() - start)
                tables[name] = table
                series = table.select("model_id", "measure").unique().height
    assert tables["workers"].equals(tables["one process"])
    base = statistics.median(times["one process"])
    print(f"{args.models} models, {args.months} months: {series} series, 12 months ahead")
    print("| run | median | ratio | goal |")
    print("|---|---:|---:|---|")
    print(f"| every series in one process (baseline) | {base:.1f} s | 1.00× | |")
    workers = statistics.median(times["workers"])
    print(f"| one worker per core (roi) | {workers:.1f} s | {workers / base:.2f}× | ≤ 10 s |")


if __name__ == "__main__":
    main()
