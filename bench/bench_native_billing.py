"""Benchmark: load N billing lines as AWS CUR 2.0 Parquet and as Azure cost details CSV, against
DuckDB's own CTAS of the same files, same run.

Usage (from the repository root, in the project's virtual environment):

    python bench/bench_native_billing.py --rows 10000000 [--keep] [--repeat 3]

(Both sets hold all N lines of the FOCUS set, AWS- and Azure-shaped alike.)

The native files are made from the FOCUS benchmark set (`roi sample --rows N`, kept under
bench/out/) by DuckDB: its lines as CUR 2.0 columns (`line_item_*`, the
`resource_tags` map) in Parquet parts, and as an EA cost details export
(`CostInBillingCurrency`, `MM/DD/YYYY` dates, tags without braces) in CSV parts. Each load runs
in its own process (`roi ingest aws_cur|azure_cost` into a fresh warehouse; wall time and peak
RSS from wait4) and so does DuckDB's `CREATE TABLE AS SELECT * FROM read_…` of the same files.
With `--repeat N` each is run N times, the load and the CTAS alternated, and the best of each
is reported (on a shared machine one run can be 20% off).
The goal (the billing-formats issue): at most 1.5× CTAS, peak memory under 4 GiB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

from bench_billing import OUT, ROOT, measure

CUR2 = """
import duckdb, sys
con = duckdb.connect()
src, dst, parts = sys.argv[1], sys.argv[2], int(sys.argv[3])
con.execute(f'''CREATE VIEW focus AS SELECT *, row_number() OVER () AS n
                FROM read_parquet('{src}/**/*.parquet', union_by_name = true)''')
for part in range(parts):
    con.execute(f'''COPY (
      SELECT BillingAccountId AS bill_payer_account_id,
             BillingPeriodStart AS bill_billing_period_start_date,
             BillingPeriodEnd AS bill_billing_period_end_date,
             SubAccountId AS line_item_usage_account_id,
             CASE ChargeCategory WHEN 'Purchase' THEN 'Fee' WHEN 'Adjustment' THEN 'Refund'
                  ELSE ChargeCategory END AS line_item_line_item_type,
             ChargePeriodStart AS line_item_usage_start_date,
             ChargePeriodEnd AS line_item_usage_end_date,
             ServiceName AS product_product_name, RegionId AS product_region_code,
             ResourceId AS line_item_resource_id, BillingCurrency AS line_item_currency_code,
             BilledCost::DOUBLE AS line_item_unblended_cost,
             ListCost::DOUBLE AS pricing_public_on_demand_cost,
             ConsumedQuantity AS line_item_usage_amount, ConsumedUnit AS pricing_unit,
             CAST(json(Tags) AS MAP(VARCHAR, VARCHAR)) AS resource_tags
      FROM focus WHERE n % {parts} = {part})
      TO '{dst}/part-{part:05d}.snappy.parquet' (FORMAT parquet)''')
"""

AZURE = """
import duckdb, sys
con = duckdb.connect()
src, dst, parts = sys.argv[1], sys.argv[2], int(sys.argv[3])
con.execute(f'''CREATE VIEW focus AS SELECT *, row_number() OVER () AS n
                FROM read_parquet('{src}/**/*.parquet', union_by_name = true)''')
for part in range(parts):
    con.execute(f'''COPY (
      SELECT BillingAccountId, BillingAccountName,
             strftime(BillingPeriodStart, '%m/%d/%Y') AS BillingPeriodStartDate,
             strftime(BillingPeriodEnd - INTERVAL 1 DAY, '%m/%d/%Y') AS BillingPeriodEndDate,
             SubAccountId AS SubscriptionId, SubAccountName AS SubscriptionName,
             strftime(ChargePeriodStart, '%m/%d/%Y') AS Date,
             ServiceName AS MeterCategory, ServiceCategory AS ServiceFamily,
             'Usage' AS ChargeType, 'OnDemand' AS PricingModel, 'UsageBased' AS Frequency,
             ConsumedQuantity AS Quantity, ConsumedUnit AS UnitOfMeasure,
             EffectiveCost::DOUBLE AS CostInBillingCurrency, BillingCurrency AS BillingCurrencyCode,
             ResourceId, RegionId AS ResourceLocation,
             regexp_replace(regexp_replace(Tags, '^[{{]', ''), '[}}]$', '') AS Tags
      FROM focus WHERE n % {parts} = {part})
      TO '{dst}/part_{part:04d}.csv' (HEADER, DELIMITER ',')''')
