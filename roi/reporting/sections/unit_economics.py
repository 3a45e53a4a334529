"""Value and unit economics: each model's monthly cost, value and net over the trend window
(NPV to date as a live formula over the nets and the Assumptions sheet's rate), and its cost
per 1,000 units of volume, per 1M LLM tokens and per GPU-hour, with self-hosted serving
beside the API price for the same token mix.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from roi import warehouse
from roi.reporting.book import Book, Sheet, a1
from roi.reporting.charts import Charts, lines, top_models
from roi.reporting.columns import Column
from roi.reporting.data import ReportData
from roi.reporting.html import table
from roi.reporting.numbers import MONEY, MONTH
from roi.reporting.sections import Section, register
from roi.value.pnl import excel_npv, monthly_rate

MEASURES = ("cost", "value", "net")


@dataclass(frozen=True)
class Figures:
    """Monthly P&L and unit costs per model over the window, and LLM serving costs."""

    pnl: pl.DataFrame  # month, model_id, cost, value, net, npv, unit costs: the window
    history: pl.DataFrame  # the same for every month up to the report month
    llm: pl.DataFrame  # llm_unit_costs of the window for the models shown


def _serving_columns(cur: str) -> list[Column]:
    """Self-hosted vs API: the same token mix at the reference API's price."""
    return [
        Column("model_id", "Model id", only="excel"),
        Column("model", "Model", only="html"),
        Column("serving", "Serving"),
        Column("providers", "Providers"),
        Column("tokens_m", "Tokens (M)", "quantity", only="html"),
        Column("tokens", "Tokens", "integer", only="excel"),
        Column("cost", f"Cost ({cur})", "money"),
        Column("idle_cost", "Idle share", "money", only="excel"),
        Column("cost_per_1m_tokens", f"{cur} per 1M tokens", "money", excel_header=f"{cur} per 1M"),
        Column("api_reference", "Reference API"),
        Column("api_per_1m_tokens", f"API {cur} per 1M", "money"),
    ]


def _unit_change_columns(cur: str, first: date, month: date) -> list[Column]:
    """The page's unit costs: this month's against the window's first month (none when the
    window is the month alone)."""
    return [
        Column("model", "Model"),
        Column("unit", "Per"),
        Column("unit_cost", f"{cur}", "quantity"),
        *(
            [
                Column("unit_cost_before", f"{first:%b %Y}", "quantity"),
                Column("change", "Change", "percent"),
            ]
            if first < month
            else []
        ),
    ]


SERVING_NOTE = (
    '<p class="note">Self-hosted cost is the GPU cost of the model with its share of the pools\' '
    "idle capacity; the API column prices the same token mix (input, cached, output) at the "
    "model's reference API.</p>"
)
NO_UNITS = (
    "No model has a volume this month: declare [value] volume_metric (the KPI counting its "
    "units) in models/*.toml and connect the KPI with roi connect."
)
NO_LLM = (
    "No LLM usage this month: connect LiteLLM or gateway logs with roi connect to compare "
    "self-hosted serving with an API."
)


def _unit_cost_columns(cur: str) -> list[Column]:
    """The pack's unit costs: per unit of volume, per GPU-hour and per 1M tokens."""
    return [
        Column("model_id", "Model id"),
        Column("unit", "Unit"),
        Column("unit_cost", f"{cur} per unit", "money"),
        Column("gpu_hours", "GPU-hours held", "hours"),
        Column("cost_per_gpu_hour", f"{cur} per GPU-hour", "money"),
        Column("gpu_efficiency", "GPU efficiency", "percent"),
        Column("tokens", "Tokens", "integer"),
        Column("cost_per_1m_tokens", f"{cur} per 1M tokens", "money"),
    ]


