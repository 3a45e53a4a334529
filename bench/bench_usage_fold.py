"""Benchmark: the LLM requests folds on DuckDB, before (hand-written SQL) and now (the Ibis
definition in roi/fold/usage.py compiled to DuckDB SQL), same process, alternated.

Usage (from the repository root, in the project's virtual environment):

    python bench/bench_usage_fold.py [--rows 5000000] [--repeat 5]

Data: a synthetic `inference_usage` of `--rows` requests over 12 months (4 providers, 40
features, 20 deployments, 10 loads) in an in-memory DuckDB set to UTC. Measured: a pool's fold
(provider or deployment glob, what the token bases read) and the unpooled fold (what
`usage_costs` reads), medians of `--repeat` runs; results are checked equal first.
"""

from __future__ import annotations

import argparse
import statistics
import time

import duckdb
import polars as pl

from roi.attribution.ledger import glob_regex
from roi.fold.engines import pool_usage_frame, unpooled_usage_frame
from roi.fold.requests import Requests
from roi.vocabulary import SELF_HOSTED_PROVIDERS

REGEX = f"(?:{glob_regex('prod-*')})"
OLD_POOL = f"""SELECT date_trunc('month', ts)::DATE AS month, model_id, feature,
       sum(requests)::DOUBLE AS requests, sum(input_tokens)::DOUBLE AS input,
       sum(cached_input_tokens)::DOUBLE AS cached, sum(cache_write_tokens)::DOUBLE AS cache_write,
       sum(output_tokens)::DOUBLE AS output, sum(cost) AS cost
    FROM inference_usage
    WHERE (provider IN ('azure') OR regexp_matches(coalesce(deployment, ''), '{REGEX}')) AND true
    GROUP BY ALL ORDER BY ALL"""
OWN = ", ".join(f"'{p}'" for p in SELF_HOSTED_PROVIDERS)
OLD_UNPOOLED = f"""SELECT date_trunc('month', ts)::DATE AS month, provider, model_id, feature,
       currency, coalesce(sum(cost), 0) AS amount, sum(requests)::BIGINT AS requests,
       sum(input_tokens)::BIGINT AS input_tokens, sum(output_tokens)::BIGINT AS output_tokens,
       count(*) FILTER (WHERE cost IS NULL)::BIGINT AS unpriced_requests,
       list(DISTINCT _load_id ORDER BY _load_id) AS load_ids
    FROM inference_usage
    WHERE true AND NOT ((provider IN ('azure') OR regexp_matches(coalesce(deployment, ''),
        '{REGEX}'))) AND coalesce(provider, '') NOT IN ({OWN})
    GROUP BY ALL"""
DATA = """CREATE TABLE inference_usage AS SELECT
    TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_seconds((i * 7919) % 31536000) AS ts,
    ['azure', 'openai', 'anthropic', 'vllm'][1 + i % 4] AS provider,
    ('prod-' || (i % 20)) AS deployment, 'feature-' || (i % 40) AS feature,
    CASE WHEN i % 3 = 0 THEN 'model-' || (i % 7) END AS model_id,
    1::BIGINT AS requests, (i % 2000)::BIGINT AS input_tokens,
    (i % 300)::BIGINT AS cached_input_tokens, 0::BIGINT AS cache_write_tokens,
    (i % 700)::BIGINT AS output_tokens,
    CASE WHEN i % 11 <> 0 THEN ((i % 997) / 10000.0)::DECIMAL(38, 10) END AS cost,
    'USD' AS currency, 'load-' || (i % 10) AS _load_id
FROM range(?) t(i)"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(DATA.replace("?", str(args.rows)))
    pool = Requests(("azure",), REGEX)

    def old_pool() -> pl.DataFrame:
        return pl.from_arrow(con.sql(OLD_POOL).to_arrow_table())  # type: ignore[return-value]

    def old_unpooled() -> pl.DataFrame:
        return pl.from_arrow(con.sql(OLD_UNPOOLED).to_arrow_table())  # type: ignore[return-value]

    def new_pool() -> pl.DataFrame:
        return pool_usage_frame(con, pool, None)

    def new_unpooled() -> pl.DataFrame:  # with the per-load groups collapsed, as attribution does
        groups = unpooled_usage_frame(con, (pool,), SELF_HOSTED_PROVIDERS, None)
        return groups.group_by("month", "provider", "model_id", "feature", "currency").agg(
            pl.col("amount").sum(),
            pl.col("requests", "input_tokens", "output_tokens", "unpriced_requests").sum(),
            pl.col("_load_id").unique().sort().alias("load_ids"),
        )

    keys = ["month", "provider", "model_id", "feature", "currency"]
    assert old_pool().equals(new_pool())
    assert old_unpooled().sort(keys).equals(new_unpooled().sort(keys))
    times: dict[str, list[float]] = {
        k: [] for k in ("old pool", "new pool", "old rest", "new rest")
    }
    fns = {"old pool": old_pool, "new pool": new_pool}
    fns |= {"old rest": old_unpooled, "new rest": new_unpooled}
    for i in range(args.repeat):
        for name in sorted(fns, reverse=bool(i % 2)):
            start = time.perf_counter()
            fns[name]()
            times[name].append(time.perf_counter() - start)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"{args.rows:,} requests, medians of {args.repeat}")
    for what in ("pool", "rest"):
        old, new = med[f"old {what}"], med[f"new {what}"]
        print(f"| {what} | {old:.3f} s before | {new:.3f} s now | {new / old:.2f}x |")


if __name__ == "__main__":
    main()
