"""Forecast and budget: the next 12 months of portfolio cost, value and net with their bands
(from the stored `roi scenario forecast` run that `roi run` keeps current, cited by id), and the
month's actual against the budgets the report declares (`[options] budgets`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from roi.reporting.book import Book, Sheet, a1
from roi.reporting.charts import Charts, band
from roi.reporting.columns import Column
from roi.reporting.data import ReportData
from roi.reporting.html import escape, table
from roi.reporting.numbers import PERCENT
from roi.reporting.sections import Section, register

MEASURES = ("cost", "value", "net")


@dataclass(frozen=True)
class Figures:
    """The stored forecast (portfolio rows) and the budget lines."""

    run_id: str | None
    forecast: pl.DataFrame  # measure, month, forecast, lower, upper, level, method
    history: pl.DataFrame  # month, cost, value, net (portfolio)
    budgets: list[dict[str, Any]]  # key, label, budget, actual


def _budget_columns(cur: str) -> list[Column]:
    return [
        Column("label", "Budget line"),
        Column("budget", f"Budget ({cur})", "money"),
        Column("actual", f"Actual ({cur})", "money"),
        Column("variance", "Actual − budget", "money"),
        Column("share", "Variance", "percent"),
    ]


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


@register
class Forecast(Section[Figures]):
    """The portfolio's 12-month forecast and the budgets against actuals."""

    name = "forecast"
    title = "Forecast and budget"
    sheet = "Forecast"
    order = 60

    def read(self, data: ReportData) -> Figures:
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
                spend
                if key == "total"
                else float(now.filter(pl.col("model_id") == key)["cost"].sum())
            )
            label = "ML spend (all)" if key == "total" else data.label(key)
            budgets.append({"key": key, "label": label, "budget": float(amount), "actual": actual})
        return Figures(run["run_id"] if run else None, forecast, history, budgets)

    def html(self, figures: Figures, data: ReportData, charts: Charts) -> str:
        """Band charts of cost, value and net, and the budget table."""
        f, cur = figures, data.currency
        out = []
        if f.forecast.height:
            level = f.forecast["level"][0]
            method = ", ".join(sorted(set(f.forecast["method"])))
            out.append(
                f'<p class="note">{method}, {level:.0%} bands calibrated on a rolling-origin '
                f"backtest; scenario run <code>{escape(f.run_id or '')}</code>.</p>"
            )
            for measure in MEASURES:
                past, future = _band(f, measure)
                if future:
                    title = f"Portfolio {measure}: history and 12-month forecast"
                    out.append(
                        charts.inline(
                            f"forecast_{measure}",
                            band(past, future, cur, title),
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
            out.append(table(rows, _budget_columns(cur)))
        return "".join(out)

    def excel(self, figures: Figures, data: ReportData, book: Book) -> None:
        """The Forecast sheet: the forecast table with a native chart, budgets with live
        variance."""
        f, sheet, cur = figures, self.sheet_in(book), data.currency
        sheet.title(
            0, "Forecast and budget", f"Portfolio, {cur}; scenario run {f.run_id or '(none yet)'}."
        )
        line = 3
        if f.forecast.height:
            line = _forecast_table(f, book, sheet, line, cur)
        if f.budgets:
            _budget_table(f, data, sheet, line)


def _forecast_table(f: Figures, book: Book, sheet: Sheet, line: int, cur: str) -> int:
    """The forecast by month with a native chart beside it; the next free line."""
    wide = f.forecast.pivot(on="measure", index="month", values=["forecast", "lower", "upper"])
    rows = wide.sort("month").to_dicts()
    columns = [Column("month", "Month", "month")]
    for measure in MEASURES:
        for kind in ("forecast", "lower", "upper"):
            key = f"{kind}_{measure}"
            if key in wide.columns:
                columns.append(Column(key, f"{measure.capitalize()} {kind}", "money"))
    sheet.table(line, 0, "Forecast", columns, rows)
    chart = book.wb.add_chart({"type": "line"})
    for j, column in enumerate(columns[1:], 1):
        if column.key.startswith("forecast_"):
            chart.add_series(
                {
                    "name": column.header,
                    "categories": [sheet.name, line + 1, 0, line + len(rows), 0],
                    "values": [sheet.name, line + 1, j, line + len(rows), j],
                }
            )
    chart.set_title({"name": "12-month forecast"})
    chart.set_y_axis({"num_format": "#,##0", "name": cur})
    chart.set_x_axis({"date_axis": True, "num_format": "mmm yy"})
    chart.set_size({"width": 620, "height": 300})
    sheet.ws.insert_chart(line, len(columns) + 1, chart)
    return line + len(rows) + 3


def _budget_table(f: Figures, data: ReportData, sheet: Sheet, line: int) -> None:
    """Budgets against actuals, the variance as formulas."""
    sheet.text(line, 0, f"Budget vs actual, {data.month:%B %Y}", "bold")
    rows = [{**b, "variance": None, "share": None} for b in f.budgets]
    refs = sheet.table(line + 1, 0, "Budgets", _budget_columns(data.currency), rows)
    col = {k: v[0] for k, v in refs.items()}
    for i, b in enumerate(f.budgets):
        r = line + 2 + i
        variance = b["actual"] - b["budget"]
        budget, actual = a1(r, col["budget"]), a1(r, col["actual"])
        sheet.formula(r, col["variance"], f"={actual}-{budget}", variance)
        sheet.formula(
            r,
            col["share"],
            f'=IF({budget}=0,"",{a1(r, col["variance"])}/{budget})',
            variance / b["budget"] if b["budget"] else None,
            PERCENT,
        )
