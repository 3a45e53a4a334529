"""The value side of the Excel pack: Assumptions, Value and ROI, P&L by month.

Net, ROI, the totals and NPV are live formulas over the cost and value cells, and NPV reads the
discount rate from the Assumptions sheet (the named cells `discount_rate` and `monthly_rate`),
so an analyst who changes the rate sees every NPV move. roi's own NPV uses the same convention
(Excel's `NPV`: the first month is discounted one period; months without a value are skipped,
as Excel skips empty cells), so a recalculated workbook shows roi's figures.
"""

from __future__ import annotations

from datetime import date

import polars as pl
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.worksheet import Worksheet

from roi.reporting.excel import BOLD, MONEY_FORMAT, _header, _widths, formula, put
from roi.reporting.figures import MonthlyFigures

PERCENT = "0%"
RATE = "0.00%"


def _assumptions(wb: Workbook, f: MonthlyFigures) -> None:
    ws = wb.create_sheet("Assumptions")
    put(ws, 1, 1, "Assumptions: change a value here and the dependent cells follow")
    ws.cell(row=1, column=1).font = Font(bold=True, size=13)
    put(ws, 3, 1, "Discount rate (annual)")
    put(ws, 3, 2, f.discount_rate, RATE)
    put(ws, 4, 1, "Monthly rate: (1 + annual)^(1/12) − 1")
    formula(ws, 4, 2, "=(1+discount_rate)^(1/12)-1", "0.0000%")
    put(ws, 6, 1, "NPV convention: Excel's NPV(rate, range), the first month discounted one")
    put(ws, 7, 1, "period; months without a measured value are skipped.")
    wb.defined_names["discount_rate"] = DefinedName("discount_rate", attr_text="Assumptions!$B$3")
    wb.defined_names["monthly_rate"] = DefinedName("monthly_rate", attr_text="Assumptions!$B$4")
    _widths(ws, [62, 14])


def _pnl_by_month(wb: Workbook, f: MonthlyFigures, models: list[str]) -> dict[str, str]:
    """Cost, value and net (a formula) per model and month; the net row range of each model."""
    ws = wb.create_sheet("P&L by month")
    months: list[date] = sorted(set(f.pnl["month"].to_list()))
    lookup = {(r["model_id"], r["month"]): r for r in f.pnl.iter_rows(named=True)}
    _header(ws, 1, ["Model id", "Measure", *[m.strftime("%b %Y") for m in months]])
    last = get_column_letter(2 + len(months))
    rows: dict[tuple[str, str], int] = {}
    r = 1
    for measure in ("cost", "value", "net"):
        r += 1
        put(ws, r, 1, {"cost": "Cost", "value": "Value", "net": "Net = value − cost"}[measure])
        ws.cell(row=r, column=1).font = BOLD
        for model_id in models:
            r += 1
            rows[(model_id, measure)] = r
            put(ws, r, 1, model_id)
            put(ws, r, 2, measure)
            for c, month in enumerate(months, 3):
                row = lookup.get((model_id, month))
                letter = get_column_letter(c)
                if measure == "net":
                    cost_cell = f"{letter}{rows[(model_id, 'cost')]}"
                    value_cell = f"{letter}{rows[(model_id, 'value')]}"
                    formula(ws, r, c, f'=IF({value_cell}="","",{value_cell}-{cost_cell})')
                elif row is not None and row[measure] is not None:
                    put(ws, r, c, float(row[measure]), MONEY_FORMAT)
    ws.freeze_panes = "C2"
    _widths(ws, [24, 8] + [12] * len(months))
    return {m: f"'P&L by month'!C{rows[(m, 'net')]}:{last}{rows[(m, 'net')]}" for m in models}


def value_sheets(wb: Workbook, f: MonthlyFigures) -> None:
    """Add the Assumptions, Value and ROI, and P&L by month sheets."""
    portfolio = f.portfolio.filter(pl.col("model_id") != "TOTAL")
    models = portfolio["model_id"].to_list()
    _assumptions(wb, f)
    ws: Worksheet = wb.create_sheet("Value and ROI", 2)
    nets = _pnl_by_month(wb, f, models)
    cur = f.currency
    _header(
        ws,
        1,
        [
            "Model id", "Model", "Owner", "Stage", "Evidence", f"Cost ({cur})", f"Value ({cur})",
            "Value low", "Value high", "Net", "ROI", "Payback month", "NPV to date", "Flags",
        ],
    )  # fmt: skip
    r = 1
    for row in portfolio.iter_rows(named=True):
        r += 1
        put(ws, r, 1, row["model_id"])
        put(ws, r, 2, row["name"] or row["model_id"])
        put(ws, r, 3, row["owner"] or "")
        put(ws, r, 4, row["stage"] or "")
        put(ws, r, 5, (row["evidence"] or "").replace("_", " "))
        put(ws, r, 6, row["cost"], MONEY_FORMAT)
        for col, name in ((7, "value"), (8, "value_low"), (9, "value_high")):
            put(ws, r, col, "" if row[name] is None else row[name], MONEY_FORMAT)
        formula(ws, r, 10, f'=IF(G{r}="","",G{r}-F{r})')
        formula(ws, r, 11, f'=IF(OR(G{r}="",F{r}=0),"",J{r}/F{r})', PERCENT)
        put(ws, r, 12, row["payback_month"] or "", "yyyy-mm")
        formula(
            ws,
            r,
            13,
            f'=IF(COUNT({nets[row["model_id"]]})=0,"",NPV(monthly_rate,{nets[row["model_id"]]}))',
        )
        put(ws, r, 14, row["flags"] or "")
    total = r + 1
    put(ws, total, 2, "Portfolio")
    for col in (6, 7, 8, 9, 13):
        letter = get_column_letter(col)
        formula(ws, total, col, f"=SUM({letter}2:{letter}{r})")
    formula(ws, total, 10, f"=G{total}-F{total}")
    formula(ws, total, 11, f'=IF(F{total}=0,"",J{total}/F{total})', PERCENT)
    for col in range(1, 15):
        ws.cell(row=total, column=col).font = BOLD
    ws.freeze_panes = "C2"
    ws.auto_filter.ref = f"A1:N{r}"
    _widths(ws, [24, 32, 30, 12, 18, 14, 14, 14, 14, 14, 9, 12, 14, 40])
