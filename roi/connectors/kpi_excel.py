"""A finance KPI workbook (wide: one row per KPI, one column per month) → `kpi_values`.

The sheet is found by `options.sheet` (default: the first). The header row is the first row
whose first cell is `KPI` (title and notes rows above it are skipped); it holds `KPI`, `Model`,
`Unit`, then one cell per month: a date, or month text as finance writes it (`Oct 2026`,
`October 2026`, `2026-10`, `10/2026`, `Oct-26`); other text headers (`FY total`, `Notes`) are
not months and their columns are skipped. Two columns for one month, or values under a column
with no header (a merged header cell), are errors naming the cells. A `Total` row is skipped (a
total is not a KPI) and so are blank cells (a blank month is not approved yet). A cell holding
a formula counts with the result Excel saved for it; a formula without a saved result is an
error naming the sheet and cell. Cell text is read as data only, never evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from roi.connectors import register
from roi.connectors.base import FileConnector, SourceSample
from roi.connectors.kpi_csv import finish_kpis
from roi.errors import SourceError
from roi.loading.protocol import Batch
from roi.loading.rejects import REJECT_COLUMNS
from roi.tables import KPI_VALUES


def _next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


_MONTH_FORMATS = (
    "%b %Y",
    "%B %Y",
    "%Y-%m",
    "%Y-%m-%d",
    "%m/%Y",
    "%Y/%m",
    "%b-%y",
    "%b %y",
    "%b-%Y",
)


def header_month(value: Any) -> date | None:
    """The month a header cell names: a date cell, or month text; None for anything else."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = " ".join(value.split()).rstrip(".")
        for form in _MONTH_FORMATS:
            try:
                return datetime.strptime(text, form).date()  # noqa: DTZ007 (a date, no time)
            except ValueError:
                continue
    return None


def _is_kpi_row(row_values: list[Any]) -> bool:
    kpi = row_values[0] if row_values else None
    return not (kpi is None or str(kpi).strip() == "" or str(kpi).strip().lower() == "total")


def month_columns(
    header: list[Any], rows: list[list[Any]], where: str, row: int
) -> dict[int, date]:
    """Column index → month of the header row; refuse what would drop or double a month.

    Raises:
        SourceError: two columns name the same month, or a column holds values under an empty
            header cell (a merged header: its second column has no month of its own).
    """
    from openpyxl.utils import get_column_letter

    months: dict[int, date] = {}
    seen: dict[date, int] = {}
    width = max([len(header), *(len(r) for r in rows)])
    for c in range(3, width):
        cell = f"{get_column_letter(c + 1)}{row}"
        value = header[c] if c < len(header) else None
        month = header_month(value)
        if month is None:
            if value is None or (isinstance(value, str) and not value.strip()):
                filled = [
                    r for r in rows if _is_kpi_row(r) and c < len(r) and r[c] not in (None, "")
                ]
                if filled:
                    raise SourceError(
                        f"{where} cell {cell}: column {get_column_letter(c + 1)} holds values "
                        "but no month header (a merged header cell covers it?); unmerge the "
                        "header and write each column's month"
                    )
            continue
        if month in seen:
            first = f"{get_column_letter(seen[month] + 1)}{row}"
            raise SourceError(
                f"{where} cells {first} and {cell} both head {month:%Y-%m}; keep one column "
                "per month"
            )
        seen[month] = c
        months[c] = month
    return months


@dataclass(frozen=True)
class KpiExcelOptions:
    """`[options]` of a `kpi_excel` connector."""

    sheet: str | None = None  # default: the first sheet


