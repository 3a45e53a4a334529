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
from roi.reporting.book import MONEY, Book, Column, Sheet, a1
from roi.reporting.charts import Charts, lines, top_models
from roi.reporting.data import ReportData
from roi.reporting.html import money, number, percent1, table
from roi.value.pnl import excel_npv, monthly_rate

NAME = "unit_economics"
TITLE = "Value and unit economics"
SHEET = "Value"


@dataclass(frozen=True)
class Figures:
    """Monthly P&L and unit costs per model over the window, and LLM serving costs."""

    pnl: pl.DataFrame  # month, model_id, cost, value, net, npv, unit costs: the window
    history: pl.DataFrame  # the same for every month up to the report month
    llm: pl.DataFrame  # llm_unit_costs of the window for the models shown


def read(data: ReportData) -> Figures:
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


def html(f: Figures, data: ReportData, charts: Charts) -> str:
    """Unit cost trends and the self-hosted vs API table."""
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
        # The models with the most tokens (GPU-hours): a line per model beyond that is noise.
        keep = top_models(
            f.pnl.filter(pl.col(measure).is_not_null()), weight, data.options.top_models, ()
        )
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
        title += (
            f" (top {len(keep)} by volume)"
            if len(keep) < f.pnl.filter(pl.col(measure).is_not_null())["model_id"].n_unique()
            else ""
        )
        if rows:
            out.append(
                charts.inline(
                    measure, lines(rows, "value", "model", data.colours, title, unit, ",.2f"), title
                )
            )
    first = f.pnl.filter(pl.col("month") == data.window[0]).select(
        "model_id", pl.col("unit_cost").alias("unit_cost_before")
    )
    units = (
        f.pnl.filter((pl.col("month") == data.month) & pl.col("unit_cost").is_not_null())
        .join(first, on="model_id", how="left")
        .with_columns(
            model=pl.col("model_id").replace_strict(data.labels, default=pl.col("model_id")),
            change=pl.col("unit_cost") / pl.col("unit_cost_before") - 1,
        )
    )
    out.append(f"<h3>Cost per unit of each model's volume, {data.month:%B %Y}</h3>")
    out.append(
        table(
            units,
            [
                ("model", "Model", None),
                ("unit", "Per", None),
                ("unit_cost", f"{cur}", number),
                ("unit_cost_before", f"{data.window[0]:%b %Y}", number),
                ("change", "Change", percent1),
            ],
        )
    )
    served = f.llm.filter(pl.col("month") == data.month).with_columns(
        model=pl.col("model_id").replace_strict(data.labels, default=pl.col("model_id")),
        tokens_m=pl.col("tokens") / 1e6,
    )
    out.append("<h3>Self-hosted vs API, this month</h3>")
    out.append(
        '<p class="note">Self-hosted cost is the GPU cost of the model with its share of the '
        "pools' idle capacity; the API column prices the same token mix (input, cached, output) "
        "at the model's reference API.</p>"
    )
    out.append(
        table(
            served,
            [
                ("model", "Model", None),
                ("serving", "Serving", None),
                ("providers", "Providers", None),
                ("tokens_m", "Tokens (M)", number),
                ("cost", f"Cost ({cur})", money),
                ("cost_per_1m_tokens", f"{cur} per 1M tokens", money),
                ("api_reference", "Reference API", None),
                ("api_per_1m_tokens", f"API {cur} per 1M", money),
            ],
        )
    )
    return "".join(out)


def excel(f: Figures, data: ReportData, book: Book) -> None:
    """The Value sheet: cost, value and net (a formula) by month, NPV to date per model."""
    sheet = book.sheets[SHEET]
    cur = data.currency
    months = sorted(set(f.history["month"]))
    sheet.title(
        0,
        "Value: cost, value and net by month",
        f"{cur}. Net = value × the model's value counted (Assumptions sheet) − cost, or − cost "
        "after its retirement; NPV to date is Excel's NPV of the nets at the monthly rate of "
        "the Assumptions sheet (months without a value are skipped).",
    )
    lookup = {(r["model_id"], r["month"]): r for r in f.history.iter_rows(named=True)}
    models = data.model_ids
    header = 3
    sheet.text(header, 0, "Model id")
    sheet.text(header, 1, "Measure")
    for j, month in enumerate(months, 2):
        sheet.number(header, j, month, "mmm yyyy")
    npv_col = 2 + len(months)
    sheet.text(header, npv_col, "NPV to date")
    rows: dict[tuple[str, str], int] = {}
    r = header
    rate = monthly_rate(data.project.finance.discount_rate)
    for measure in ("cost", "value", "net"):
        for model in models:
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
    sheet.ws.freeze_panes(header + 1, 2)
    _unit_table(f, data, book, sheet, r + 3)
    _value_chart(f, data, book, rows, header, months)


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


def _unit_table(f: Figures, data: ReportData, book: Book, sheet: Sheet, line: int) -> None:
    cur = data.currency
    now = f.pnl.filter(pl.col("month") == data.month)
    sheet.text(line, 0, f"Unit costs, {data.month:%B %Y}", "bold")
    sheet.table(
        line + 1,
        0,
        "UnitCosts",
        [
            Column("Model id", "model_id"),
            Column("Unit", "unit"),
            Column(f"{cur} per unit", "unit_cost", MONEY),
            Column("GPU-hours held", "gpu_hours", "#,##0.0"),
            Column(f"{cur} per GPU-hour", "cost_per_gpu_hour", MONEY),
            Column("GPU efficiency", "gpu_efficiency", "0.0%"),
            Column("Tokens", "tokens", "#,##0"),
            Column(f"{cur} per 1M tokens", "cost_per_1m_tokens", MONEY),
        ],
        now.to_dicts(),
    )
    line += now.height + 3
    served = f.llm.filter(pl.col("month") == data.month)
    sheet.text(line, 0, "Self-hosted vs API (the same token mix at the reference API)", "bold")
    sheet.table(
        line + 1,
        0,
        "Serving",
        [
            Column("Model id", "model_id"),
            Column("Serving", "serving"),
            Column("Providers", "providers"),
            Column("Tokens", "tokens", "#,##0"),
            Column(f"Cost ({cur})", "cost", MONEY),
            Column("Idle share", "idle_cost", MONEY),
            Column(f"{cur} per 1M", "cost_per_1m_tokens", MONEY),
            Column("Reference API", "api_reference"),
            Column(f"API {cur} per 1M", "api_per_1m_tokens", MONEY),
        ],
        served.to_dicts(),
    )


def _value_chart(
    f: Figures,
    data: ReportData,
    book: Book,
    rows: dict[tuple[str, str], int],
    header: int,
    months: list[date],
) -> None:
    """Portfolio cost and value by month (sums of the rows above) and a native chart of them,
    for the Summary sheet."""
    sheet = book.sheets[SHEET]
    models = data.model_ids
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
                "categories": [SHEET, header, 2, header, 1 + len(months)],
                "values": [SHEET, line + offset, 2, line + offset, 1 + len(months)],
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
