"""The portfolio view (`roi portfolio`): every model's P&L for a month, flagged, with totals.

Flags: `negative ROI` (net below zero), `ROI interval straddles zero` (cost inside the value's
interval), `retired but still costing` (its net is then −cost), `value method missing` (no
value for the month, not retired), `cost rising faster than value` (month on month). The
totals row adds the models up; its interval is the sum of the bounds (as if the models' errors
moved together: the cautious reading).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from roi import warehouse
from roi.warehouse import Connection

TOTAL = "TOTAL"


def portfolio(con: Connection, month: date) -> pl.DataFrame:
    """One row per model (with its flags) and a totals row, for `month` (`roi.pipeline`
    chooses it: the latest month with billing data by default)."""
    frame = warehouse.fetch_frame(
        con,
        """WITH now AS (SELECT * FROM model_roi WHERE month = ?),
                before AS (SELECT model_id, cost AS cost_before, value AS value_before
                           FROM model_roi WHERE month = ?::DATE - INTERVAL 1 MONTH)
           SELECT p.model_id, p.name, p.owner, p.stage, p.retired, n.currency,
                  coalesce(n.cost, 0) AS cost, n.value, n.value_low, n.value_high, n.net, n.roi,
                  n.p_negative, n.payback_month, n.evidence, b.cost_before, b.value_before
           FROM portfolio_models p LEFT JOIN now n USING (model_id)
           LEFT JOIN before b USING (model_id)
           ORDER BY p.model_id""",
        [month, month],
    )
    cost_growth = pl.col("cost") / pl.col("cost_before") - 1
    retired = (pl.col("stage") == "retired") | (pl.col("retired") <= month)
    # A retired model's missing value is no missing method: it has nothing left to earn.
    unvalued = pl.col("value").is_null() & ~retired.fill_null(False)
    value_growth = pl.col("value") / pl.col("value_before") - 1
    rules = [
        (pl.col("net") < 0, "negative ROI"),
        (
            (pl.col("value_low") < pl.col("cost")) & (pl.col("cost") < pl.col("value_high")),
            "ROI interval straddles zero",
        ),
        (retired & (pl.col("cost") > 0), "retired but still costing"),
        (unvalued, "value method missing"),
        (
            (pl.col("cost_before") > 0)
            & (cost_growth > 0)
            & ((pl.col("value_before") <= 0) | (cost_growth > value_growth)),
            "cost rising faster than value",
        ),
    ]
    flags = pl.concat_list(
        [pl.when(rule.fill_null(False)).then(pl.lit(text)) for rule, text in rules]
    ).list.drop_nulls()
    missing = frame.select(unvalued.sum()).item()
    rows = frame.with_columns(flags=flags.list.join(", ")).drop(
        "retired", "cost_before", "value_before"
    )
    valued = rows.filter(pl.col("value").is_not_null())
    cost = float(rows["cost"].sum())
    value = float(valued["value"].sum()) if valued.height else None
    low = valued.select(pl.col("value_low").fill_null(pl.col("value")).sum()).item()
    high = valued.select(pl.col("value_high").fill_null(pl.col("value")).sum()).item()
    total = {
        "model_id": TOTAL,
        "currency": rows["currency"].drop_nulls().first() if rows.height else None,
        "cost": cost,
        "value": value,
        "value_low": low if valued.height else None,
        "value_high": high if valued.height else None,
        "net": None if value is None else value - cost,
        "roi": None if value is None or not cost else (value - cost) / cost,
        "flags": f"{missing} model(s) without value" if missing else "",
    }
    return pl.concat([rows, pl.DataFrame([total])], how="diagonal_relaxed").with_columns(
        month=pl.lit(month, pl.Date)
    )
