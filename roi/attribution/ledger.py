"""The ledger attribution works on: `cost_lines` folded into line groups, never line by line.

DuckDB folds the lines into one row per distinct combination of what the rules read (month,
provider, account, resource, service, charge category, the tag values selectors and pools use)
with exact DECIMAL sums. 100M lines become a few hundred thousand groups; every stage then
works on those in Polars. Each group has a `group_id`, a `cost_type` and its amounts; a stage
takes groups (or parts of them) and leaves the rest for the next.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date

import polars as pl

from roi import warehouse
from roi.config import AttributionSettings, ModelConfig, PoolConfig
from roi.warehouse import Connection

MONEY = pl.Decimal(38, 10)


def tag_column(key: str) -> str:
    """The working column holding one tag key's value (distinct for distinct keys)."""
    return "_tag_" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def glob_regex(pattern: str) -> str:
    """A glob (`*` any run, `?` one character) as an anchored regular expression."""
    out = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return f"^{out}$"


def globs_match(column: str, patterns: tuple[str, ...]) -> pl.Expr:
    """Whether `column` matches any of the glob patterns (null never matches)."""
    rx = "|".join(f"(?:{glob_regex(p)})" for p in patterns)
    return pl.col(column).str.contains(rx).fill_null(False)


def month_column(settings: AttributionSettings) -> str:
    """The cost_lines timestamp whose month a line is reported in."""
    if settings.month_basis == "billing_period":
        return "billing_period_start"
    return "charge_period_start"


def tag_keys(models: tuple[ModelConfig, ...], pools: tuple[PoolConfig, ...]) -> list[str]:
    """Every tag key a model selector or a pool claim reads."""
    keys = {k for m in models for k in m.selectors.tags}
    keys |= {k for p in pools for k in p.claims.tags}
    return sorted(keys)


def cost_type_expr() -> pl.Expr:
    """What a line group pays for, from FOCUS's categories (the cost-type vocabulary)."""
    category = pl.col("charge_category")
    service = pl.col("service_category")
    return (
        pl.when(category == "Tax")
        .then(pl.lit("tax"))
        .when(category == "Credit")
        .then(pl.lit("credit"))
        .when(pl.col("commitment_discount_status") == "Unused")
        .then(pl.lit("commitment_unused"))
        .when(category.is_in(["Purchase", "Adjustment"]))
        .then(pl.lit("other"))
        .when(pl.col("has_gpu"))
        .then(pl.lit("gpu_compute"))
        .when((service == "AI and Machine Learning") & pl.col("instance_type").is_null())
        .then(pl.lit("inference_api"))
        .when((service == "Compute") | pl.col("instance_type").is_not_null())
        .then(pl.lit("cpu_compute"))
        .when(service == "Storage")
        .then(pl.lit("storage"))
        .when(service == "Networking")
        .then(pl.lit("network"))
        .otherwise(pl.lit("other"))
        .alias("cost_type")
    )


def fold_lines(
    con: Connection, keys: list[str], settings: AttributionSettings, month: date | None
) -> pl.DataFrame:
    """`cost_lines` folded into line groups (all months, or one), each with a `group_id`."""
    when = month_column(settings)
    tags = "".join(f", lower(trim(tags[?])) AS {tag_column(k)}" for k in keys)
    where = f"WHERE date_trunc('month', {when})::DATE = ?" if month else ""
    params: list[object] = [*keys, *([month] if month else [])]
    frame = warehouse.fetch_frame(
        con,
        f"""SELECT date_trunc('month', {when})::DATE AS month, provider, billing_account_id,
               sub_account_id, resource_id{tags}, charge_category, commitment_discount_status,
               service_category, service_name, x_instance_type AS instance_type, consumed_unit,
               coalesce(x_gpu_count, 0) > 0 AS has_gpu,
               coalesce(cardinality(tags), 0) = 0 AS untagged,
               billing_currency AS currency,
               sum(effective_cost) AS amount, sum(billed_cost) AS billed_amount,
               sum(consumed_quantity) AS quantity,
               count(*) AS line_count, list(DISTINCT _load_id ORDER BY _load_id) AS load_ids
            FROM cost_lines {where}
            GROUP BY ALL""",
        params,
    )
    # A stable order (and so stable group ids) whatever order DuckDB returned the groups in.
    order = [c for c in frame.columns if c not in ("load_ids",)]
    return (
        frame.with_columns(
            pl.col("amount").cast(MONEY),
            pl.col("billed_amount").cast(MONEY),
            pl.col("line_count").cast(pl.Int64),
        )
        .sort(order, nulls_last=True)
        .with_columns(cost_type_expr())
        .with_row_index("group_id")
    )
