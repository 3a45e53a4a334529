"""Forecast and budget: the next 12 months of portfolio cost, value and net with their bands
(from the stored `roi scenario forecast` run that `roi run` keeps current, cited by id), and the
month's actual against the budgets the report declares (`[options] budgets`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from roi.reporting.book import MONEY, PERCENT, Book, Column, a1
from roi.reporting.charts import Charts, band
from roi.reporting.data import ReportData
from roi.reporting.html import escape, money, percent1, table

NAME = "forecast"
TITLE = "Forecast and budget"
SHEET = "Forecast"


@dataclass(frozen=True)
class Figures:
    """The stored forecast (portfolio rows) and the budget lines."""

    run_id: str | None
    forecast: pl.DataFrame  # measure, month, forecast, lower, upper, level, method
    history: pl.DataFrame  # month, cost, value, net (portfolio)
    budgets: list[dict[str, Any]]  # key, label, budget, actual


def read(data: ReportData) -> Figures:
    """The portfolio forecast, its history and the budgets against actuals."""
    run = data.scenario("forecast --all")
    rows = [
        r
        for r in (run or {}).get("outputs", {}).get("forecast", [])
        if r["model_id"] == "PORTFOLIO"
    ]
    forecast = (
        pl.DataFrame(rows, infer_schema_length=None).with_columns(pl.col("month").str.to_date())
        if rows
        else pl.DataFrame()
    )
    history = (
        data.pnl.group_by("month")
        .agg(pl.col("cost").sum(), pl.col("value").sum())
        .with_columns(net=pl.col("value") - pl.col("cost"))
        .sort("month")
    )
    now = data.portfolio.filter(pl.col("model_id") != "TOTAL")
    spend = float(data.totals.spend)
    budgets = []
    for key, amount in data.options.budgets.items():
        actual = (
            spend if key == "total" else float(now.filter(pl.col("model_id") == key)["cost"].sum())
        )
        label = "ML spend (all)" if key == "total" else data.label(key)
        budgets.append({"key": key, "label": label, "budget": float(amount), "actual": actual})
    return Figures(run["run_id"] if run else None, forecast, history, budgets)


def _band(f: Figures, measure: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    past = [
        {"month": r["month"].strftime("%Y-%m"), "value": r[measure]}
        for r in f.history.iter_rows(named=True)
    ]
    future = [
        {
            "month": r["month"].strftime("%Y-%m"),
            "forecast": r["forecast"],
            "lower": r["lower"],
            "upper": r["upper"],
        }
        for r in f.forecast.filter(pl.col("measure") == measure).iter_rows(named=True)
    ]
    return past, future


def html(f: Figures, data: ReportData, charts: Charts) -> str:
    """Band charts of cost, value and net, and the budget table."""
    cur = data.currency
    out = []
    if f.forecast.height:
        level = f.forecast["level"][0]
        method = ", ".join(sorted(set(f.forecast["method"])))
        out.append(
            f'<p class="note">{method}, {level:.0%} bands calibrated on a rolling-origin backtest; '
            f"scenario run <code>{escape(f.run_id or '')}</code>.</p>"
        )
        for measure in ("cost", "value", "net"):
            past, future = _band(f, measure)
            if future:
                out.append(
                    charts.inline(
                        f"forecast_{measure}",
                        band(
                            past, future, cur, f"Portfolio {measure}: history and 12-month forecast"
                        ),
                        f"Portfolio {measure} forecast with its band",
                    )
                )
    else:
        out.append(
            '<p class="note">No forecast run on this attribution yet: run '
            "<code>roi scenario forecast</code> (or <code>roi run</code>).</p>"
        )
    if f.budgets:
        rows = [
            {
                **b,
                "variance": b["actual"] - b["budget"],
                "share": (b["actual"] - b["budget"]) / b["budget"] if b["budget"] else None,
            }
            for b in f.budgets
        ]
        out.append(f"<h3>Budget vs actual, {data.month:%B %Y}</h3>")
        out.append(
            table(
                rows,
                [
                    ("label", "Budget line", None),
                    ("budget", f"Budget ({cur})", money),
                    ("actual", f"Actual ({cur})", money),
                    ("variance", "Actual − budget", money),
                    ("share", "Variance", percent1),
                ],
            )
        )
    return "".join(out)


def excel(f: Figures, data: ReportData, book: Book) -> None:
    """The Forecast sheet: the forecast table with a native chart, budgets with live variance."""
    sheet = book.sheets[SHEET]
    cur = data.currency
    sheet.title(
        0, "Forecast and budget", f"Portfolio, {cur}; scenario run {f.run_id or '(none yet)'}."
    )
    line = 3
    if f.forecast.height:
        wide = f.forecast.pivot(on="measure", index="month", values=["forecast", "lower", "upper"])
        rows = wide.sort("month").to_dicts()
        columns = [Column("Month", "month", "mmm yyyy")]
        for measure in ("cost", "value", "net"):
            for kind in ("forecast", "lower", "upper"):
                key = f"{kind}_{measure}"
                if key in wide.columns:
                    columns.append(Column(f"{measure.capitalize()} {kind}", key, MONEY))
        sheet.table(line, 0, "Forecast", columns, rows)
        chart = book.wb.add_chart({"type": "line"})
        for j, column in enumerate(columns[1:], 1):
            if column.key.startswith("forecast_"):
                chart.add_series(
                    {
                        "name": column.header,
                        "categories": [SHEET, line + 1, 0, line + len(rows), 0],
                        "values": [SHEET, line + 1, j, line + len(rows), j],
                    }
                )
        chart.set_title({"name": "12-month forecast"})
        chart.set_y_axis({"num_format": "#,##0", "name": cur})
        chart.set_x_axis({"date_axis": True, "num_format": "mmm yy"})
        chart.set_size({"width": 620, "height": 300})
        sheet.ws.insert_chart(line, len(columns) + 1, chart)
        line += len(rows) + 3
    if f.budgets:
        sheet.text(line, 0, f"Budget vs actual, {data.month:%B %Y}", "bold")
        columns = [
            Column("Budget line", "label"),
            Column(f"Budget ({cur})", "budget", MONEY),
            Column(f"Actual ({cur})", "actual", MONEY),
            Column("Actual − budget", "variance", MONEY),
            Column("Variance", "share", PERCENT),
        ]
        refs = sheet.table(
            line + 1,
            0,
            "Budgets",
            columns,
            [{**b, "variance": None, "share": None} for b in f.budgets],
        )
        col = {k: v[0] for k, v in refs.items()}
        for i, b in enumerate(f.budgets):
            r = line + 2 + i
            variance = b["actual"] - b["budget"]
            sheet.formula(
                r, col["variance"], f"={a1(r, col['actual'])}-{a1(r, col['budget'])}", variance
            )
            sheet.formula(
                r,
                col["share"],
                f'=IF({a1(r, col["budget"])}=0,"",{a1(r, col["variance"])}/{a1(r, col["budget"])})',
                variance / b["budget"] if b["budget"] else None,
                PERCENT,
            )
