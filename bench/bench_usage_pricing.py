"""Benchmark: N usage events as JSON lines, loaded and priced, against polars.read_ndjson.

Usage (from the repository root, in the project's virtual environment):

    python bench/bench_usage_pricing.py --rows 10000000 [--keep]

It writes N flat usage events (one JSON object a line, ~180 bytes each) under /tmp: requests to
eight models over 2026-09 and 2026-10, a third of them with a cost the gateway reported and the
rest to price (cache reads, 5-minute and 1-hour cache writes, reasoning tokens, batch and flex
tiers, long requests past a long-context threshold, one model no price covers). Then, each in
its own process (wall time and peak RSS from wait4):

- roi ingest:      `roi ingest usage_events FILE` into a fresh warehouse: chunked read, mapping,
                   parsing, checks (pandera), pricing from the book (genai-prices), staging and
                   the one load transaction (merge by request id)
- read_ndjson:     `polars.read_ndjson(FILE)` of the same file (types inferred, nothing else)
- DuckDB CTAS:     `CREATE TABLE AS SELECT * FROM read_json(FILE)` into a DuckDB file: DuckDB's
                   own load into its storage, the floor for a loader that keeps usage there

and checks that every priced row has a cost, that unpriced rows are exactly the unknown
model's, and the reported costs' total. The data is never committed: the file lives in /tmp and
is removed unless --keep.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

GENERATE = """
import sys
import polars as pl

