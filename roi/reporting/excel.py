"""The Excel pack for executives: Summary, Cost by model, Value and ROI, Trend, Unallocated,
Conflicts, Lineage, Assumptions, P&L by month.

Totals are live formulas over the rows they sum, so the workbook stays consistent when a reader
edits it; the Summary's difference cell checks the formulas against the source total read from
the warehouse. Text that comes from billing files (resource ids, tags, names) is written as
string cells, never as formulas, whatever it starts with.
"""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO
from typing import Any

import polars as pl
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.drawing.image import Image
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from roi.reporting.charts import to_png, trend_chart
from roi.reporting.figures import MonthlyFigures

MONEY_FORMAT = "#,##0.00;[Red](#,##0.00)"
HEADER_FILL = PatternFill("solid", fgColor="DCE3EE")
BOLD = Font(bold=True)


def put(ws: Worksheet, row: int, col: int, value: Any, fmt: str | None = None) -> None:
    """Write one cell; strings are always stored as text, never evaluated as formulas.

    Control characters XML cannot hold (from billing text) become U+FFFD.
    """
    cell = ws.cell(row=row, column=col)
    if isinstance(value, str):
        cell.value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
        cell.data_type = "s"
    elif isinstance(value, Decimal):
        cell.value = float(value)
    else:
        cell.value = value
    if fmt:
        cell.number_format = fmt


def formula(ws: Worksheet, row: int, col: int, text: str, fmt: str | None = MONEY_FORMAT) -> None:
    """Write a formula the pack itself builds (never from data)."""
    cell = ws.cell(row=row, column=col)
    cell.value = text
    if fmt:
        cell.number_format = fmt


def _header(ws: Worksheet, row: int, titles: list[str]) -> None:
    for col, title in enumerate(titles, 1):
        put(ws, row, col, title)
        cell = ws.cell(row=row, column=col)
        cell.font = BOLD
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")


def _widths(ws: Worksheet, widths: list[int]) -> None:
    for i, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = width


def _label(model_id: str, name: Any) -> str:
    if model_id == "__unallocated__":
        return "Unallocated"
    if model_id == "__idle__":
        return "Idle GPU capacity"
    return str(name)


def _cost_by_model(wb: Workbook, f: MonthlyFigures) -> tuple[str, str, str]:
    """Write the sheet; return cell refs of (allocated total, unallocated, idle)."""
    ws = wb.create_sheet("Cost by model")
    titles = [
        "Model id",
        "Model",
        "Owner",
        "Business unit",
        "Stage",
        *[c.replace("_", " ").capitalize() for c in f.cost_types],
        f"Total ({f.currency})",
        "Previous month",
        "Change",
    ]
    _header(ws, 1, titles)
    first_cost = 6
    total_col = first_cost + len(f.cost_types)
    rows = list(f.by_model.iter_rows(named=True))
    model_rows = [r for r in rows if not r["model_id"].startswith("__")]
    other_rows = [r for r in rows if r["model_id"].startswith("__")]
    r = 1
    refs: dict[str, str] = {}
    for group in (model_rows, other_rows):
        for row in group:
            r += 1
            put(ws, r, 1, row["model_id"])
            put(ws, r, 2, _label(row["model_id"], row["name"]))
            put(ws, r, 3, row["owner"] or "")
            put(ws, r, 4, row["business_unit"] or "")
            put(ws, r, 5, row["stage"] or "")
            for i, cost_type in enumerate(f.cost_types):
                put(ws, r, first_cost + i, row[cost_type], MONEY_FORMAT)
            first = get_column_letter(first_cost)
            last = get_column_letter(total_col - 1)
            formula(ws, r, total_col, f"=SUM({first}{r}:{last}{r})")
            put(ws, r, total_col + 1, row["previous"] or 0, MONEY_FORMAT)
            tc, pc = get_column_letter(total_col), get_column_letter(total_col + 1)
            formula(ws, r, total_col + 2, f"={tc}{r}-{pc}{r}")
            if row["model_id"].startswith("__"):
                refs[row["model_id"]] = f"'Cost by model'!{tc}{r}"
        if group is model_rows:
            last_model_row = r
    total_row = r + 1
    put(ws, total_row, 2, "Total")
    for col in range(first_cost, total_col + 3):
        letter = get_column_letter(col)
        formula(ws, total_row, col, f"=SUM({letter}2:{letter}{r})")
        ws.cell(row=total_row, column=col).font = BOLD
    ws.cell(row=total_row, column=2).font = BOLD
    ws.freeze_panes = "C2"
    ws.auto_filter.ref = f"A1:{get_column_letter(total_col + 2)}{r}"
    _widths(ws, [24, 32, 30, 18, 12] + [14] * (len(f.cost_types) + 3))
    tc = get_column_letter(total_col)
    allocated = f"SUM('Cost by model'!{tc}2:{tc}{last_model_row})" if model_rows else "0"
    return allocated, refs.get("__unallocated__", "0"), refs.get("__idle__", "0")