@register
class KpiExcel(FileConnector):
    """Wide finance KPI workbooks."""

    type_name = "kpi_excel"
    table = KPI_VALUES
    description = "finance KPI workbook (.xlsx): rows KPI/Model/Unit, one date column per month"
    suffixes = (".xlsx",)
    Options = KpiExcelOptions

    @classmethod
    def recognises(cls, sample: SourceSample) -> str | None:
        """An Excel workbook (a finance KPI workbook: KPI, Model, Unit, one column a month)."""
        return "an Excel workbook" if sample.path.name.endswith(".xlsx") else None

    def read_file(self, path: Path, relative: str) -> Batch:
        """Parse one workbook."""
        formulas = open_workbook(path, relative, data_only=False)
        values = open_workbook(path, relative, data_only=True)
        sheet_name = self.options.sheet or formulas.sheetnames[0]
        if sheet_name not in formulas.sheetnames:
            raise SourceError(
                f"{relative}: no sheet {sheet_name!r}; sheets: {', '.join(formulas.sheetnames)}"
            )
        where = f"{relative}#{sheet_name}"
        table = list(
            zip(
                formulas[sheet_name].iter_rows(),
                values[sheet_name].iter_rows(values_only=True),
                strict=False,
            )
        )
        formulas.close()
        values.close()
        at = next(
            (
                r
                for r, (_, cached) in enumerate(table)
                if cached and isinstance(cached[0], str) and cached[0].strip().lower() == "kpi"
            ),
            None,
        )
        if at is None:
            raise SourceError(
                f"{where}: no header row starting with 'KPI'; put KPI, Model, Unit "
                "and one month cell per month in one row"
            )
        header = list(table[at][1])
        months = month_columns(header, [list(c) for _, c in table[at + 1 :]], where, at + 1)
        if not months:
            raise SourceError(
                f"{where}: the header row names no month after KPI, Model, Unit; write the "
                "months as dates (e.g. 2026-10-01 shown as Oct 2026) or as text like Oct 2026"
            )
        rows: list[dict[str, Any]] = []
        rejects: list[dict[str, Any]] = []
        for r, (cells, cached) in enumerate(table[at + 1 :], at + 2):
            found, bad = _row_values(list(cells), list(cached), months, where, r)
            rows.extend(found)
            rejects.extend(bad)
        frame = pl.DataFrame(
            rows,
            schema={
                "source_file": pl.String,
                "source_row": pl.Int64,
                "kpi": pl.String,
                "model_id": pl.String,
                "unit": pl.String,
                "period_start": pl.String,
                "period_end": pl.String,
                "value": pl.String,
            },
        )
        parsed = finish_kpis(frame)
        left_out = pl.DataFrame(rejects, schema=REJECT_COLUMNS)
        return Batch(parsed.frame, parsed.rejects, left_out)


def _row_values(
    cells: list[Any], row_values: list[Any], months: dict[int, date], where: str, r: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One KPI row's month values (text rows) and its cells that are not numbers (rejects)."""
    from openpyxl.utils import get_column_letter

    if not _is_kpi_row(row_values):
        return [], []
    kpi = row_values[0]
    model = row_values[1] if len(row_values) > 1 else None
    unit = row_values[2] if len(row_values) > 2 else None
    rows: list[dict[str, Any]] = []
    rejects: list[dict[str, Any]] = []
    for c, start in months.items():
        value = row_values[c] if c < len(row_values) else None
        is_formula = c < len(cells) and getattr(cells[c], "data_type", None) == "f"
        cell = f"{get_column_letter(c + 1)}{r}"
        if is_formula and value is None:
            raise SourceError(
                f"{where} cell {cell}: a formula with no saved result, so its value "
                "cannot be read; open the workbook in Excel or LibreOffice and save it "
                "(that stores the results), or type the value"
            )
        if value is None or (isinstance(value, str) and not value.strip()):
            continue  # blank: not approved yet
        if isinstance(value, bool) or not isinstance(value, int | float):
            rejects.append(
                {
                    "source_file": where,
                    "source_row": r,
                    "column": f"{cell} ({start:%Y-%m})",
                    "value": str(value),
                    "reason": "not a number in a KPI month cell",
                }
            )
            continue
        rows.append(
            {
                "source_file": where,
                "source_row": r,
                "kpi": str(kpi).strip(),
                "model_id": str(model).strip() if model else None,
                "unit": None if unit is None else str(unit),
                "period_start": start.isoformat(),
                "period_end": _next_month(start).isoformat(),
                "value": str(value),
            }
        )
    return rows, rejects


def open_workbook(path: Path, relative: str, data_only: bool) -> Any:
    """Open a workbook read-only: with formulas, or with the results Excel saved for them."""
    import openpyxl

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=data_only)
    except Exception as exc:  # openpyxl raises many types for a broken zip or XML part
        raise SourceError(
            f"{relative}: not a readable .xlsx workbook ({type(exc).__name__}); save it from "
            "Excel as .xlsx (not .xls or .xlsb) and make sure it is not still being written"
        ) from exc
