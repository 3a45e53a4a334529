"""A finance KPI workbook (wide: one row per KPI, one column per month) → `kpi_values`.

The sheet is found by `options.sheet` (default: the first). The header row is the first row
whose first cell is `KPI` (title and notes rows above it are skipped); it holds `KPI`, `Model`,
`Unit`, then one real date cell per month. Formula rows (totals) and blank cells are skipped:
a total is not a KPI and a blank month is not closed yet. Cell text is read as data only.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from roi.connectors import register
from roi.connectors.base import Batch, FileConnector, TableSpec
from roi.connectors.kpi_csv import KPI_KEY, finish_kpis
from roi.connectors.parsing import REJECT_COLUMNS
from roi.errors import SourceError


def _next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


@register
class KpiExcel(FileConnector):
    """Wide finance KPI workbooks."""

    type_name = "kpi_excel"
    table = TableSpec("kpi_values", KPI_KEY)
    description = "finance KPI workbook (.xlsx): rows KPI/Model/Unit, one date column per month"
    suffixes = (".xlsx",)

    def read_file(self, path: Path, relative: str) -> Batch:
        """Parse one workbook."""
        import zipfile

        import openpyxl
        from openpyxl.utils.exceptions import InvalidFileException

        try:
            wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
        except (zipfile.BadZipFile, InvalidFileException, OSError, KeyError) as exc:
            raise SourceError(
                f"{relative}: not a readable .xlsx workbook ({type(exc).__name__}); save it from "
                "Excel as .xlsx (not .xls or .xlsb) and make sure it is not still being written"
            ) from exc
        sheet_name = self.option("sheet") or wb.sheetnames[0]
        if sheet_name not in wb.sheetnames:
            raise SourceError(
                f"{relative}: no sheet {sheet_name!r}; sheets: {', '.join(wb.sheetnames)}"
            )
        ws = wb[sheet_name]
        where = f"{relative}#{sheet_name}"
        header: list[Any] | None = None
        rows: list[dict[str, Any]] = []
        rejects: list[dict[str, Any]] = []
        for r, values in enumerate(ws.iter_rows(values_only=True), 1):
            cells = list(values)
            if header is None:
                if cells and isinstance(cells[0], str) and cells[0].strip().lower() == "kpi":
                    header = cells
                continue
            kpi = cells[0] if cells else None
            if kpi is None or str(kpi).strip() == "" or str(kpi).strip().lower() == "total":
                continue
            model = cells[1] if len(cells) > 1 else None
            unit = cells[2] if len(cells) > 2 else None
            for c, month in enumerate(header[3:], 3):
                if not isinstance(month, datetime | date):
                    continue
                value = cells[c] if c < len(cells) else None
                if value is None or (isinstance(value, str) and value.startswith("=")):
                    continue
                start = month.date() if isinstance(month, datetime) else month
                row = {
                    "source_file": where,
                    "source_row": r,
                    "kpi": str(kpi).strip(),
                    "model_id": str(model).strip() if model else None,
                    "unit": unit,
                    "period_start": start.isoformat(),
                    "period_end": _next_month(start).isoformat(),
                    "value": str(value),
                }
                if isinstance(value, bool) or not isinstance(value, int | float):
                    cell = f"{openpyxl.utils.get_column_letter(c + 1)}{r}"
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
                rows.append(row)
        wb.close()
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
