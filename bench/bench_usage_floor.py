"""Benchmark: the floor of loading usage events into roi's `inference_usage` with DuckDB alone.

Usage (from the repository root, in the project's virtual environment):

    python bench/bench_usage_floor.py [--rows 10000000]

Writes bench_usage_pricing.py's N events (JSON lines) under /tmp, then, each in its own
process, against `polars.read_ndjson` of the same file in the same run: one DuckDB statement
that reads the file (`read_json`, typed columns), maps it to `inference_usage`, prices the
rows without a cost by a join to a seven-model price table and inserts them into a new roi
warehouse, in one transaction. Nothing else roi does at load is in it (checks, line numbers,
rejects, cache-write lifetimes, tiers, long-context prices, the merge by request id), so it is
what no loader keeping usage in the warehouse can beat. Three forms, to see what the contract
costs: as the contract stores it (tags as a MAP, money as DECIMAL(38,10)), without tags, with
money as DOUBLE, and written to a Parquet file instead of the table (as billing lines are kept).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_usage_pricing import GENERATE, READ_NDJSON, measure

PRICES = """('openai', 'gpt-4o-2024-08-06', 2.5e-6, 1.25e-6, 0.0, 1e-5),
 ('openai', 'gpt-4o-mini', 1.5e-7, 7.5e-8, 0.0, 6e-7),
 ('openai', 'o3', 2e-6, 5e-7, 0.0, 8e-6),
 ('anthropic', 'claude-sonnet-4-5-20250929', 3e-6, 3e-7, 3.75e-6, 1.5e-5),
 ('anthropic', 'claude-haiku-4-5', 1e-6, 1e-7, 1.25e-6, 5e-6),
 ('gemini', 'gemini-2.5-pro', 1.25e-6, 3.1e-7, 0.0, 1e-5),
 ('azure', 'azure/eu/gpt-4o', 2.5e-6, 1.25e-6, 0.0, 1e-5)"""

LOAD = """
import json, sys
from pathlib import Path
from roi import warehouse
events, target, tags, money = sys.argv[1], Path(sys.argv[2]), sys.argv[3], sys.argv[4]
rate = "DOUBLE" if money == "DOUBLE" else "DECIMAL(38,18)"
con = warehouse.connect(target)
con.execute(f"CREATE TEMP TABLE prices AS SELECT provider, model, p_in::{rate} p_in, "
            f"p_cached::{rate} p_cached, p_write::{rate} p_write, p_out::{rate} p_out "
            f"FROM (VALUES {sys.argv[5]}) t(provider, model, p_in, p_cached, p_write, p_out)")
con.execute("BEGIN TRANSACTION")
select = f'''
SELECT e.request_id, e.ts::TIMESTAMPTZ, e.provider, e.model, e.model_id, e.team, {tags}, 1,
  e.input_tokens, e.cached_input_tokens, e.cache_write_tokens, e.output_tokens,
  coalesce(e.cost::{money}, ((e.input_tokens - e.cached_input_tokens - e.cache_write_tokens)
      * p.p_in + e.cached_input_tokens * p.p_cached + e.cache_write_tokens * p.p_write
      + e.output_tokens * p.p_out)::{money}),
  'USD',
  CASE WHEN e.cost IS NOT NULL THEN 'reported' WHEN p.model IS NULL THEN 'unpriced'
       ELSE 'priced' END,
  CASE WHEN e.cost IS NULL AND p.model IS NOT NULL THEN 'floor' END,
  '{Path(events).name}', 0, 'floor'
FROM read_json('{events}', format = 'newline_delimited', columns = {{
  request_id: 'VARCHAR', ts: 'VARCHAR', provider: 'VARCHAR', model: 'VARCHAR',
  input_tokens: 'BIGINT', cached_input_tokens: 'BIGINT', cache_write_tokens: 'BIGINT',
  cache_write_1h_tokens: 'BIGINT', output_tokens: 'BIGINT', reasoning_tokens: 'BIGINT',
  service_tier: 'VARCHAR', cost: 'DOUBLE', model_id: 'VARCHAR', team: 'VARCHAR'}}) e
LEFT JOIN prices p ON p.provider = e.provider AND p.model = e.model'''
columns = ("request_id, ts, provider, model, model_id, team, tags, requests, input_tokens, "
           "cached_input_tokens, cache_write_tokens, output_tokens, cost, currency, "
           "cost_source, price_version, source_file, source_row, _load_id")
if sys.argv[6] == "table":
    con.execute(f"INSERT INTO inference_usage ({columns}) {select}")
    stored = "inference_usage"
else:  # a Parquet file, as billing lines are kept
    parquet = target.with_suffix(".parquet")
    con.execute(f"COPY (SELECT * FROM ({select}) t({columns})) TO '{parquet}' (FORMAT parquet)")
    stored = f"read_parquet('{parquet}')"
con.execute("COMMIT")
rows, priced = con.execute(
    f"SELECT count(*), count(*) FILTER (WHERE cost_source = 'priced') FROM {stored}"
).fetchone()
print(json.dumps({"rows": rows, "priced": priced}))
"""

TAGS, NO_TAGS, EXACT = "MAP {'team': e.team}", "NULL", "DECIMAL(38,10)"
FORMS = {
    "as the contract stores it (MAP tags, DECIMAL money)": (TAGS, EXACT, "table"),
    "without tags": (NO_TAGS, EXACT, "table"),
    "money as DOUBLE": (TAGS, "DOUBLE", "table"),
    "into a Parquet file instead (as billing lines are kept)": (TAGS, EXACT, "parquet"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    args = parser.parse_args()
    python = sys.executable
    work = Path(tempfile.mkdtemp(prefix="roi-bench-floor-", dir="/tmp"))
    events = work / "events.jsonl"
    try:
        measure([python, "-c", GENERATE, str(args.rows), str(events)])
        read_s, read_mb, _ = measure([python, "-c", READ_NDJSON, str(events)])
        print(f"{args.rows:,} events, {events.stat().st_size / 2**20:,.0f} MiB\n")
        print("| run | wall | × read_ndjson | peak RSS |")
        print("|---|---:|---:|---:|")
        print(f"| polars.read_ndjson | {read_s:.1f} s | 1.00× | {read_mb / 1024:.2f} GiB |")
        for name, (tags, money, store) in FORMS.items():
            target = work / "w.duckdb"
            for leftover in [*work.glob("w.duckdb*"), *work.glob("w.parquet")]:
                shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
            seconds, mb, out = measure(
                [python, "-c", LOAD, str(events), str(target), tags, money, PRICES, store]
            )
            assert f'"rows": {args.rows}' in out, out
            print(
                f"| DuckDB alone, {name} | {seconds:.1f} s | {seconds / read_s:.2f}× | "
                f"{mb / 1024:.2f} GiB |"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
