"""The executive summary: the month in words and tiles, for a reader of one page.

ML spend is everything the month cost: the bills' effective cost (allocated to models,
unallocated and idle) plus LLM usage priced with no bill behind it. Measured value is the sum of
the models' values (with the summed interval); net is value minus all ML spend, and ROI net over
spend: the one headline ROI, with the models-only ROI of the Portfolio table beside it and the
unallocated and idle cost that makes the difference (`_summary_text`). Against the month
before, and against the declared monthly budget (`budgets.total`) or, without one, a forecast
made from the months before (damped-trend ETS on log cost, as `roi scenario forecast`). The
three biggest movers are the models (or unallocated, idle) whose cost changed most, each with
the largest effects `roi explain` finds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from roi import warehouse
from roi.attribution.movers import MovedCost, explain_movers, stored_movers
from roi.reporting.book import Book, Sheet
from roi.reporting.charts import Charts
from roi.reporting.data import ReportData
from roi.reporting.html import escape, tiles
from roi.reporting.numbers import MONEY, PERCENT, VARIANCE, is_over, money0
from roi.reporting.sections import Section, register
from roi.reporting.sections._summary_text import Figures, Mover, story, tile_items

# The story is roi's own sentences around short data labels: shown whole.
STORY_CHARACTERS = 4_000
FRONT_WARNINGS = 5  # warnings listed on the first page


def _forecast(data: ReportData) -> float | None:
    from roi.scenarios.forecast import forecast_series

    earlier = [m for m in data.months if m < data.month]
    if len(earlier) < 6:
        return None
    rows = warehouse.fetch_all(
        data.con,
        "SELECT month, sum(amount)::DOUBLE FROM allocated_costs WHERE currency = ? AND month < ? "
        "GROUP BY 1 ORDER BY 1",
        [data.currency, data.month],
    )
    _, mean, _, _, _ = forecast_series(np.array([r[1] for r in rows]), 1, 0.8, positive=True)
    return float(mean[0])


def _why(moved: MovedCost) -> str:
    if moved.failure is not None:
        return f"no breakdown: {moved.failure}"
    why = "; ".join(
        f"{effect} {'+' if amount >= 0 else '−'}{money0(abs(amount))}"
        for effect, amount in moved.effects
    )
    return why + (f" (most: {moved.item})" if moved.item else "")


def _movers(data: ReportData) -> list[Mover]:
    if data.previous is None:
        return []
    month, previous, currency = data.month, data.previous, data.currency
    found = stored_movers(data.con, data.project, month, previous, currency)
    if found is None:
        found = explain_movers(data.con, data.project, month, previous, currency)
    return [Mover(m.model_id, data.label(m.model_id), m.before, m.after, _why(m)) for m in found]


def _figure_rows(f: Figures, names: set[str]) -> list[tuple[str, str, str | None, Any, str]]:
    """The Summary's figures: (name, label, formula or None, roi's value, number format).

    A figure is a formula over another sheet's named total where the pack has that sheet.
    """
    net = None if f.value is None else f.value - f.spend
    plan = f.budget if f.budget is not None else f.forecast
    return [
        (
            "spend",
            "ML spend (all effective cost and priced usage)",
            "=costs_spend" if "costs_spend" in names else None,
            f.spend,
            MONEY,
        ),
        (
            "models",
            "Spend of the models",
            "=portfolio_cost" if "portfolio_cost" in names else None,
            f.model_cost,
            MONEY,
        ),
        (
            "value",
            "Measured value (as counted on the Portfolio sheet)",
            "=portfolio_value" if "portfolio_value" in names else None,
            f.value,
            MONEY,
        ),
        ("net", "Net: value − all ML spend", "=summary_value-summary_spend", net, MONEY),
        (
            "roi",
            "ROI: net / all ML spend (models, unallocated and idle)",
            '=IF(summary_spend=0,"",summary_net/summary_spend)',
            None if net is None or not f.spend else net / f.spend,
            PERCENT,
        ),
        (
            "model_roi",
            "ROI of the models only (Portfolio sheet): without unallocated and idle cost",
            '=IF(portfolio_cost=0,"",portfolio_net/portfolio_cost)'
            if {"portfolio_cost", "portfolio_net"} <= names
            else None,
            f.model_roi,
            PERCENT,
        ),
        ("previous", "Previous month's spend", None, f.previous_spend, MONEY),
        (
            "change",
            "Change vs previous month",
            '=IF(summary_previous="","",summary_spend-summary_previous)',
            None if f.previous_spend is None else f.spend - f.previous_spend,
            MONEY,
        ),
        ("plan", "Budget" if f.budget is not None else "Forecast for the month", None, plan, MONEY),
        (
            "variance",
            "Actual − budget" if f.budget is not None else "Actual − forecast",
            '=IF(summary_plan="","",summary_spend-summary_plan)',
            None if plan is None else f.spend - plan,
            ("over:" if plan is not None and is_over(f.spend - plan) else "") + VARIANCE,
        ),
        (
            "eal",
            "Expected annual loss from failures",
            "=portfolio_eal" if "portfolio_eal" in names and f.exposure else None,
            f.exposure["eal"] if f.exposure else None,
            MONEY,
        ),
    ]


def _story_and_checks(f: Figures, data: ReportData, book: Book, sheet: Sheet, line: int) -> None:
    """The month in words, then the checks (or that all passed)."""
    sheet.text(line, 0, "The month", "bold")
    sheet.ws.merge_range(line + 1, 0, line + 1, 1, "", book.format("wrap"))
    sheet.text(line + 1, 0, story(f, data), "wrap")
    sheet.ws.set_row(line + 1, 150)
    line += 3
    sheet.text(line, 0, "Checks", "bold")
    if f.warnings:
        for j, warning in enumerate(f.warnings, line + 1):
            sheet.text(j, 0, f"Warning: {warning}", "warn")
    else:
        sheet.text(
            line + 1,
            0,
            "All checks passed: reconciled to the cent, no rejected lines, "
            "one currency, no unusual change",
            "ok",
        )


@register
class Summary(Section[Figures]):
    """The month for a reader of one page."""

    name = "summary"
    title = "Summary"
    sheet = "Summary"
    order = 10
    fill_last = True
    front = True

    def read(self, data: ReportData) -> Figures:
        """The month's spend, value, comparisons, movers, exposure and warnings."""
        totals = data.totals
        portfolio = data.portfolio
        models = portfolio.filter(pl.col("model_id") != "TOTAL")
        valued = models.filter(pl.col("value").is_not_null())
        total = portfolio.filter(pl.col("model_id") == "TOTAL").row(0, named=True)
        budget = data.options.budgets.get("total")
        risk = data.scenario("failure --all")
        exposure = None
        if risk:
            p = risk["outputs"]["portfolio"]
            exposure = {
                "eal": p["expected_annual_loss"],
                "p95": p["p95"],
                "run_id": risk["run_id"],
            }
        previous = totals.previous_spend
        return Figures(
            spend=float(totals.spend),
            previous_spend=float(previous) if previous is not None else None,
            budget=float(budget) if budget is not None else None,
            forecast=None if budget is not None else _forecast(data),
            value=float(valued["value"].sum()) if valued.height else None,
            value_low=total.get("value_low"),
            value_high=total.get("value_high"),
            model_cost=float(models["cost"].sum()),
            movers=_movers(data),
            exposure=exposure,
            warnings=[c.message for c in totals.checks],
            valued=valued.height,
            models=models.height,
            model_net=total.get("net"),
            model_roi=total.get("roi"),
        )

    def html(self, figures: Figures, data: ReportData, charts: Charts) -> str:
        """Tiles and the story."""
        f = figures
        items = tile_items(f, data)
        if f.warnings:
            # The first page stays one: the Quality section lists every warning.
            more = len(f.warnings) - FRONT_WARNINGS
            listed = data.options.sections is None or "quality" in data.options.sections
            where = '<a href="#quality">Data quality</a>' if listed else "<code>roi status</code>"
            rest = f"<li>… and {more:,} more: {where} lists every one</li>" if more > 0 else ""
            warn = (
                f'<div class="warn"><p class="bad">{len(f.warnings)} warning(s): these figures '
                "are not the whole story</p><ul>"
                + "".join(f"<li>{escape(w)}</li>" for w in f.warnings[:FRONT_WARNINGS])
                + rest
                + "</ul></div>"
            )
        else:
            warn = (
                '<p class="ok">All checks passed: allocated + unallocated + idle = source total '
                "to the cent; no rejected lines; one currency; no unusual change.</p>"
            )
        return (
            tiles(items) + f'<p class="story">{escape(story(f, data), STORY_CHARACTERS)}</p>' + warn
        )

    def excel(self, figures: Figures, data: ReportData, book: Book) -> None:
        """The Summary sheet: figures as formulas over the other sheets' named totals."""
        f, sheet = figures, self.sheet_in(book)
        sheet.title(
            0,
            f"{data.report.title}: {data.month:%B %Y}",
            f"{data.project.project.name}. Amounts in {data.currency}, effective (amortized) cost.",
        )
        rows = _figure_rows(f, book.names)
        for i, (key, label, formula, value, fmt) in enumerate(rows, 3):
            sheet.text(i, 0, label, "bold" if key in ("spend", "value", "net", "roi") else None)
            if formula:
                sheet.formula(i, 1, formula, value, fmt)
            else:
                sheet.number(i, 1, value, fmt)
            book.define(f"summary_{key}", sheet, i, 1)
        _story_and_checks(f, data, book, sheet, 3 + len(rows) + 1)
        sheet.widths[0] = 58
        sheet.widths[1] = 18
        if "value_chart" in book.charts:
            sheet.ws.insert_chart(3, 3, book.charts["value_chart"])
