"""Unallocated cost: what no rule could place, per resource and reason (the tagging worklist).

The HTML shows the reasons and the largest resources (`top_unallocated`); the pack's
Unallocated sheet lists every resource with a total that equals the month's unallocated figure.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from roi import warehouse
from roi.reporting.book import Book, column_range
from roi.reporting.charts import Charts
from roi.reporting.columns import Column
from roi.reporting.data import ReportData
from roi.reporting.html import table
from roi.reporting.numbers import MONEY, MONEY0, count, money
from roi.reporting.sections import Section, register


@dataclass(frozen=True)
class Figures:
    """Every unallocated resource of the month, and the reasons."""

    resources: pl.DataFrame
    reasons: pl.DataFrame


def _reason_columns(cur: str) -> list[Column]:
    return [
        Column("reason", "Reason"),
        Column("amount", f"Cost ({cur})", "money"),
        Column("lines", "Lines", "count"),
    ]


def _resource_columns(cur: str) -> list[Column]:
    return [
        Column("provider", "Provider"),
        Column("service_name", "Service"),
        Column("resource_id", "Resource", "id"),
        Column("cost_type", "Cost type", only="excel"),
        Column("reason", "Why unallocated"),
        Column("amount", f"Cost ({cur})", "money"),
        Column("lines", "Lines", "count"),
    ]


@register
class Unallocated(Section[Figures]):
    """The month's unallocated cost."""

    name = "unallocated"
    title = "Unallocated cost"
    sheet = "Unallocated"
    order = 70

    def read(self, data: ReportData) -> Figures:
        """The month's unallocated cost per resource and per reason."""
        resources = warehouse.fetch_frame(
            data.con,
            """SELECT provider, service_name, resource_id, cost_type, reason,
                      sum(amount)::DOUBLE AS amount, sum(line_count) AS lines
               FROM unallocated_costs WHERE month = ? AND currency = ? GROUP BY ALL
               ORDER BY amount DESC, resource_id NULLS LAST, reason""",
            [data.month, data.currency],
        )
        reasons = (
            resources.group_by("reason")
            .agg(pl.col("amount").sum(), pl.col("lines").sum())
            .sort("amount", descending=True)
        )
        return Figures(resources, reasons)

    def html(self, figures: Figures, data: ReportData, charts: Charts) -> str:
        """Reasons, then the largest resources."""
        f, cur = figures, data.currency
        top = data.options.top_unallocated
        total = {
            "reason": "Total",
            "amount": money(f.resources["amount"].sum()),
            "lines": count(f.reasons["lines"].sum()),
        }
        return (
            f"<p>Cost no rule placed, {money(f.resources['amount'].sum(), cur)} in "
            f"{f.resources.height:,} resource(s): the worklist for tags and selectors.</p>"
            + table(f.reasons, _reason_columns(cur), total, empty="Nothing unallocated this month.")
            + f"<h3>Largest {min(top, f.resources.height)} of {f.resources.height} resources</h3>"
            + table(f.resources.head(top), _resource_columns(cur))
            + '<p class="note">The Excel pack\'s Unallocated sheet lists every resource.</p>'
        )

    def excel(self, figures: Figures, data: ReportData, book: Book) -> None:
        """Every unallocated resource, and the total as a formula."""
        f, sheet, cur = figures, self.sheet_in(book), data.currency
        sheet.title(
            0, f"Unallocated cost, {data.month:%B %Y}", f"Every resource no rule placed ({cur})."
        )
        rows = f.resources.to_dicts()
        refs = sheet.table(3, 0, "Unallocated", _resource_columns(cur), rows)
        end = 4 + len(rows)
        sheet.text(end, 0, "Total", "bold")
        sheet.formula(
            end,
            refs["amount"][0],
            f"=SUM({column_range(sheet, refs['amount'])})",
            float(f.resources["amount"].sum()),
            f"bold:{MONEY}",
        )
        sheet.formula(
            end,
            refs["lines"][0],
            f"=SUM({column_range(sheet, refs['lines'])})",
            int(f.resources["lines"].sum() or 0),
            f"bold:{MONEY0}",
        )
        book.define("unallocated_total", sheet, end, refs["amount"][0])
        sheet.ws.freeze_panes(4, 0)
