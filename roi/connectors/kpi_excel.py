"""A finance KPI workbook (wide: one row per KPI, one column per month) → `kpi_values`.

The sheet is found by `options.sheet` (default: the first). The header row is the first row
whose first cell is `KPI` (title and notes rows above it are skipped); it holds `KPI`, `Model`,
`Unit`, then one real date cell per month. A `Total` row is skipped (a total is not a KPI) and
so are blank cells (a blank month is not approved yet). A cell holding a formula counts with the
result Excel saved for it; a formula without a saved result is an error naming the sheet and
cell. Cell text is read as data only, never evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from roi.connectors import register
from roi.connectors.base import Batch, FileConnector
from roi.connectors.kpi_csv import finish_kpis
from roi.connectors.parsing import REJECT_COLUMNS
from roi.errors import SourceError
from roi.tables import KPI_VALUES


def _next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


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

    def read_file(self, path: Path, relative: str) -> Batch:
        """Parse one workbook."""
        from openpyxl.utils import get_column_letter

        formulas = _open(path, relative, data_only=False)
        values = _open(path, relative, data_only=True)
        sheet_name = self.options.sheet or formulas.sheetnames[0]
        if sheet_name not in formulas.sheetnames:
            raise SourceError(
                f"{relative}: no sheet {sheet_name!r}; sheets: {', '.join(formulas.sheetnames)}"
            )
        where = f"{relative}#{sheet_name}"
        header: list[Any] | None = None
        rows: list[dict[str, Any]] = []
        rejects: list[dict[str, Any]] = []
        pairs = zip(
            formulas[sheet_name].iter_rows(),
            values[sheet_name].iter_rows(values_only=True),
            strict=False,
        )
        for r, (cells, cached) in enumerate(pairs, 1):
            row_values = list(cached)
            if header is None:
                first = row_values[0] if row_values else None
                if isinstance(first, str) and first.strip().lower() == "kpi":
                    header = row_values
                continue
            kpi = row_values[0] if row_values else None
            if kpi is None or str(kpi).strip() == "" or str(kpi).strip().lower() == "total":
                continue
            model = row_values[1] if len(row_values) > 1 else None
            unit = row_values[2] if len(row_values) > 2 else None
            for c, month in enumerate(header[3:], 3):
                if not isinstance(month, datetime | date):
                    continue
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
                start = month.date() if isinstance(month, datetime) else month
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
        formulas.close()
        values.close()
        if header is None:
            raise SourceError(
                f"{where}: no header row starting with 'KPI'; put KPI, Model, Unit "
                "and one date cell per month in one row"
            )
        if not any(isinstance(m, datetime | date) for m in header[3:]):
            raise SourceError(
                f"{where}: the header row has no date cells after KPI, Model, Unit; format the "
                "month headers as dates (e.g. 2026-10-01 shown as Oct 2026), not as text"
            )
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


def _open(path: Path, relative: str, data_only: bool) -> Any:
    """Open a workbook read-only: with formulas, or with the results Excel saved for them."""
    import openpyxl

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=data_only)
    except Exception as exc:  # openpyxl raises many types for a broken zip or XML part
        raise SourceError(
            f"{relative}: not a readable .xlsx workbook ({type(exc).__name__}); save it from "
            "Excel as .xlsx (not .xls or .xlsb) and make sure it is not still being written"
        ) from exc
