"""Reconciliation: the source totals against what attribution placed, per month and currency.

For every month and currency: the billed and effective totals of `cost_lines`, the effective
cost allocated directly, shared by pools, amortized, idle and unallocated, and the difference,
which must be 0.00 (a non-zero difference means the lines changed since the last attribution).
Under it, for each pool split by LLM usage, the gateway's reported cost against the bill: the
bill wins, and the difference is shown, not hidden.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from roi import warehouse
from roi.attribution.ledger import MonthFilter, fold_lines, tag_keys
from roi.attribution.pool_bases.tokens import llm_usage
from roi.config import AttributionSettings, EngineSettings, PoolConfig, ProjectConfig
from roi.vocabulary import MONEY, TOKEN_BASES
from roi.warehouse import Connection


def reconcile(
    con: Connection,
    settings: AttributionSettings,
    month: date | None = None,
    engine: EngineSettings | None = None,
) -> pl.DataFrame:
    """One row per month and currency: source totals, attributed parts and the difference.

    The source totals are computed where the fold runs (`engine`; DuckDB by default), from the
    fold's own definition of the source (`roi.fold.definition.source_totals`).
    """
    from roi.fold.engines import DUCKDB, source_total_frame, totals_sql

    engine = engine or DUCKDB
    where_alloc = "WHERE month = ?" if month else ""
    params: list[object] = [month] if month else []
    if engine.kind == "duckdb":
        source = totals_sql("duckdb", settings.month_basis, month)
        return _reconcile(con, source, where_alloc, params)
    totals = source_total_frame(con, settings.month_basis, month, engine)
    with warehouse.registered(con, "_source_totals", totals):
        return _reconcile(con, "SELECT * FROM _source_totals", where_alloc, params)


def _reconcile(
    con: Connection, source: str, where_alloc: str, params: list[object]
) -> pl.DataFrame:
    return warehouse.fetch_frame(
        con,
        f"""WITH source AS ({source}),
            attributed AS (
                SELECT month, currency,
                       sum(amount) FILTER (WHERE basis = 'direct') AS direct,
                       sum(amount) FILTER (WHERE basis = 'shared') AS shared,
                       sum(amount) FILTER (WHERE basis = 'amortized') AS amortized,
                       sum(amount) FILTER (WHERE basis = 'idle') AS idle,
                       sum(amount) FILTER (WHERE basis = 'unallocated') AS unallocated,
                       sum(amount) AS attributed
                FROM allocated_costs {where_alloc} GROUP BY ALL)
            SELECT month, currency, coalesce(s.billed, 0) AS billed,
                   coalesce(s.effective, 0) AS effective,
                   coalesce(direct, 0) AS direct, coalesce(shared, 0) AS shared,
                   coalesce(amortized, 0) AS amortized, coalesce(idle, 0) AS idle,
                   coalesce(unallocated, 0) AS unallocated,
                   coalesce(attributed, 0) - coalesce(s.effective, 0) AS difference
            FROM source s FULL JOIN attributed a USING (month, currency)
            ORDER BY month, currency""",
        params,
    )


def gateway_vs_bill(
    con: Connection,
    pools: tuple[PoolConfig, ...],
    month: MonthFilter = None,
    engine: EngineSettings | None = None,
) -> pl.DataFrame:
    """Per LLM pool and month: the gateway's reported cost against the billed pool cost.

    The requests are folded on `engine` where they live outside the warehouse (`[engine]
    usage`), else on DuckDB (the same groups, without starting an engine for them).
    """
    elsewhere = engine if engine is not None and engine.reads_elsewhere and engine.usage else None
    frames = []
    for pool in pools:
        if pool.basis not in TOKEN_BASES:
            continue
        usage = (
            llm_usage(con, pool, month, elsewhere)
            .group_by("month")
            .agg(
                pl.col("cost").sum().alias("gateway"),
                (pl.col("input") + pl.col("output")).sum().alias("tokens"),
            )
        )
        billed = warehouse.fetch_frame(
            con,
            "SELECT month, currency, sum(billed_amount) AS billed FROM allocated_costs "
            "WHERE rule_id = ? " + ("AND month = ? " if month else "") + "GROUP BY ALL",
            [pool.rule_id, *([month] if month else [])],
        )
        frames.append(
            billed.join(usage, on="month", how="full", coalesce=True)
            .with_columns(
                pool=pl.lit(pool.pool_id),
                billed=pl.col("billed").fill_null(0),
                gateway=pl.col("gateway").fill_null(0),
            )
            .with_columns(difference=pl.col("billed") - pl.col("gateway"))
            .select("pool", "month", "currency", "billed", "gateway", "difference", "tokens")
        )
    if not frames:
        return pl.DataFrame(
            schema={
                "pool": pl.String,
                "month": pl.Date,
                "currency": pl.String,
                "billed": MONEY,
                "gateway": MONEY,
                "difference": MONEY,
                "tokens": pl.Float64,
            }
        )
    return pl.concat(frames, how="vertical_relaxed").sort("pool", "month")


def unbilled_totals(con: Connection, month: date | None = None) -> pl.DataFrame:
    """Per month, provider and currency: LLM usage priced as reported, with no bill loaded.

    It is cost of the models (`model_costs`) but not part of the bills above, so it is listed
    apart from the reconciliation, never inside its difference.
    """
    return warehouse.fetch_frame(
        con,
        "SELECT month, provider, currency, sum(amount) AS amount, sum(requests) AS requests, "
        "sum(unpriced_requests) AS unpriced_requests FROM usage_costs "
        + ("WHERE month = ? " if month else "")
        + "GROUP BY ALL ORDER BY ALL",
        [month] if month else [],
    )


def fold_summary(
    con: Connection, project: ProjectConfig, engine: EngineSettings, month: date | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The line groups folded on `engine`, and per month and currency their count, lines and
    sums against the source totals computed on the same engine (difference must be 0)."""
    from roi.fold.engines import source_total_frame

    settings = project.attribution
    keys = tag_keys(project.models, project.pools, settings)
    groups = fold_lines(con, keys, settings, month, engine=engine)
    totals = source_total_frame(con, settings.month_basis, month, engine)
    folded = groups.group_by("month", "currency").agg(
        pl.len().alias("groups"),
        pl.col("line_count").sum().alias("folded_lines"),
        pl.col("amount").sum().alias("folded_effective"),
        pl.col("billed_amount").sum().alias("folded_billed"),
    )
    summary = (
        totals.join(folded, on=["month", "currency"], how="full", coalesce=True)
        .with_columns(
            pl.col("groups").fill_null(0),
            difference=pl.col("folded_effective").fill_null(0) - pl.col("effective").fill_null(0),
            billed_difference=pl.col("folded_billed").fill_null(0) - pl.col("billed").fill_null(0),
        )
        .select(
            "month",
            "currency",
            "groups",
            "lines",
            "effective",
            "billed",
            "difference",
            "billed_difference",
        )
        .sort("month", "currency")
    )
    return groups, summary
