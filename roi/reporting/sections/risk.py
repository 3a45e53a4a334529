"""Risk: expected annual loss and its tail per model, and the portfolio's loss-exceedance
curve, from the stored failure-exposure run (`roi scenario failure --all`, which `roi run`
keeps current), cited by its run id."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from roi.reporting.book import Book, Sheet
from roi.reporting.charts import Charts, exceedance
from roi.reporting.columns import Column
from roi.reporting.data import ReportData
from roi.reporting.html import escape, table
from roi.reporting.numbers import money
from roi.reporting.sections import Section, register

NO_RUN = "No failure-exposure run on this attribution yet: run "


@dataclass(frozen=True)
class Figures:
    """The stored run's outputs (None without one)."""

    run_id: str | None
    created_at: Any
    outputs: dict[str, Any] | None


def _columns(cur: str, level: float) -> list[Column]:
    return [
        Column("model_id", "Model id", only="excel"),
        Column("label", "Model"),
        Column(
            "expected_annual_loss",
            f"Expected annual loss ({cur})",
            "money",
            excel_header="Expected annual loss",
        ),
        Column("p50", "P50", "money"),
        Column("p90", "P90", "money", only="excel"),
        Column("p95", "P95", "money"),
        Column("p99", "P99", "money"),
        Column("var", "VaR", "money", only="excel"),
        Column(
            "expected_shortfall",
            f"ES {level:.0%}",
            "money",
            excel_header="Expected shortfall",
        ),
        Column("mc_standard_error", "MC std. error", "money"),
    ]


def _curve_columns(cur: str) -> list[Column]:
    return [
        Column("loss", f"Annual loss ({cur})", "money"),
        Column("probability", "P(loss > x)", "percent"),
    ]


def _rows(f: Figures, data: ReportData) -> list[dict[str, Any]]:
    assert f.outputs is not None
    return [
        {**r, "label": data.label(r["model_id"])}
        for r in f.outputs["models"]
        if r["model_id"] in data.model_ids
    ]


@register
class Risk(Section[Figures]):
    """Failure exposure per model and for the portfolio."""

    name = "risk"
    title = "Risk"
    sheet = "Risk"
    order = 50

    def read(self, data: ReportData) -> Figures:
        """The latest failure-exposure run on this attribution."""
        run = data.scenario("failure --all")
        if run is None:
            return Figures(None, None, None)
        return Figures(run["run_id"], run["created_at"], run["outputs"])

    def html(self, figures: Figures, data: ReportData, charts: Charts) -> str:
        """Per-model exposure and the portfolio loss-exceedance curve."""
        f = figures
        if f.outputs is None:
            if not any(m.risks for m in data.project.models):
                return (
                    '<p class="note">No failure modes declared: add [[risks]] (what can fail, '
                    "how often, what it costs) to models/*.toml, then run "
                    "<code>roi scenario failure --all</code>.</p>"
                )
            return (
                f'<p class="note">{NO_RUN}'
                "<code>roi scenario failure --all</code> (or <code>roi run</code>).</p>"
            )
        cur, out = data.currency, f.outputs
        level = out["level"]
        curve = charts.inline(
            "loss_exceedance",
            exceedance(out["exceedance"], cur, "Portfolio loss-exceedance curve (a year)"),
            "Probability that the portfolio's yearly failure loss exceeds each amount",
        )
        intro = (
            f'<p class="note">Monte Carlo of each model\'s declared failure modes: '
            f"{out['draws']:,} simulated years, correlation {out['correlation']:g} between "
            f"models; VaR and expected shortfall at {level:.0%}. Scenario run "
            f"<code>{escape(f.run_id or '')}</code>.</p>"
        )
        columns = _columns(cur, level)
        p = out["portfolio"]
        total = {c.key: money(p[c.key]) for c in columns if c.kind == "money" and c.in_html}
        total["label"] = "Portfolio"
        return intro + table(_rows(f, data), columns, total) + curve

    def excel(self, figures: Figures, data: ReportData, book: Book) -> None:
        """The Risk sheet: exposure per model, the portfolio, the curve and its native chart."""
        f, sheet, cur = figures, self.sheet_in(book), data.currency
        if f.outputs is None:
            sheet.title(0, "Risk", f"{NO_RUN}`roi scenario failure --all` (or `roi run`).")
            return
        out = f.outputs
        sheet.title(
            0,
            f"Failure exposure (scenario run {f.run_id})",
            f"{out['draws']:,} simulated years; VaR and ES at {out['level']:.0%}; {cur} a year.",
        )
        rows = [*_rows(f, data), {**out["portfolio"], "label": "Portfolio"}]
        sheet.table(3, 0, "Risk", _columns(cur, out["level"]), rows)
        line = 3 + len(rows) + 3
        sheet.text(line, 0, "Loss-exceedance curve (portfolio)", "bold")
        curve = out["exceedance"]
        sheet.table(line + 1, 0, "LossExceedance", _curve_columns(cur), curve)
        if curve:
            _curve_chart(book, sheet, line, len(curve), cur)


def _curve_chart(book: Book, sheet: Sheet, line: int, points: int, cur: str) -> None:
    """The native loss-exceedance chart beside its table."""
    chart = book.wb.add_chart({"type": "scatter", "subtype": "straight_with_markers"})
    chart.add_series(
        {
            "name": "P(annual loss > x)",
            "categories": [sheet.name, line + 2, 0, line + 1 + points, 0],
            "values": [sheet.name, line + 2, 1, line + 1 + points, 1],
            "line": {"color": "#B42318"},
            "marker": {"type": "circle", "size": 4},
        }
    )
    chart.set_x_axis({"log_base": 10, "num_format": "#,##0", "name": f"Annual loss ({cur})"})
    chart.set_y_axis({"num_format": "0%", "min": 0, "max": 1})
    chart.set_title({"name": "Loss-exceedance curve"})
    chart.set_legend({"none": True})
    chart.set_size({"width": 620, "height": 320})
    sheet.ws.insert_chart(line + 1, 3, chart)