"""

CTAS = """
import duckdb, json, sys
con = duckdb.connect(sys.argv[2])
con.execute("SET memory_limit = '4GB'")
con.execute("SET enable_progress_bar = false")
# A CSV's types are told from all its rows (the default sample misreads the Azure account ids).
reader = "read_parquet" if sys.argv[3] == "parquet" else "read_csv"
options = "" if sys.argv[3] == "parquet" else ", sample_size = -1"
con.execute(f"CREATE TABLE lines AS SELECT * FROM {reader}(?{options})",
            [sys.argv[1] + '/*.' + sys.argv[3]])
print(json.dumps({"rows": con.execute("SELECT count(*) FROM lines").fetchone()[0]}))
"""


def native_sets(rows: int, parts: int) -> tuple[Path, Path]:
    """The CUR 2.0 and Azure sets of `rows` lines (made once from the FOCUS set, kept)."""
    focus = OUT / f"focus-{rows}"
    if not (focus / "aws").exists():
        measure(
            [
                sys.executable,
                "-m",
                "roi",
                "sample",
                "--rows",
                str(rows),
                "--out",
                str(focus),
                "--quiet",
            ]
        )
    cur = OUT / f"cur2-{rows}/my-export/data/BILLING_PERIOD=all"
    azure = OUT / f"azure-{rows}/cost-details/20240101-20261231"
    for script, src, dst in ((CUR2, focus, cur), (AZURE, focus, azure)):
        if not dst.exists():
            dst.mkdir(parents=True)
            measure([sys.executable, "-c", script, str(src), str(dst), str(parts)])
    return cur, azure


def _load_and_ctas(
    kind: str, folder: Path, suffix: str
) -> tuple[tuple[float, float, str], tuple[float, float, str]]:
    """`roi ingest` of the set into a fresh warehouse, then DuckDB's CTAS of the same files."""
    work = Path(tempfile.mkdtemp(prefix="roi-bench-native-"))
    try:
        load = measure(
            [
                sys.executable,
                "-m",
                "roi",
                "ingest",
                kind,
                str(folder),
                "--project",
                str(ROOT),
                "--warehouse",
                str(work / "w.duckdb"),
                "--quiet",
            ],
            # Not the repository root: `python -m roi` would import its roi before PYTHONPATH's
            # (`PYTHONPATH=/tmp/before python bench/...` must measure that checkout).
            cwd=work,
        )
        ctas = measure([sys.executable, "-c", CTAS, str(folder), str(work / "ctas.duckdb"), suffix])
    finally:
        shutil.rmtree(work)
    return load, ctas


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--parts", type=int, default=10, help="files per set (default 10)")
    parser.add_argument("--keep", action="store_true", help="keep the generated sets")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs of each (roi and CTAS alternated; the best of each is kept: on a shared "
        "machine one run can be 20%% off)",
    )
    args = parser.parse_args()
    cur, azure = native_sets(args.rows, args.parts)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print()
    print("| format | lines | files | roi ingest | DuckDB CTAS | ratio | roi peak RSS | goal |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for kind, folder, suffix in (("aws_cur", cur, "parquet"), ("azure_cost", azure, "csv")):
        files = len(list(folder.glob(f"*.{suffix}")))
        loads, ctases = [], []
        for _ in range(args.repeat):
            loaded, ctas = _load_and_ctas(kind, folder, suffix)
            loads.append(loaded)
            ctases.append(ctas)
        load, ctas = min(loads), min(ctases)
        lines = json.loads(ctas[2])["rows"]
        ratio = load[0] / ctas[0]
        print(
            f"| {kind} ({suffix}) | {lines:,} | {files} | {load[0]:.1f} s | {ctas[0]:.1f} s "
            f"| {ratio:.2f}× | {max(r[1] for r in loads) / 1024:.2f} GiB | ≤ 1.5× CTAS, < 4 GiB |"
        )
    if not args.keep:
        for path in (OUT / f"cur2-{args.rows}", OUT / f"azure-{args.rows}"):
            shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    main()
