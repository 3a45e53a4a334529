"""Risk: expected annual loss and its tail per model, and the portfolio's loss-exceedance
curve, from the stored failure-exposure run (`roi scenario failure --all`, which `roi run`
keeps current), cited by its run id."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from roi.reporting.book import MONEY, PERCENT, Book, Column
from roi.reporting.charts import Charts, exceedance
from roi.reporting.data import ReportData
from roi.reporting.html import escape, money, table

NAME = "risk"
TITLE = "Risk"
SHEET = "Risk"


@dataclass(frozen=True)
class Figures:
    """The stored run's outputs (None without one)."""

    run_id: str | None
    created_at: Any
    outputs: dict[str, Any] | None


def read(data: ReportData) -> Figures:
    """The latest failure-exposure run on this attribution."""
    run = data.scenario("failure --all")
    if run is None:
        return Figures(None, None, None)
    return Figures(run["run_id"], run["created_at"], run["outputs"])


def _rows(f: Figures, data: ReportData) -> list[dict[str, Any]]:
    assert f.outputs is not None
    return [
        {**r, "label": data.label(r["model_id"])}
        for r in f.outputs["models"]
        if r["model_id"] in data.model_ids
    ]


def html(f: Figures, data: ReportData, charts: Charts) -> str:
    """Per-model exposure and the portfolio loss-exceedance curve."""
    if f.outputs is None:
        return (
            '<p class="note">No failure-exposure run on this attribution yet: run '
            "<code>roi scenario failure --all</code> (or <code>roi run</code>).</p>"
        )
    cur, out = data.currency, f.outputs
    level = out["level"]
    curve = charts.inline(
        "loss_exceedance",
        exceedance(out["exceedance"], cur, "Portfolio loss-exceedance curve (a year)"),
        "Probability that the portfolio's yearly failure loss exceeds each amount",
    )
    p = out["portfolio"]
    intro = (
        f'<p class="note">Monte Carlo of each model\'s declared failure modes: {out["draws"]:,} '
        f"simulated years, correlation {out['correlation']:g} between models; VaR and expected "
        f"shortfall at {level:.0%}. Scenario run <code>{escape(f.run_id or '')}</code>.</p>"
    )
    columns = [
        ("label", "Model", None),
        ("expected_annual_loss", f"Expected annual loss ({cur})", money),
        ("p50", "P50", money),
        ("p95", "P95", money),
        ("p99", "P99", money),
        ("expected_shortfall", f"ES {level:.0%}", money),
        ("mc_standard_error", "MC std. error", money),
    ]
    total = {
        "label": "Portfolio",
        "expected_annual_loss": money(p["expected_annual_loss"]),
        "p50": money(p["p50"]),
        "p95": money(p["p95"]),
        "p99": money(p["p99"]),
        "expected_shortfall": money(p["expected_shortfall"]),
        "mc_standard_error": money(p["mc_standard_error"]),
    }
    return intro + table(_rows(f, data), columns, total) + curve


def excel(f: Figures, data: ReportData, book: Book) -> None:
    """The Risk sheet: exposure per model, the portfolio, the curve and its native chart."""
    sheet = book.sheets[SHEET]
    cur = data.currency
    if f.outputs is None:
        sheet.title(
            0,
            "Risk",
            "No failure-exposure run on this attribution yet: run "
            "`roi scenario failure --all` (or `roi run`).",
        )
        return
    out = f.outputs
    sheet.title(
        0,
        f"Failure exposure (scenario run {f.run_id})",
        f"{out['draws']:,} simulated years; VaR and ES at {out['level']:.0%}; {cur} a year.",
    )
    columns = [
        Column("Model id", "model_id"),
        Column("Model", "label"),
        Column("Expected annual loss", "expected_annual_loss", MONEY),
        Column("P50", "p50", MONEY),
        Column("P90", "p90", MONEY),
        Column("P95", "p95", MONEY),
        Column("P99", "p99", MONEY),
        Column("VaR", "var", MONEY),
        Column("Expected shortfall", "expected_shortfall", MONEY),
        Column("MC std. error", "mc_standard_error", MONEY),
    ]
    rows = [*_rows(f, data), {**out["portfolio"], "label": "Portfolio"}]
    sheet.table(3, 0, "Risk", columns, rows)
    line = 3 + len(rows) + 3
    sheet.text(line, 0, "Loss-exceedance curve (portfolio)", "bold")
    curve = out["exceedance"]
    sheet.table(
        line + 1,
        0,
        "LossExceedance",
        [
            Column(f"Annual loss ({cur})", "loss", MONEY),
            Column("P(loss > x)", "probability", PERCENT),
        ],
        curve,
    )
    if curve:
        chart = book.wb.add_chart({"type": "scatter", "subtype": "straight_with_markers"})
        chart.add_series(
            {
                "name": "P(annual loss > x)",
                "categories": [SHEET, line + 2, 0, line + 1 + len(curve), 0],
                "values": [SHEET, line + 2, 1, line + 1 + len(curve), 1],
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
