"""Benchmark: load and attribute N FOCUS billing lines, against raw-scan baselines, same run.

Usage (from the repository root, in the project's virtual environment):

    python bench/bench_billing.py --rows 10000000 [--rows ...] [--keep]

For each size it writes a benchmark set with `roi sample --rows N` (kept under bench/out/ for
reuse), then measures, each in its own process (wall time and peak RSS from wait4):

- roi load:       `roi ingest focus` of the AWS and Azure exports into a fresh warehouse
                  (parse, validate, lineage, one transaction per export)
- previous load:  the same with `--baseline-python` (another environment's roi), same files
- DuckDB CTAS:    DuckDB's own `CREATE TABLE ... AS SELECT * FROM read_parquet(...)` of the files
- roi attribute:  every line to a model or __unallocated__, all 24 months
- duckdb floor:   DuckDB scanning the same Parquet files and summing effective cost per month
                  and model tag (no validation, lineage or idempotency): the floor to compare with
- polars scan:    the same aggregation with a Polars lazy scan

and checks that attribution conserves the source total to the cent. Results are printed as a
Markdown table to paste into bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"

DUCKDB_FLOOR = """
import duckdb, json, sys
con = duckdb.connect()
rows = con.execute('''
  SELECT date_trunc('month', BillingPeriodStart) AS month,
         json_extract_string(Tags, '$."ml-model"') AS model, sum(EffectiveCost)
  FROM read_parquet(?, union_by_name=true) GROUP BY ALL''',
  [sys.argv[1] + '/**/*.parquet']).fetchall()
print(json.dumps({"groups": len(rows)}))
"""

# DuckDB's own load of the same files into a table of its own: the floor the issue compares with.
DUCKDB_CTAS = """
import duckdb, json, sys
con = duckdb.connect(sys.argv[2])
con.execute("SET memory_limit = '4GB'")
con.execute("CREATE TABLE lines AS SELECT * FROM read_parquet(?, union_by_name=true)",
            [sys.argv[1] + '/**/*.parquet'])
print(json.dumps({"rows": con.execute("SELECT count(*) FROM lines").fetchone()[0]}))
"""

POLARS_SCAN = """
import json, sys
import polars as pl
frame = (pl.scan_parquet(sys.argv[1] + '/**/*.parquet')
         .group_by(pl.col('BillingPeriodStart').dt.truncate('1mo'),
                   pl.col('Tags').str.json_path_match('$.ml-model'))
         .agg(pl.col('EffectiveCost').sum()).collect())
print(json.dumps({"groups": frame.height}))
"""

CONSERVATION = """
import json, sys
from roi import pipeline
from pathlib import Path
rows = pipeline.query(Path(sys.argv[1]), '''
  WITH s AS (SELECT date_trunc('month', billing_period_start)::DATE m, sum(effective_cost) t
             FROM cost_lines GROUP BY 1),
       a AS (SELECT month m, sum(amount) t FROM allocated_costs GROUP BY 1)
  SELECT count(*), count(*) FILTER (WHERE round(s.t, 2) <> round(a.t, 2)), sum(s.t)::DOUBLE
  FROM s FULL JOIN a USING (m)''').row(0)
print(json.dumps({"months": rows[0], "months_off_by_a_cent": rows[1], "total": rows[2]}))
"""


Run = tuple[float, float]  # (seconds, peak RSS in MiB) of a measured command


@dataclass(frozen=True)
class Check:
    """CONSERVATION's answer: months, months whose attributed total is off by a cent, total."""

    months: int
    months_off_by_a_cent: int
    total: float | None  # None for a warehouse without cost lines


@dataclass(frozen=True)
class Result:
    """One size's row of the table."""

    rows: int
    runs: dict[str, Run]  # by column: load, attribute, ctas, previous_load, duckdb_floor, ...
    check: Check
    warehouse_mb: float
    input_mb: float


