"""The ledger attribution works on: `cost_lines` folded into line groups, never line by line.

DuckDB folds the lines into one row per distinct combination of what the rules read (month,
provider, account, resource, service, charge category, the tag values selectors and pools use)
with exact DECIMAL sums. 100M lines become a few hundred thousand groups; every stage then
works on those in Polars. Each group has a `group_id`, a `cost_type` and its amounts; a stage
takes groups (or parts of them) and leaves the rest for the next.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date

import polars as pl

from roi import warehouse
from roi.config import AttributionSettings, EngineSettings, ModelConfig, PoolConfig
from roi.vocabulary import MONEY
from roi.warehouse import Connection

# Which months a step works on: all (None), one, or several (an incremental run's changed ones).
MonthFilter = date | tuple[date, ...] | None


def month_sql(column: str, months: MonthFilter) -> tuple[str, list[object]]:
    """A SQL condition (and its parameters) keeping rows of `column` in `months`."""
    if months is None:
        return "true", []
    chosen = (months,) if isinstance(months, date) else months
    if not chosen:
        return "false", []
    # Ranges, not date_trunc(column) IN (...): DuckDB can skip row groups by them, and
    # truncating every timestamp with a time zone costs about a second per 10M rows.
    ranges = " OR ".join(f"({column} >= ? AND {column} < ?)" for _ in chosen)
    return f"({ranges})", [b for m in chosen for b in (m, _next_month(m))]


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


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


def tag_keys(
    models: tuple[ModelConfig, ...],
    pools: tuple[PoolConfig, ...],
    settings: AttributionSettings | None = None,
) -> list[str]:
    """Every tag key a model selector, a pool claim or the training marker reads."""
    keys = {k for m in models for k in m.selectors.tags}
    keys |= {k for p in pools for k in p.claims.tags}
    if settings is not None:
        keys |= set(settings.training_tags)
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


def tag_values(raw: pl.Series, keys: list[str]) -> pl.DataFrame:
    """Per distinct tag text: the lower-cased value of each key, and whether it has no tags."""
    from roi.loading.tags import normalise_tags

    distinct = raw.unique().to_list()
    rows = []
    for text in distinct:
        normal = normalise_tags(text)
        parsed = json.loads(normal) if normal and not normal.startswith("\x00") else {}
        rows.append(
            [text, not parsed]
            + [None if parsed.get(k) is None else str(parsed[k]).strip().lower() for k in keys]
        )
    return pl.DataFrame(
        rows,
        schema={"tags_text": pl.String, "untagged": pl.Boolean}
        | {tag_column(k): pl.String for k in keys},
        orient="row",
    )


def fold_lines(
    con: Connection,
    keys: list[str],
    settings: AttributionSettings,
    month: MonthFilter,
    quantities: bool = False,
    engine: EngineSettings | None = None,
) -> pl.DataFrame:
    """`cost_lines` folded into line groups (all months, or one), each with a `group_id`.

    The fold itself (`roi.fold`) runs on the engine (DuckDB on the warehouse connection by
    default, or Spark); the groups it returns are finished here. Lines are grouped by their tag
    *text* (the few distinct tag sets of a bill), not by looking up each key in every line's
    map: the keys are read once per distinct text afterwards. With `quantities`, groups also
    keep the unit of measure and its quantity (`roi explain`).
    """
    from roi.fold.engines import DUCKDB, fold_groups

    frame = fold_groups(con, settings.month_basis, month, quantities, engine or DUCKDB)
    if "source_file" not in frame.columns:  # lines of the warehouse: its manifest knows
        frame = frame.join(
            load_files(con, settings), on=list(_FILE_KEYS[settings.month_basis]), how="left"
        )
    return finish_groups(frame, keys, quantities)


_FILE_KEYS = {
    "billing_period": ("_load_id", "provider", "month"),
    "charge_period": ("_load_id", "provider"),
}


def load_files(con: Connection, settings: AttributionSettings) -> pl.DataFrame:
    """The source files of each load's current billing files (per provider, and per month when
    months are billing periods): the lineage of the groups folded from them."""
    keys = _FILE_KEYS[settings.month_basis]
    month = "date_trunc('month', billing_period_start)::DATE AS month, " if "month" in keys else ""
    return warehouse.fetch_frame(
        con,
        f"""SELECT load_id AS _load_id, provider, {month}
                   list(DISTINCT source_file ORDER BY source_file) AS source_files
            FROM _cost_files WHERE superseded_by IS NULL GROUP BY ALL""",
    )


_GROUP_KEYS = [
    "month",
    "provider",
    "sub_account_id",
    "resource_id",
    "charge_category",
    "commitment_discount_status",
    "service_category",
    "service_name",
    "instance_type",
    "consumed_unit",
    "has_gpu",
    "tags_text",
    "currency",
    "_load_id",
]


def finish_groups(frame: pl.DataFrame, keys: list[str], quantities: bool = False) -> pl.DataFrame:
    """The engine's groups as the ledger: one group per combination of what the rules read
    and load, with the source files it came from (`source_files`, or folded here from the
    engine's groups by `source_file`), the tag values, the cost type and a `group_id` in a
    stable order."""
    if not quantities:
        frame = frame.with_columns(
            consumed_unit=pl.lit(None, pl.String), quantity=pl.lit(None, pl.Float64)
        )
    if "source_file" in frame.columns:
        quantity = pl.col("quantity")
        frame = frame.group_by(_GROUP_KEYS).agg(
            pl.col("amount").sum(),
            pl.col("billed_amount").sum(),
            pl.when(quantity.is_not_null().any()).then(quantity.sum()).alias("quantity"),
            pl.col("line_count").sum(),
            pl.col("source_file").drop_nulls().unique().sort().alias("source_files"),
        )
    frame = frame.select(
        *_GROUP_KEYS, "amount", "billed_amount", "quantity", "line_count", "source_files"
    )
    frame = frame.join(
        tag_values(frame["tags_text"], keys), on="tags_text", how="left", nulls_equal=True
    ).drop("tags_text")
    # A stable order (and so stable group ids) whatever order the engine returned them in.
    order = [c for c in frame.columns if c not in ("_load_id", "source_files")]
    return (
        frame.with_columns(
            pl.col("amount").cast(MONEY),
            pl.col("billed_amount").cast(MONEY),
            pl.col("line_count").cast(pl.Int64),
            pl.concat_list(pl.col("_load_id")).alias("load_ids"),
        )
        .drop("_load_id")
        .sort(order, nulls_last=True)
        .with_columns(cost_type_expr())
        .with_row_index("group_id")
    )
