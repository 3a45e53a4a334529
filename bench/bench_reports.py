"""Benchmark: the monthly report and the Excel pack for a 200-model, 24-month portfolio.

Usage (from the repository root, in the project's virtual environment):

    python bench/bench_reports.py [--rows 1000000] [--models 200] [--repeat 3]

Builds (once, under bench/out/) a warehouse of `--rows` billing lines over 24 months with GPU
and LLM usage for `--models` models (the attribution benchmark's set), gives every synthetic
model a per-unit value with 24 months of KPIs and a failure mode, then runs `roi attribute
--full` and the standing scenarios (decay, failure exposure, forecast) once. Timed, each as its
own process, best of `--repeat`: `roi report --only monthly_finance` (HTML with its charts as
PNG and SVG, and the PDF), `roi export excel`, and `roi report` (all three; an earlier roi
without --only: the first two only). Goal (issue "Fast where people wait"): report + workbook
≤ 8 s.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_attribution import ROOT, project, warehouse
from bench_billing import measure

KPI_SQL = """
INSERT INTO kpi_values (kpi, period_start, period_end, model_id, segment, value, unit,
                        experiment_id, source_file, source_row, _load_id)
SELECT 'volume_' || lpad(i::VARCHAR, 3, '0'), m, m + INTERVAL 1 MONTH,
       'synthetic-' || lpad(i::VARCHAR, 3, '0'), 'all',
       1000 * (1 + i % 17) * (1 + 0.01 * datediff('month', DATE '2024-11-01', m)), 'count',
       NULL, 'bench', row_number() OVER (), 'bench-kpis'
FROM range(?) t(i), (SELECT unnest(generate_series(DATE '2024-11-01', DATE '2026-10-01',
                                                   INTERVAL 1 MONTH))::DATE AS m)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="Keep the project folder (printed).")
    args = parser.parse_args()
    import duckdb

    source = warehouse(args.rows, args.models)
    folder = project(args.models)
    target = folder / "bench.duckdb"
    shutil.copy2(source, target)
    shutil.copytree(
        source.with_name(source.name + ".data"), target.with_name(target.name + ".data")
    )
    synthetic = sorted((folder / "models").glob("synthetic-*.toml"))
    for path in synthetic:
        n = path.stem.split("-")[1]
        path.write_text(
            path.read_text()
            + f'\n[value]\nmethod = "per_unit"\nvolume_kpi = "volume_{n}"\nunit_value = 0.05\n'
            + '\n[[risks]]\nname = "drift"\nfrequency_per_year = [0.5, 1, 3]\n'
            + "metric_drop = [0.01, 0.02, 0.05]\ndetection_delay_days = [5, 15, 40]\n"
            + "recovery_cost = [500, 2000, 9000]\n[quality]\nvalue_per_point = 50\n"
        )
    roi = [sys.executable, "-m", "roi"]
    where = ["--project", str(folder), "--warehouse", str(target), "--quiet"]
    data = ROOT / "sample_data"
    for kind, path, options in (  # the sample models' KPIs, experiments and metrics
        ("kpi_csv", data / "kpis/business_kpis.csv", []),
        ("kpi_excel", data / "kpis/finance_unit_values.xlsx", ["--option", "sheet=Unit values"]),
        ("ab_test_csv", data / "experiments/ab_tests.csv", []),
        ("model_metrics_csv", data / "metrics/model_metrics.csv", []),
    ):
        measure([*roi, "ingest", kind, str(path), *options, *where])
    with duckdb.connect(str(target)) as con:
        con.execute(KPI_SQL, [len(synthetic)])
    seconds, _, _ = measure([*roi, "attribute", "--full", *where])
    print(f"roi attribute --full: {seconds:.1f} s", file=sys.stderr)
    for scenario in (["decay", "--all"], ["failure", "--all"], ["forecast"]):
        seconds, _, _ = measure([*roi, "scenario", *scenario, *where])
        print(f"roi scenario {' '.join(scenario)}: {seconds:.1f} s", file=sys.stderr)
    out = folder / "out"
    # `roi report` writes the workbook too since --only exists (an earlier roi: HTML and PDF).
    only = (
        ["--only", "monthly_finance"] if "--only" in measure([*roi, "report", "--help"])[2] else []
    )
    commands = {
        "report": ["report", *only, "--out", str(out)],
        "export": ["export", "excel", "--out", str(out)],
    }
    if only:
        commands["all"] = ["report", "--out", str(out)]
    times: dict[str, list[float]] = {name: [] for name in commands}
    peaks: dict[str, float] = dict.fromkeys(commands, 0.0)
    for _ in range(args.repeat):
        for name, command in commands.items():
            wall, peak, _ = measure([*roi, *command, *where])
            times[name].append(wall)
            peaks[name] = max(peaks[name], peak)
    best = {name: min(seconds) for name, seconds in times.items()}
    together = f"{best['all']:.1f} s / {peaks['all']:.0f} MiB" if only else "(none)"
    print(f"{args.rows:,} billing lines, {args.models} models, 24 months")
    print(
        "| roi report --only monthly_finance (HTML, charts, PDF) | roi export excel | the two "
        "| roi report (all three) | goal |"
    )
    print("|---:|---:|---:|---:|---:|")
    print(
        f"| {best['report']:.1f} s / {peaks['report']:.0f} MiB "
        f"| {best['export']:.1f} s / {peaks['export']:.0f} MiB "
        f"| {best['report'] + best['export']:.1f} s | {together} | ≤ 8 s |"
    )
    if args.keep:
        print(f"kept {folder}", file=sys.stderr)
    else:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
