"""Benchmark: the fold (billing lines → line groups) on DuckDB and on Spark local[2], same run.

Usage (from the repository root, in the project's virtual environment):

    python bench/bench_fold.py [--rows 1000000] [--repeat 5]

Data: the attribution benchmark's warehouse (bench/out/attribution-<N>/, built by
bench_attribution.py's `warehouse` if missing). The fold is the sample project's (its tag keys),
all months. Measured, each engine in its own process:

- DuckDB, before and after: the hand-written query this change replaced (`OLD_SQL`, with its
  Polars finish) against `fold_lines` now (the Ibis definition compiled to DuckDB SQL),
  alternated `--repeat` times in one process; medians and the ratio (goal ≤ 1.05);
- Spark local[2]: the session's start, then `fold_lines` on Spark (first and second run);
  peak RSS of the Python process (wait4) and of Spark's JVM (VmHWM).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from bench_attribution import warehouse as build_warehouse
from bench_billing import measure

ROOT = Path(__file__).resolve().parents[1]

DUCKDB_RUN = r"""
import json, statistics, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[3])
import polars as pl
from roi import warehouse
from roi.attribution.ledger import finish_groups, fold_lines, tag_keys
from roi.config import load_project
from bench_fold import OLD_SQL
project = load_project(Path(sys.argv[3]).parent)
keys = tag_keys(project.models, project.pools, project.attribution)
with warehouse.open_warehouse(Path(sys.argv[1]), read_only=True) as con:
    def old():
        frame = warehouse.fetch_frame(con, OLD_SQL).with_columns(
            source_files=pl.lit(None, pl.List(pl.String)))
        return finish_groups(frame.drop("consumed_unit", "quantity"), keys)
    def new():
        return fold_lines(con, keys, project.attribution, None)
    assert old().drop("source_files").equals(new().drop("source_files"))
    times = {"old": [], "new": []}
    for i in range(int(sys.argv[2])):
        for name, fn in ((("old", old), ("new", new)) if i % 2 else (("new", new), ("old", old))):
            start = time.perf_counter(); groups = fn()
            times[name].append(time.perf_counter() - start)
print(json.dumps({k: statistics.median(v) for k, v in times.items()} | {"groups": groups.height}))
"""

SPARK_RUN = r"""
import json, sys, time
from pathlib import Path
start = time.perf_counter()
from roi import warehouse
from roi.attribution.ledger import fold_lines, tag_keys
from roi.config import EngineSettings, load_project
from roi.fold.spark import session, stop_sessions
project = load_project(Path(sys.argv[2]))
keys = tag_keys(project.models, project.pools, project.attribution)
# The groups of 100M lines (millions of rows) come back to the driver as Arrow.
engine = EngineSettings(kind="spark", master="local[2]", spark_conf={
    "spark.driver.memory": "8g", "spark.driver.maxResultSize": "4g"})
spark = session(engine)
started = time.perf_counter() - start
jvm = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()
runs = []
with warehouse.open_warehouse(Path(sys.argv[1]), read_only=True) as con:
    for _ in range(int(sys.argv[3])):
        t = time.perf_counter()
        groups = fold_lines(con, keys, project.attribution, None, engine=engine)
        runs.append(time.perf_counter() - t)
hwm = next(l for l in open(f"/proc/{jvm}/status") if l.startswith("VmHWM")).split()[1]
stop_sessions()
print(json.dumps({"start": started, "first": runs[0], "second": runs[-1], "groups": groups.height,
                  "jvm_mib": int(hwm) / 1024}))
"""

# The fold before this change (roi/attribution/ledger.py::fold_lines), all months.
OLD_SQL = """SELECT date_trunc('month', billing_period_start)::DATE AS month, provider,
       sub_account_id, resource_id, charge_category, commitment_discount_status,
       service_category, service_name, x_instance_type AS instance_type,
       NULL::VARCHAR AS consumed_unit, coalesce(x_gpu_count, 0) > 0 AS has_gpu,
       CASE WHEN tags_raw IS NULL AND tags IS NOT NULL THEN to_json(tags)::VARCHAR
            ELSE tags_raw END AS tags_text,
       billing_currency AS currency, _load_id,
       sum(effective_cost) AS amount, sum(billed_cost) AS billed_amount,
       NULL::DOUBLE AS quantity, count(*) AS line_count
    FROM cost_lines WHERE true
    GROUP BY ALL"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--spark-runs", type=int, default=2, help="folds in the Spark session")
    args = parser.parse_args()
    target = build_warehouse(args.rows, 200)
    env_path = str(ROOT / "bench")
    duck_s, duck_rss, duck_out = measure(
        [sys.executable, "-c", DUCKDB_RUN, str(target), str(args.repeat), env_path]
    )
    duck = json.loads(duck_out.strip().splitlines()[-1])
    print(f"machine: {os.cpu_count()} cores; {args.rows:,} cost lines, {duck['groups']:,} groups")
    print()
    print("| engine | fold | process | peak RSS | groups |")
    print("|---|---:|---:|---:|---:|")
    print(
        f"| DuckDB before (hand-written SQL) | {duck['old']:.2f} s | | | {duck['groups']:,} |\n"
        f"| DuckDB now (Ibis → DuckDB SQL) | {duck['new']:.2f} s "
        f"({duck['new'] / duck['old']:.2f}× before) | {duck_s:.1f} s | {duck_rss:,.0f} MiB | "
        f"{duck['groups']:,} |",
        flush=True,
    )
    spark_s, spark_rss, spark_out = measure(
        [sys.executable, "-c", SPARK_RUN, str(target), str(ROOT), str(args.spark_runs)]
    )
    # Spark may print to stdout as well: the result is the last line.
    spark = json.loads(spark_out.strip().splitlines()[-1])
    print(
        f"| Spark local[2] | {spark['first']:.2f} s first, {spark['second']:.2f} s second "
        f"(session start {spark['start']:.1f} s) | {spark_s:.1f} s | {spark_rss:,.0f} MiB "
        f"Python + {spark['jvm_mib']:,.0f} MiB JVM | {spark['groups']:,} |"
    )


if __name__ == "__main__":
    main()
