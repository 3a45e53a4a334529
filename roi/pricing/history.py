"""Priced history in the warehouse: re-pricing it with the current book (`roi reprice`), and the
list of usage no price covers (`roi reconcile`).

Costs a gateway or provider reported (`cost_source` "reported") and costs corrected to an
invoice ("trued-up") are never re-priced: only rows roi priced or could not price. Loads price
new rows with the book of their day and never touch history; a changed book (a new library
version, a contracted price) reaches past months only through `roi reprice`, which says per
month what changes before (`--dry-run`) or while it writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

import polars as pl

from roi import warehouse
from roi.config import ProjectConfig
from roi.errors import RoiError
from roi.pricing.apply import explain_prices, price_usage
from roi.pricing.book import PriceBook
from roi.progress import Progress
from roi.vocabulary import MONEY, SELF_HOSTED_PROVIDERS
from roi.warehouse import Connection

REPRICED = ("priced", "unpriced")
_COLUMNS = (
    "request_id, ts, provider, model, service_tier, requests, input_tokens, cached_input_tokens, "
    "cache_write_tokens, cache_write_1h_tokens, output_tokens, reasoning_tokens, cost, currency, "
    "cost_source, price_version"
)


@dataclass(frozen=True)
class Repricing:
    """What `roi reprice` found (and wrote, unless a dry run): per month, the rows it priced
    again, their cost before and after, and what stays unpriced."""

    months: pl.DataFrame
    changed: int
    version: str
    written: bool
    rows: pl.DataFrame = field(default_factory=pl.DataFrame, repr=False)  # the changed rows


def month_sql(month: date | None) -> tuple[str, list[object]]:
    """A condition on `ts` (and its parameters) keeping one month's rows, or all."""
    if month is None:
        return "true", []
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return "(ts >= ? AND ts < ?)", [month, following]


def _own(con: Connection, month: date | None) -> tuple[str, list[object]]:
    when, params = month_sql(month)
    own = ", ".join("?" for _ in SELF_HOSTED_PROVIDERS)
    sql = (
        f"cost_source IN ('priced', 'unpriced') AND {when} "
        f"AND coalesce(provider, '') NOT IN ({own})"
    )
    return sql, [*params, *SELF_HOSTED_PROVIDERS]


def repriced_rows(con: Connection, book: PriceBook, month: date | None = None) -> pl.DataFrame:
    """The rows roi priced (or could not), priced again with `book`: request_id, month, the
    old cost, source and version and the new ones."""
    where, params = _own(con, month)
    rows = warehouse.fetch_frame(
        con, f"SELECT {_COLUMNS} FROM inference_usage WHERE {where}", params
    )
    if not rows.height:
        return rows
    old = rows.select(
        "request_id",
        pl.col("cost").alias("old_cost"),
        pl.col("cost_source").alias("old_source"),
        pl.col("price_version").alias("old_version"),
    )
    priced = price_usage(rows.with_columns(cost=pl.lit(None, MONEY)), book)
    return priced.select(
        "request_id",
        pl.col("ts").dt.convert_time_zone("UTC").dt.date().dt.month_start().alias("month"),
        "cost",
        "cost_source",
        "price_version",
        "currency",
    ).join(old, on="request_id", how="left")


def plan_reprice(con: Connection, book: PriceBook, month: date | None = None) -> Repricing:
    """What pricing again with `book` changes in `month` (or every month): the per-month
    summary and the changed rows (`store_reprice` writes them)."""
    rows = repriced_rows(con, book, month)
    if not rows.height:
        return Repricing(_EMPTY_SUMMARY.clear(), 0, book.version, False, rows)
    differs = (
        pl.col("cost").ne_missing(pl.col("old_cost"))
        | pl.col("cost_source").ne_missing(pl.col("old_source"))
        | pl.col("price_version").ne_missing(pl.col("old_version"))
    )
    rows = rows.with_columns(_changed=differs)
    summary = (
        rows.group_by("month")
        .agg(
            pl.len().cast(pl.Int64).alias("rows"),
            pl.col("_changed").sum().cast(pl.Int64).alias("changed"),
            pl.col("old_cost").sum().alias("cost_before"),
            pl.col("cost").sum().alias("cost_after"),
            (pl.col("old_source") == "unpriced").sum().cast(pl.Int64).alias("unpriced_before"),
            (pl.col("cost_source") == "unpriced").sum().cast(pl.Int64).alias("unpriced_after"),
        )
        .with_columns(difference=pl.col("cost_after") - pl.col("cost_before"))
        .select(list(_EMPTY_SUMMARY.columns))
        .sort("month")
    )
    changed = rows.filter(pl.col("_changed")).select(
        "request_id", "cost", "cost_source", "price_version", "currency"
    )
    return Repricing(summary, changed.height, book.version, False, changed)