def _unit_charts(f: Figures, data: ReportData, charts: Charts) -> list[str]:
    """Cost per 1M tokens and per GPU-hour by month, a line per model."""
    cur = data.currency
    out = []
    for measure, weight, title, unit in (
        (
            "cost_per_1m_tokens",
            "tokens",
            "Cost per 1M LLM tokens (API and self-hosted)",
            f"{cur} per 1M tokens",
        ),
        (
            "cost_per_gpu_hour",
            "gpu_hours",
            "Cost per GPU-hour held in the GPU pools",
            f"{cur} per GPU-hour",
        ),
    ):
        measured = f.pnl.filter(pl.col(measure).is_not_null())
        # The models with the most tokens (GPU-hours): a line per model beyond that is noise.
        keep = top_models(measured, weight, data.options.top_models, ())
        rows = [
            {
                "month": r["month"].strftime("%Y-%m"),
                "model": data.label(r["model_id"]),
                "key": r["model_id"],
                "value": r[measure],
            }
            for r in f.pnl.iter_rows(named=True)
            if r[measure] is not None and r["model_id"] in keep
        ]
        if len(keep) < measured["model_id"].n_unique():
            title += f" (top {len(keep)} by volume)"
        if rows:
            chart = lines(rows, "value", "model", data.colours, title, unit, ",.2f")
            out.append(charts.inline(measure, chart, title))
    return out


@register
class UnitEconomics(Section[Figures]):
    """Each model's monthly P&L and its unit costs."""

    name = "unit_economics"
    title = "Value and unit economics"
    sheet = "Value"
    order = 40

    def read(self, data: ReportData) -> Figures:
        """The window's P&L rows and LLM unit costs."""
        llm = warehouse.fetch_frame(
            data.con,
            "SELECT * FROM llm_unit_costs WHERE month BETWEEN ? AND ? AND currency = ? "
            "ORDER BY model_id, month, serving",
            [data.window[0], data.month, data.currency],
        ).filter(pl.col("model_id").is_in(data.model_ids))
        history = warehouse.fetch_frame(
            data.con,
            "SELECT * FROM model_roi WHERE month <= ? AND currency = ? ORDER BY model_id, month",
            [data.month, data.currency],
        ).filter(pl.col("model_id").is_in(data.model_ids))
        return Figures(data.pnl, history, llm)

    def html(self, figures: Figures, data: ReportData, charts: Charts) -> str:
        """Unit cost trends and the self-hosted vs API table."""
        f, cur = figures, data.currency
        label = pl.col("model_id").replace_strict(data.labels, default=pl.col("model_id"))
        first = f.pnl.filter(pl.col("month") == data.window[0]).select(
            "model_id", pl.col("unit_cost").alias("unit_cost_before")
        )
        units = (
            f.pnl.filter((pl.col("month") == data.month) & pl.col("unit_cost").is_not_null())
            .join(first, on="model_id", how="left")
            .with_columns(
                model=label,
                change=pl.col("unit_cost") / pl.col("unit_cost_before") - 1,
            )
        )
        served = f.llm.filter(pl.col("month") == data.month).with_columns(
            model=label, tokens_m=pl.col("tokens") / 1e6
        )
        return "".join(
            [
                *_unit_charts(f, data, charts),
                f"<h3>Cost per unit of each model's volume, {data.month:%B %Y}</h3>",
                table(units, _unit_change_columns(cur, data.window[0], data.month), empty=NO_UNITS),
                "<h3>Self-hosted vs API, this month</h3>",
                SERVING_NOTE if served.height else "",
                table(served, _serving_columns(cur), empty=NO_LLM),
            ]
        )

    def excel(self, figures: Figures, data: ReportData, book: Book) -> None:
        """The Value sheet: cost, value and net (a formula) by month, NPV to date per model."""
        f, sheet, cur = figures, self.sheet_in(book), data.currency
        months = sorted(set(f.history["month"]))
        sheet.title(
            0,
            "Value: cost, value and net by month",
            f"{cur}. Net = value × the model's value counted (Assumptions sheet) − cost, or − "
            "cost after its retirement; NPV to date is Excel's NPV of the nets at the monthly "
            "rate of the Assumptions sheet (months without a value are skipped).",
        )
        header = 3
        sheet.text(header, 0, "Model id")
        sheet.text(header, 1, "Measure")
        for j, month in enumerate(months, 2):
            sheet.number(header, j, month, MONTH)
        sheet.text(header, 2 + len(months), "NPV to date")
        rows = _measure_rows(f, data, sheet, header, months)
        sheet.ws.freeze_panes(header + 1, 2)
        _unit_table(f, data, sheet, max(rows.values(), default=0) + 3)
        _value_chart(f, data, book, sheet, rows, header, months)