def measure(args: list[str], cwd: Path = ROOT) -> tuple[float, float, str]:
    """Run a command; return (seconds, peak RSS in MiB, stdout).

    Output goes to temporary files, not pipes: a command that prints more than a pipe holds
    would otherwise wait for a reader that waits for it to end.
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(args, cwd=cwd, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{stderr}")
    return seconds, usage.ru_maxrss / 1024, stdout


def load_with(python: str, data: Path, warehouse: Path) -> Run:
    """`roi ingest focus` of the AWS and the Azure export with one interpreter's roi."""
    roi = [python, "-m", "roi"]
    common = ["--project", str(ROOT), "--warehouse", str(warehouse), "--quiet"]
    load_s = load_rss = 0.0
    for export in ("aws", "azure"):
        s, rss, _ = measure([*roi, "ingest", "focus", str(data / export), *common])
        load_s += s
        load_rss = max(load_rss, rss)
    return load_s, load_rss


def bench(rows: int, keep: bool, baseline_python: str | None) -> Result:
    data = OUT / f"focus-{rows}"
    roi = [sys.executable, "-m", "roi"]
    if not (data / "aws").exists():
        seconds, _, _ = measure(
            [*roi, "sample", "--rows", str(rows), "--out", str(data), "--quiet"]
        )
        print(f"generated {rows:,} lines in {seconds:.1f} s", file=sys.stderr)
    work = Path(tempfile.mkdtemp(prefix="roi-bench-"))
    warehouse = work / "bench.duckdb"
    common = ["--project", str(ROOT), "--warehouse", str(warehouse), "--quiet"]
    runs: dict[str, Run] = {}
    runs["load"] = load_with(sys.executable, data, warehouse)
    runs["attribute"] = measure([*roi, "attribute", "--full", *common])[:2]
    runs["ctas"] = measure(
        [sys.executable, "-c", DUCKDB_CTAS, str(data), str(work / "ctas.duckdb")]
    )[:2]
    if baseline_python:
        # The previous release (another interpreter with it installed), same files, same run.
        old = work / "previous.duckdb"
        runs["previous_load"] = load_with(baseline_python, data, old)
        old_common = ["--project", str(ROOT), "--warehouse", str(old), "--quiet"]
        runs["previous_attribute"] = measure(
            [baseline_python, "-m", "roi", "attribute", *old_common]
        )[:2]
    runs["duckdb_floor"] = measure([sys.executable, "-c", DUCKDB_FLOOR, str(data)])[:2]
    runs["polars_scan"] = measure([sys.executable, "-c", POLARS_SCAN, str(data)])[:2]
    check = Check(**json.loads(measure([sys.executable, "-c", CONSERVATION, str(warehouse)])[2]))
    stored = [warehouse, *warehouse.parent.glob(warehouse.name + ".data/**/*.parquet")]
    warehouse_mb = sum(p.stat().st_size for p in stored if p.is_file()) / 1e6
    input_mb = sum(p.stat().st_size for p in data.rglob("*.parquet")) / 1e6
    shutil.rmtree(work)
    if not keep:
        shutil.rmtree(data)
    return Result(rows, runs, check, warehouse_mb, input_mb)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, action="append", required=True)
    parser.add_argument("--keep", action="store_true", help="keep the generated sets in bench/out/")
    parser.add_argument(
        "--baseline-python",
        default=None,
        help="python of an environment with the previous roi installed: its load and "
        "attribution are measured on the same files in the same run",
    )
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print()
    print(
        "| lines | input (Parquet) | roi load | previous roi load | DuckDB CTAS | roi attribute "
        "| previous roi attribute | DuckDB floor | Polars scan | warehouse | conserved |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for rows in args.rows:
        r = bench(rows, args.keep, args.baseline_python)

        def cell(key: str, runs: dict[str, Run] = r.runs) -> str:
            if key not in runs:
                return "n/a"
            seconds, rss = runs[key]
            return f"{seconds:,.1f} s / {rss:,.0f} MiB"

        off = r.check.months_off_by_a_cent
        ok = "yes" if off == 0 else f"NO ({off} months)"
        print(
            f"| {rows:,} | {r.input_mb:,.0f} MB | {cell('load')} | {cell('previous_load')} | "
            f"{cell('ctas')} | {cell('attribute')} | {cell('previous_attribute')} | "
            f"{cell('duckdb_floor')} | {cell('polars_scan')} | "
            f"{r.warehouse_mb:,.0f} MB | {ok} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
