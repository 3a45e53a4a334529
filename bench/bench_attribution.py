"""Benchmark: attribution at scale, against a bare DuckDB query and a pandas version, same run.

Usage (from the repository root, in the project's virtual environment):

    python bench/bench_attribution.py [--rows 10000000] [--models 200]

Data: the `roi sample --rows N` benchmark set (FOCUS 1.2 Parquet, written under bench/out/ if
missing), loaded once with `roi ingest` into bench/out/attribution-<N>/ (reused while its
cost_lines count is right), plus 1M GPU intervals (64 GPUs of the shared cluster, hourly, 24
months; one in ten idle) and 10M LLM requests to the shared Azure OpenAI account, generated in
SQL. The project is the sample's (3 pools: the GPU cluster by GPU-hours, Azure OpenAI by
reported cost, the ML platform by direct cost) with its 12 models plus synthetic ones up to
`--models`, each with a tag selector, a GPU workload and an LLM feature.

Measured, each in its own process (wall time and peak RSS from wait4):

- (a) roi attribute:  every line to a model, pool, idle or unallocated, all months, written
- (b) DuckDB query:   the bare `sum(effective_cost)` by month and model tag over cost_lines
- (c) pandas:         bench/baseline_pandas.py, the same attribution written plainly in pandas
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from bench_billing import measure as run  # (seconds, peak RSS MiB, stdout) of one process

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"

GPU_SQL = """
INSERT INTO gpu_usage BY NAME
SELECT ts AS interval_start, ts + INTERVAL 1 HOUR AS interval_end,
       'ml-shared-gpu' AS cluster, 'node-' || (g // 8) AS node, 'GPU-' || g AS gpu_uuid,
       (g % 8)::INTEGER AS gpu_index, 'NVIDIA L40S' AS gpu_model, 'ml' AS namespace,
       CASE WHEN idle THEN NULL ELSE w END AS workload,
       CASE WHEN idle THEN NULL ELSE w || '-7d9f8c6b5-x2k4q' END AS pod,
       CASE WHEN idle THEN 0.0 ELSE 1.0 END AS gpu_share,
       CASE WHEN idle THEN 0.0 ELSE (hash(ts, g) % 100) / 100.0 END AS utilization,
       'bench' AS source, 'bench' AS source_file, 'bench-gpu' AS _load_id
FROM (SELECT ts, g, hash(g, ts) % 10 = 0 AS idle,
             'wl-' || lpad(((g * 7 + epoch(ts)::BIGINT // 3600) % ?)::VARCHAR, 3, '0') AS w
      FROM generate_series(TIMESTAMPTZ '2024-11-01', TIMESTAMPTZ '2026-10-31 23:00:00',
                           INTERVAL 1 HOUR) t(ts), range(64) r(g))
"""

USAGE_SQL = """
INSERT INTO inference_usage BY NAME
SELECT 'req-' || i AS request_id,
       TIMESTAMPTZ '2024-11-01' + to_microseconds((i * 6300000)::BIGINT) AS ts,
       'azure' AS provider, 'gpt-4o' AS model, 'shared-gpt-4o' AS deployment,
       'feat-' || lpad((i % ?)::VARCHAR, 3, '0') AS feature, 1 AS requests,
       1000 + i % 3000 AS input_tokens, (i % 3000) // 2 AS cached_input_tokens,
       0 AS cache_write_tokens, 100 + i % 500 AS output_tokens,
       ((1000 + i % 3000) * 2.5 + (100 + i % 500) * 10) / 1e6 AS cost,
       'USD' AS currency, 'reported' AS cost_source, 'bench' AS source_file, i AS source_row,
       'bench-usage' AS _load_id
FROM range(?) r(i)
"""

DUCKDB_QUERY = """
import duckdb, json, sys
con = duckdb.connect(sys.argv[1], read_only=True)
rows = con.execute('''SELECT date_trunc('month', billing_period_start) AS month,
                             tags['ml-model'] AS model, sum(effective_cost)
                      FROM cost_lines GROUP BY ALL''').fetchall()
print(json.dumps({"groups": len(rows)}))
"""


def project(models: int) -> Path:
    """The sample project with synthetic models up to `models`."""
    folder = Path(tempfile.mkdtemp(prefix="roi-bench-project-"))
    for part in ("roi.toml", "connectors", "models", "pools", "reports"):
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, folder / part)
        else:
            shutil.copy2(source, folder / part)
    existing = len(list((folder / "models").glob("*.toml")))
    for i in range(models - existing):
        n = f"{i:03d}"
        (folder / "models" / f"synthetic-{n}.toml").write_text(
            f'model_id = "synthetic-{n}"\nname = "Synthetic {n}"\nowner = "bench"\n'
            f'business_unit = "Bench"\nstage = "production"\n\n[selectors]\n'
            f'tags = {{ "ml-model" = ["synthetic-{n}"] }}\n'
            f'gpu_workloads = ["wl-{n}"]\nllm_features = ["feat-{n}"]\n'
        )
    return folder


def warehouse(rows: int, models: int) -> Path:
    """A loaded warehouse of `rows` billing lines with GPU and LLM usage (built once)."""
    import duckdb

    data = OUT / f"focus-{rows}"
    roi = [sys.executable, "-m", "roi"]
    if not (data / "aws").exists():
        run([*roi, "sample", "--rows", str(rows), "--out", str(data), "--quiet"])
    folder = OUT / f"attribution-{rows}"
    target = folder / "roi.duckdb"
    if target.exists():
        with duckdb.connect(str(target), read_only=True) as con:
            lines = con.execute("SELECT count(*) FROM cost_lines").fetchone()
            usage = con.execute("SELECT count(*) FROM inference_usage").fetchone()
        if lines and lines[0] == rows and usage and usage[0] > 0:
            return target
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for export in ("aws", "azure"):
        run(
            [
                *roi,
                "ingest",
                "focus",
                str(data / export),
                "--project",
                str(ROOT),
                "--warehouse",
                str(target),
                "--quiet",
            ]
        )
    with duckdb.connect(str(target)) as con:
        con.execute(GPU_SQL, [models])
        con.execute(USAGE_SQL, [models, 10_000_000])
    return target


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--skip-pandas", action="store_true")
    args = parser.parse_args()
    target = warehouse(args.rows, args.models)
    folder = project(args.models)
    roi = [sys.executable, "-m", "roi"]
    where = ["--project", str(folder), "--warehouse", str(target), "--quiet"]
    a = run([*roi, "attribute", "--full", *where])
    b = run([sys.executable, "-c", DUCKDB_QUERY, str(target)])
    c = (
        None
        if args.skip_pandas
        else run(
            [sys.executable, str(ROOT / "bench" / "baseline_pandas.py"), str(target), str(folder)]
        )
    )
    import duckdb

    with duckdb.connect(str(target), read_only=True) as con:
        gpu = con.execute("SELECT count(*) FROM gpu_usage").fetchone()
        usage = con.execute("SELECT count(*) FROM inference_usage").fetchone()
    print(
        f"machine: {os.cpu_count()} cores; {args.rows:,} cost lines, {gpu[0] if gpu else 0:,} GPU "
        f"intervals, {usage[0] if usage else 0:,} LLM requests, {args.models} models, 3 pools"
    )
    print()
    print("| (a) roi attribute | (b) DuckDB query | (c) pandas | (a) / (b) | (c) / (a) |")
    print("|---:|---:|---:|---:|---:|")

    def cell(r: tuple[float, float, str]) -> str:
        return f"{r[0]:,.1f} s / {r[1]:,.0f} MiB"

    print(
        f"| {cell(a)} | {cell(b)} | {cell(c) if c else 'n/a'} | {a[0] / b[0]:.1f}× | "
        f"{f'{c[0] / a[0]:.1f}×' if c else 'n/a'} |"
    )
    shutil.rmtree(folder)


if __name__ == "__main__":
    main()