def _summary(ws: Worksheet, f: MonthlyFigures, title: str, refs: tuple[str, str, str]) -> None:
    allocated, unallocated, idle = refs
    put(ws, 1, 1, title)
    ws.cell(row=1, column=1).font = Font(bold=True, size=14)
    put(ws, 2, 1, f"{f.project_name}: {f.month:%B %Y}")
    put(ws, 3, 1, "Amounts in " + f.currency + "; effective (amortized) cost unless marked billed.")
    rows: list[tuple[str, Any, str | None]] = [
        ("Month", f.month, "mmmm yyyy"),
        ("Source total: effective cost in cost_lines", f.source_total, MONEY_FORMAT),
        ("Billed cost (invoices)", f.billed_total, MONEY_FORMAT),
        ("Allocated to models", f"={allocated}", MONEY_FORMAT),
        ("Unallocated", f"={unallocated}", MONEY_FORMAT),
        ("Idle GPU capacity", f"={idle}", MONEY_FORMAT),
        ("Attributed total", "=B9+B10+B11", MONEY_FORMAT),
        ("Difference to source total (must be 0.00)", "=ROUND(B12-B7,2)", MONEY_FORMAT),
        ("Unallocated share", "=IF(B7=0,0,B10/B7)", "0.0%"),
        (
            "Previous month total",
            f.previous_total if f.previous_total is not None else "",
            MONEY_FORMAT,
        ),
        ("Change vs previous month", '=IF(B15="","",B12-B15)', MONEY_FORMAT),
    ]
    for i, (label, value, fmt) in enumerate(rows, 6):
        put(ws, i, 1, label)
        if isinstance(value, str) and value.startswith("="):
            formula(ws, i, 2, value, fmt)
        else:
            put(ws, i, 2, value, fmt)
    for row in (12, 13):
        ws.cell(row=row, column=1).font = BOLD
        ws.cell(row=row, column=2).font = BOLD
    put(ws, 18, 1, "Attribution id")
    put(ws, 18, 2, f.attribution_id)
    put(ws, 19, 1, "Generated (UTC)")
    put(ws, 19, 2, f.generated_at.replace(tzinfo=None), "yyyy-mm-dd hh:mm")
    put(ws, 20, 1, "Loads behind these figures")
    put(ws, 20, 2, ", ".join(f.loads["load_id"].to_list()))
    put(ws, 22, 1, "Checks")
    ws.cell(row=22, column=1).font = BOLD
    if not f.checks:
        put(
            ws,
            23,
            1,
            "All checks passed: reconciled to the cent, no rejected lines, one "
            "currency, no unusual change",
        )
        ws.cell(row=23, column=1).font = Font(bold=True, color="1A7F37")
    for line, check in enumerate(f.checks, 23):
        put(ws, line, 1, f"Warning ({check.kind}): {check.message}")
        ws.cell(row=line, column=1).font = Font(color="B42318")
        ws.cell(row=line, column=1).alignment = Alignment(wrap_text=True, vertical="top")
        if check.amount is not None:
            put(ws, line, 2, check.amount, MONEY_FORMAT)
    _widths(ws, [46, 40])
    png = to_png(trend_chart(f), scale=1.0)
    image = Image(BytesIO(png))
    ws.add_image(image, "D6")


