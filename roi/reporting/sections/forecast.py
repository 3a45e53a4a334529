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
from roi.reporting.numbers import VARIANCE, VARIANCE_SHARE, is_over
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
        Column("variance", "Actual − budget", "variance"),
        Column("share", "Variance", "variance_share"),
    ]


def _method_note(f: Figures) -> str:
    """How the forecast was made, per measure, and the run it comes from."""
    level = f.forecast["level"][0]
    methods = {
        m: ", ".join(sorted(set(f.forecast.filter(pl.col("measure") == m)["method"])))
        for m in MEASURES
    }
    parts = [f"{m.capitalize()}: {methods[m]}" for m in MEASURES if methods[m]]
    return (
        f'<p class="note">{escape("; ".join(parts))}. Cost is forecast on the log scale, so its '
        "band is a ratio of the level and never goes below zero, and from the last level shift "
        "in its history (a step such as a new workload is not read as a trend). "
        f"{level:.0%} bands, widened where a rolling-origin backtest of the same method missed "
        f"more often; scenario run <code>{escape(f.run_id or '')}</code>.</p>"
    )


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
            out.append(_method_note(f))
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
        elif f.run_id is not None:
            months = f.history.height
            out.append(
                f'<p class="note">No forecast: it needs at least two months of model cost, and '
                f"the history has {months}; it follows once another month is loaded.</p>"
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
        else:
            out.append(
                f'<p class="note">No budgets: set [options.budgets] total (and per model) in '
                f"reports/{escape(data.report.name)}.toml to compare the month with them.</p>"
            )
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
        share = variance / b["budget"] if b["budget"] else None
        budget, actual = a1(r, col["budget"]), a1(r, col["actual"])
        # Over budget is the warning colour, under budget plain; a rounded zero is on budget.
        over = "over:" if is_over(variance) else ""
        sheet.formula(r, col["variance"], f"={actual}-{budget}", variance, over + VARIANCE)
        sheet.formula(
            r,
            col["share"],
            f'=IF({budget}=0,"",ROUND({a1(r, col["variance"])}/{budget},4))',
            None if share is None else round(share, 4),
            over + VARIANCE_SHARE,
        )
    if f.budgets:
        _live_colours(sheet, line + 2, line + 1 + len(f.budgets), col)


def _live_colours(sheet: Sheet, first: int, last: int, col: dict[str, int]) -> None:
    """Excel recolours the variance when an analyst edits a budget: over is the warning
    colour, on or under budget plain."""
    book = sheet.book
    for key, above in (("variance", 0.005), ("share", 0.0005)):
        for criteria, fmt in ((">", "over:"), ("<=", "plain")):
            sheet.ws.conditional_format(
                first,
                col[key],
                last,
                col[key],
                {"type": "cell", "criteria": criteria, "value": above, "format": book.format(fmt)},
            )