def store_reprice(con: Connection, plan: Repricing) -> Repricing:
    """Write a plan's changed rows in one transaction (on a writing connection)."""
    if not plan.changed:
        return plan
    with warehouse.registered(con, "_repriced", plan.rows), warehouse.transaction(con):
        warehouse.execute(
            con,
            """UPDATE inference_usage AS t
               SET cost = s.cost, cost_source = s.cost_source,
                   price_version = s.price_version, currency = s.currency
               FROM _repriced s WHERE t.request_id = s.request_id""",
        )
    return replace(plan, written=True)


_EMPTY_SUMMARY = pl.DataFrame(
    schema={
        "month": pl.Date,
        "rows": pl.Int64,
        "changed": pl.Int64,
        "cost_before": MONEY,
        "cost_after": MONEY,
        "difference": MONEY,
        "unpriced_before": pl.Int64,
        "unpriced_after": pl.Int64,
    }
)


def unpriced_usage(con: Connection, month: date | None = None) -> pl.DataFrame:
    """Per provider, model, service tier and month: requests no price covers (cost null) and
    their tokens. Self-hosted serving is left out (its cost is GPU time, not a price)."""
    when, params = month_sql(month)
    own = ", ".join("?" for _ in SELF_HOSTED_PROVIDERS)
    return warehouse.fetch_frame(
        con,
        f"""SELECT provider, model, coalesce(service_tier, 'standard') AS service_tier,
                   date_trunc('month', timezone('UTC', ts))::DATE AS month,
                   sum(requests)::BIGINT AS requests,
                   sum(input_tokens)::BIGINT AS input_tokens,
                   sum(output_tokens)::BIGINT AS output_tokens,
                   min(ts) AS first_ts, max(ts) AS last_ts
            FROM inference_usage
            WHERE cost IS NULL AND {when} AND coalesce(provider, '') NOT IN ({own})
            GROUP BY ALL ORDER BY month, provider, model, service_tier""",
        [*params, *SELF_HOSTED_PROVIDERS],
    )


def with_fixes(
    unpriced: pl.DataFrame, book: PriceBook | None, contracted: str | None
) -> pl.DataFrame:
    """The unpriced list with why no price covers each row and how to fix it."""
    if not unpriced.height:
        return unpriced.with_columns(
            reason=pl.lit(None, pl.String), fix=pl.lit(None, pl.String)
        ).drop("first_ts", "last_ts")
    file = contracted or "a TOML file named by [pricing] contracted in roi.toml"
    if book is not None:
        probe = pl.concat(
            [
                unpriced.select(
                    "provider", "model", "service_tier", pl.col("first_ts").alias("ts")
                ),
                unpriced.select("provider", "model", "service_tier", pl.col("last_ts").alias("ts")),
            ]
        )
        reasons = (
            explain_prices(probe, book)
            .with_columns(month=pl.col("day").dt.month_start())
            .group_by("provider", "model", "service_tier", "month")
            .agg(pl.col("problem").drop_nulls().first().alias("reason"))
        )
        unpriced = unpriced.join(
            reasons,
            on=["provider", "model", "service_tier", "month"],
            how="left",
            nulls_equal=True,
        )
    else:
        unpriced = unpriced.with_columns(reason=pl.lit(None, pl.String))
    fix = pl.format(
        'add a contracted price for model "{}"{} to {}, then run roi reprice --month {}',
        pl.col("model"),
        pl.when(pl.col("service_tier") != "standard")
        .then(pl.format(' (tier = "{}")', pl.col("service_tier")))
        .otherwise(pl.lit("")),
        pl.lit(file),
        pl.col("month").dt.strftime("%Y-%m"),
    )
    return unpriced.with_columns(
        reason=pl.coalesce("reason", pl.lit("no price covers these requests")), fix=fix
    ).drop("first_ts", "last_ts")


__all__ = [
    "REPRICED",
    "Repricing",
    "plan_reprice",
    "repriced_rows",
    "store_reprice",
    "unpriced_usage",
    "with_fixes",
]


def listed_with_fixes(
    project: ProjectConfig, unpriced: pl.DataFrame, progress: Progress
) -> pl.DataFrame:
    """The unpriced list with the book's reason for each and how to fix it (the reasons are
    left out when the book itself cannot be opened: reconciling never fails for it)."""
    from roi.pricing.book import book_for

    book = None
    if unpriced.height:
        try:
            book = book_for(project)
        except RoiError as exc:
            progress.info(f"warning: the price book cannot be opened ({exc})")
    return with_fixes(unpriced, book, project.pricing.contracted)