rows, path = int(sys.argv[1]), sys.argv[2]
models = [
    ("openai", "gpt-4o-2024-08-06"), ("openai", "gpt-4o-mini"), ("openai", "o3"),
    ("anthropic", "claude-sonnet-4-5-20250929"), ("anthropic", "claude-haiku-4-5"),
    ("gemini", "gemini-2.5-pro"), ("azure", "azure/eu/gpt-4o"), ("acme", "acme-llm-7"),
]
step = 1_000_000
with open(path, "wb") as fh:
    for start in range(0, rows, step):
        n = min(step, rows - start)
        i = pl.int_range(start, start + n, eager=True).alias("i")
        f = pl.DataFrame(i).with_columns(
            h=(pl.col("i") * 2654435761 % 4294967296),
        ).with_columns(
            m=pl.col("h") % len(models),
            input=(pl.col("h") % 9000 + 200)
            * pl.when(pl.col("h") % 97 == 0).then(40).otherwise(1),
            output=pl.col("h") % 800 + 20,
        )
        f = f.select(
            request_id=pl.format("req-{}", pl.col("i")),
            ts=(
                pl.datetime(2026, 9, 1, time_zone="UTC")
                + pl.duration(seconds=pl.col("i") % 5_184_000)
            ).dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
            provider=pl.col("m").replace_strict({k: p for k, (p, _) in enumerate(models)}),
            model=pl.col("m").replace_strict({k: m for k, (_, m) in enumerate(models)}),
            input_tokens=pl.col("input"),
            cached_input_tokens=(pl.col("input") * (pl.col("h") % 5) / 10).cast(pl.Int64),
            cache_write_tokens=pl.when(pl.col("m").is_in([3, 4]))
            .then(pl.col("input") // 10)
            .otherwise(0),
            cache_write_1h_tokens=pl.when(pl.col("m").is_in([3, 4]) & (pl.col("h") % 3 == 0))
            .then(pl.col("input") // 20)
            .otherwise(0),
            output_tokens=pl.col("output"),
            reasoning_tokens=pl.when(pl.col("m") == 2).then(pl.col("output") // 2).otherwise(0),
            service_tier=pl.when(pl.col("h") % 11 == 0)
            .then(pl.lit("flex"))
            .when(pl.col("h") % 13 == 0)
            .then(pl.lit("batch")),
            cost=pl.when(pl.col("h") % 3 == 0)
            .then(pl.col("input") * 2.5e-6 + pl.col("output") * 1e-5),
            model_id=pl.format("model-{}", pl.col("h") % 40),
            team=pl.format("team-{}", pl.col("h") % 7),
        )
        f.write_ndjson(fh)
print(rows)
"""

# The connector's read (chunked, mapped, parsed) and the pricing, without checks or warehouse.
READ_AND_PRICE = """
import json, sys
from pathlib import Path
from roi.config import ConnectorConfig, ProjectConfig
from roi.connectors.usage_events import UsageEvents
from roi.loading.usage_pricing import LoadPricing
path = Path(sys.argv[1])
config = ConnectorConfig("bench", "usage_events", Path("bench.toml"), str(path))
connector = UsageEvents(config, path.parent)
pricing = LoadPricing(ProjectConfig.blank(path.parent))
rows = priced = 0
for batch in connector.read_batches(path, path.name):
    frame, _ = pricing(batch.frame)
    rows += frame.height
    priced += frame.filter(frame["cost_source"] == "priced").height
print(json.dumps({"rows": rows, "priced": priced}))
"""

READ_NDJSON = """
import json, sys
import polars as pl
frame = pl.read_ndjson(sys.argv[1])
print(json.dumps({"rows": frame.height, "columns": frame.width}))
"""

# DuckDB's own load of the same file into a table of its storage (types inferred, nothing
# mapped, checked or priced): the floor for any loader keeping usage in the DuckDB warehouse.
DUCKDB_CTAS = """
import json, sys
import duckdb
con = duckdb.connect(sys.argv[2])
con.execute("SET memory_limit = '4GB'")
con.execute(f"CREATE TABLE events AS SELECT * FROM read_json('{sys.argv[1]}', "
            "format = 'newline_delimited')")
print(json.dumps({"rows": con.execute("SELECT count(*) FROM events").fetchone()[0]}))
"""

CHECK = """
import json, sys
from pathlib import Path
from roi import pipeline
from roi.context import Context
ctx = Context.for_warehouse(Path(sys.argv[1]))
row = pipeline.query(ctx, '''
  SELECT count(*), count(*) FILTER (WHERE cost_source = 'priced'),
         count(*) FILTER (WHERE cost_source = 'unpriced'),
         count(*) FILTER (WHERE cost_source = 'unpriced' AND model <> 'acme-llm-7'),
         count(*) FILTER (WHERE cost_source = 'priced' AND cost IS NULL),
         sum(cost) FILTER (WHERE cost_source = 'reported')::DOUBLE,
         sum(cost) FILTER (WHERE cost_source = 'priced')::DOUBLE,
         any_value(price_version) FILTER (WHERE price_version IS NOT NULL)
  FROM inference_usage''').row(0)
keys = ["rows", "priced", "unpriced", "unpriced_known_model", "priced_without_cost",
        "reported_total", "priced_total", "price_version"]
print(json.dumps(dict(zip(keys, row))))
"""


def measure(args: list[str], cwd: Path = ROOT) -> tuple[float, float, str]:
    """Run a command; return (seconds, peak RSS in MiB, stdout)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(args, cwd=cwd, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        if status != 0:
            raise SystemExit(f"{' '.join(args)} failed:\n{err.read()[-3000:]}")
        return seconds, usage.ru_maxrss / 1024, out.read()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the events file in /tmp")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; the best is shown")
    args = parser.parse_args()
    python = sys.executable
    roi = str(Path(python).with_name("roi"))
    work = Path(tempfile.mkdtemp(prefix="roi-bench-usage-", dir="/tmp"))
    events = work / f"events-{args.rows}.jsonl"
    try:
        seconds, _, _ = measure([python, "-c", GENERATE, str(args.rows), str(events)])
        size = events.stat().st_size / 2**20
        print(f"wrote {args.rows:,} events ({size:,.0f} MiB) in {seconds:.1f} s", file=sys.stderr)
        runs: dict[str, list[tuple[float, float]]] = {
            "roi": [],
            "polars": [],
            "read": [],
            "duckdb": [],
        }
        check: dict[str, object] = {}
        for _ in range(args.repeat):
            polars_run = measure([python, "-c", READ_NDJSON, str(events)])
            runs["polars"].append(polars_run[:2])
            runs["read"].append(measure([python, "-c", READ_AND_PRICE, str(events)])[:2])
            warehouse = work / "w.duckdb"
            for leftover in [*work.glob("w.duckdb*"), *work.glob("ctas.duckdb*")]:
                shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
            ctas = [python, "-c", DUCKDB_CTAS, str(events), str(work / "ctas.duckdb")]
            runs["duckdb"].append(measure(ctas)[:2])
            roi_run = measure(
                [roi, "ingest", "usage_events", str(events), "--warehouse", str(warehouse), "-q"],
                cwd=work,
            )
            runs["roi"].append(roi_run[:2])
            check = json.loads(measure([python, "-c", CHECK, str(warehouse)])[2])
        roi_s, roi_mb = min(runs["roi"])
        pl_s, pl_mb = min(runs["polars"])
        read_s, read_mb = min(runs["read"])
        duck_s, duck_mb = min(runs["duckdb"])
        print(json.dumps(check, indent=1), file=sys.stderr)
        print(
            f"\nMachine: {platform.machine()}, {os.cpu_count()} cores; "
            f"Python {platform.python_version()}; {args.rows:,} events, {size:,.0f} MiB\n"
        )
        print("| run | wall | × read_ndjson | peak RSS | goal |")
        print("|---|---:|---:|---:|---|")
        print(f"| polars.read_ndjson | {pl_s:.1f} s | 1.00× | {pl_mb / 1024:.2f} GiB | |")
        print(
            f"| roi read + price (connector and book, no warehouse) | {read_s:.1f} s | "
            f"{read_s / pl_s:.2f}× | {read_mb / 1024:.2f} GiB | |"
        )
        print(
            f"| DuckDB's own CTAS of the file (read_json into its storage) | {duck_s:.1f} s | "
            f"{duck_s / pl_s:.2f}× | {duck_mb / 1024:.2f} GiB | |"
        )
        print(
            f"| roi ingest usage_events (loaded and priced) | {roi_s:.1f} s | "
            f"{roi_s / pl_s:.2f}× | {roi_mb / 1024:.2f} GiB | ≤ 2×, < 4 GiB |"
        )
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}", file=sys.stderr)


if __name__ == "__main__":
    main()