def _measure_rows(
    f: Figures, data: ReportData, sheet: Sheet, header: int, months: list[date]
) -> dict[tuple[str, str], int]:
    """Cost, value and net (formulas) of each model by month, NPV to date beside the nets;
    the row of each (model, measure)."""
    lookup = {(r["model_id"], r["month"]): r for r in f.history.iter_rows(named=True)}
    npv_col = 2 + len(months)
    rows: dict[tuple[str, str], int] = {}
    r = header
    rate = monthly_rate(data.project.finance.discount_rate)
    for measure in MEASURES:
        for model in data.model_ids:
            r += 1
            rows[(model, measure)] = r
            sheet.text(r, 0, model)
            sheet.text(r, 1, measure)
            for j, month in enumerate(months, 2):
                row = lookup.get((model, month))
                if measure == "net":
                    sheet.formula(r, j, *_net_formula(rows, model, r, j, row), MONEY)
                elif row is not None and row[measure] is not None:
                    sheet.number(r, j, row[measure], MONEY)
            if measure == "net":
                nets = [
                    lookup[(model, m)]["net"]
                    for m in months
                    if (model, m) in lookup and lookup[(model, m)]["net"] is not None
                ]
                span = f"{a1(r, 2)}:{a1(r, 1 + len(months))}"
                sheet.formula(
                    r,
                    npv_col,
                    f'=IF(COUNT({span})=0,"",NPV(monthly_rate,{span}))',
                    excel_npv(rate, nets) if nets else None,
                    MONEY,
                )
    return rows


def _net_formula(
    rows: dict[tuple[str, str], int], model: str, r: int, j: int, row: dict[str, Any] | None
) -> tuple[str, float | None]:
    """The net cell of a model and month: value × value counted − cost, or − cost for a month
    after its retirement (no value, a net all the same), with roi's figure."""
    value_cell, cost_cell = a1(rows[(model, "value")], j), a1(rows[(model, "cost")], j)
    net = None if row is None else row["net"]
    if row is not None and row["value"] is None and net is not None:
        return f"=-{cost_cell}", net
    share = f"INDEX(value_counted,MATCH($A${r + 1},assumption_models,0))"
    return f'=IF({value_cell}="","",{value_cell}*{share}-{cost_cell})', net


def _unit_table(f: Figures, data: ReportData, sheet: Sheet, line: int) -> None:
    now = f.pnl.filter(pl.col("month") == data.month)
    sheet.text(line, 0, f"Unit costs, {data.month:%B %Y}", "bold")
    sheet.table(line + 1, 0, "UnitCosts", _unit_cost_columns(data.currency), now.to_dicts())
    line += now.height + 3
    served = f.llm.filter(pl.col("month") == data.month)
    sheet.text(line, 0, "Self-hosted vs API (the same token mix at the reference API)", "bold")
    sheet.table(line + 1, 0, "Serving", _serving_columns(data.currency), served.to_dicts())


def _value_chart(
    f: Figures,
    data: ReportData,
    book: Book,
    sheet: Sheet,
    rows: dict[tuple[str, str], int],
    header: int,
    months: list[date],
) -> None:
    """Portfolio cost and value by month (sums of the rows above) and a native chart of them,
    for the Summary sheet."""
    models = data.model_ids
    if not models:  # nothing to sum: the Summary's chart has no series
        return
    line = max(rows.values()) + 2
    for offset, measure, label in ((0, "cost", "Portfolio cost"), (1, "value", "Portfolio value")):
        target = line + offset
        sheet.text(target, 1, label)
        first, last = rows[(models[0], measure)], rows[(models[-1], measure)]
        for j, month in enumerate(months, 2):
            month_rows = f.history.filter(pl.col("month") == month)[measure].drop_nulls()
            sheet.formula(
                target, j, f"=SUM({a1(first, j)}:{a1(last, j)})", float(month_rows.sum()), MONEY
            )
    chart = book.wb.add_chart({"type": "line"})
    for offset, name, colour in ((0, "Cost", "#b42318"), (1, "Value", "#1a7f37")):
        chart.add_series(
            {
                "name": name,
                "categories": [sheet.name, header, 2, header, 1 + len(months)],
                "values": [sheet.name, line + offset, 2, line + offset, 1 + len(months)],
                "line": {"color": colour, "width": 2.25},
            }
        )
    chart.set_title({"name": "Portfolio cost and value by month"})
    chart.set_y_axis({"num_format": "#,##0", "name": data.currency})
    chart.set_x_axis(
        {"date_axis": True, "num_format": "mmm yy", "major_unit": 1, "major_unit_type": "months"}
    )
    chart.set_size({"width": 620, "height": 320})
    book.charts["value_chart"] = chart