def _trend(ws: Worksheet, f: MonthlyFigures) -> None:
    months = sorted(f.trend["month"].unique().to_list())
    models = (
        f.trend.group_by("model_id", "model_name")
        .agg(pl.col("amount").sum())
        .with_columns(other=pl.col("model_id").str.starts_with("__"))
        .sort(["other", "amount"], descending=[False, True])
    )
    _header(ws, 1, ["Model", *[m.strftime("%b %Y") for m in months], "Total"])
    lookup = {(r["model_id"], r["month"]): r["amount"] for r in f.trend.iter_rows(named=True)}
    r = 1
    for row in models.iter_rows(named=True):
        r += 1
        put(ws, r, 1, _label(row["model_id"], row["model_name"]))
        for c, month in enumerate(months, 2):
            put(ws, r, c, lookup.get((row["model_id"], month), Decimal(0)), MONEY_FORMAT)
        last = get_column_letter(len(months) + 1)
        formula(ws, r, len(months) + 2, f"=SUM(B{r}:{last}{r})")
    put(ws, r + 1, 1, "Total")
    ws.cell(row=r + 1, column=1).font = BOLD
    for c in range(2, len(months) + 3):
        letter = get_column_letter(c)
        formula(ws, r + 1, c, f"=SUM({letter}2:{letter}{r})")
        ws.cell(row=r + 1, column=c).font = BOLD
    ws.freeze_panes = "B2"
    _widths(ws, [32] + [13] * (len(months) + 1))


def _frame_sheet(
    ws: Worksheet,
    frame: pl.DataFrame,
    columns: list[tuple[str, str, str | None]],
    widths: list[int],
) -> None:
    _header(ws, 1, [title for _, title, _ in columns])
    for r, row in enumerate(frame.iter_rows(named=True), 2):
        for c, (name, _, fmt) in enumerate(columns, 1):
            value = row.get(name)
            put(ws, r, c, "" if value is None else value, fmt)
    ws.freeze_panes = "A2"
    if frame.height:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{frame.height + 1}"
    _widths(ws, widths)


def build_workbook(f: MonthlyFigures, title: str) -> Workbook:
    """The executive pack for one month."""
    wb = Workbook()
    summary = wb.active
    assert summary is not None
    summary.title = "Summary"
    refs = _cost_by_model(wb, f)
    _summary(summary, f, title, refs)
    _trend(wb.create_sheet("Trend"), f)
    from roi.reporting.excel_value import value_sheets  # it builds on this module's helpers

    value_sheets(wb, f)
    _frame_sheet(
        wb.create_sheet("Unallocated"),
        f.unallocated_top,
        [
            ("provider", "Provider", None),
            ("service_name", "Service", None),
            ("resource_id", "Resource", None),
            ("reason", "Why unallocated", None),
            ("amount", f"Cost ({f.currency})", MONEY_FORMAT),
            ("lines", "Lines", "#,##0"),
        ],
        [12, 30, 70, 34, 14, 10],
    )
    _frame_sheet(
        wb.create_sheet("Conflicts"),
        f.conflicts,
        [
            ("provider", "Provider", None),
            ("resource_id", "Resource", None),
            ("matched_models", "Matched by", None),
            ("chosen_model", "Counted for", None),
            ("amount", f"Cost ({f.currency})", MONEY_FORMAT),
            ("lines", "Lines", "#,##0"),
        ],
        [12, 70, 40, 24, 14, 10],
    )
    _frame_sheet(
        wb.create_sheet("Lineage"),
        f.source_files,
        [
            ("source_file", "Source file", None),
            ("load_id", "Load id", None),
            ("lines", "Lines", "#,##0"),
            ("effective_cost", f"Effective ({f.currency})", MONEY_FORMAT),
        ],
        [90, 36, 10, 16],
    )
    for ws in wb.worksheets:
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
    wb.properties.creator = "roi"
    wb.properties.title = f"{title}: {f.month:%Y-%m}"
    return wb
