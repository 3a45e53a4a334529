"""Business KPIs from a finance team's own table, CSV, Parquet or an Excel sheet, by a mapping
→ `kpi_values`.

A finance file keeps its own headers (`Metric`, `Month`, `Amount`); the connector's TOML says
which is which, so the same mapping reads the file whichever of the three formats it comes in:

    type = "kpi_file"
    path = "finance/kpis.xlsx"

    [options]
    sheet = "KPIs"                       # Excel only (default: the first sheet)

    [options.columns]                    # roi column = the file's header
    kpi = "Metric"
    period_start = "Month"
    model_id = "Model"
    value = "Amount"

    [options.constants]                  # roi column = one value for every row
    unit = "USD"

Without a `period_end` column a period is the calendar month `period_start` falls in. A header
the mapping names that the file does not have is an error naming both; values are parsed as
`kpi_csv`'s (a bad one is a reject naming the file, row and roi column). Excel cells are read
as the values Excel saved, never evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import polars as pl

from roi.connectors import register
from roi.connectors.base import FileConnector
from roi.connectors.kpi_csv import OPTIONAL, finish_kpis
from roi.connectors.kpi_excel import open_workbook
from roi.errors import ConfigError, SourceError
from roi.loading.parsing import null_if_token, read_table_csv
from roi.loading.protocol import Batch
from roi.tables import KPI_VALUES

COLUMNS = ("kpi", "period_start", "period_end", "value", *OPTIONAL)
NEEDED = ("kpi", "period_start", "value")


@dataclass(frozen=True)
class KpiFileOptions:
    """`[options]` of a `kpi_file` connector."""

    columns: dict[str, str] = field(default_factory=dict)  # roi column → the file's header
    constants: dict[str, str] = field(default_factory=dict)  # roi column → one value
    sheet: str | None = None  # an Excel sheet (default: the first)


def _excel_table(path: Path, relative: str, sheet: str | None) -> pl.DataFrame:
    """A sheet's first row as headers and the rows under it as text, with spreadsheet rows."""
    book = open_workbook(path, relative, data_only=True)
    name = sheet or book.sheetnames[0]
    if name not in book.sheetnames:
        raise SourceError(f"{relative}: no sheet {name!r}; sheets: {', '.join(book.sheetnames)}")
    rows = list(book[name].iter_rows(values_only=True))
    if not rows:
        raise SourceError(f"{relative}#{name}: the sheet is empty; put a header row first")
    headers = [str(h).strip() if h is not None else "" for h in rows[0]]
    data: dict[str, list[Any]] = {h.lower(): [] for h in headers if h}
    numbers: list[int] = []
    for number, row in enumerate(rows[1:], start=2):
        if all(v is None for v in row):
            continue
        numbers.append(number)
        for header, value in zip(headers, row, strict=False):
            if header:
                data[header.lower()].append(None if value is None else str(value))
    frame = pl.DataFrame(data, schema=dict.fromkeys(data, pl.String))
    return frame.with_columns(null_if_token(frame.columns)).with_columns(
        source_row=pl.Series(numbers, dtype=pl.Int64), source_file=pl.lit(relative)
    )


@register
class KpiFile(FileConnector):
    """KPI tables in a finance team's own layout (CSV, Parquet, Excel), by a column mapping."""

    type_name = "kpi_file"
    table = KPI_VALUES
    description = "business KPIs from CSV, Parquet or an Excel sheet, by a column mapping"
    suffixes: ClassVar[tuple[str, ...]] = (".csv", ".csv.gz", ".parquet", ".xlsx")
    Options: ClassVar[type[Any]] = KpiFileOptions

    def _mapping(self) -> dict[str, str]:
        """roi column → the file's header (lower-cased), checked against roi's columns."""
        mapped = {**self.options.columns}
        unknown = sorted((set(mapped) | set(self.options.constants)) - set(COLUMNS))
        if unknown:
            raise ConfigError(
                f"{self.config.file}: [options.columns] or [options.constants] names "
                f"{', '.join(unknown)}, not a KPI column; allowed: {', '.join(COLUMNS)}"
            )
        missing = [c for c in NEEDED if c not in mapped and c not in self.options.constants]
        if missing:
            raise ConfigError(
                f"{self.config.file}: [options.columns] must say which header holds "
                f'{", ".join(missing)} (e.g. {missing[0]} = "<the file\'s header>")'
            )
        return {roi: str(header).strip().lower() for roi, header in mapped.items()}

    def read_file(self, path: Path, relative: str) -> Batch:
        """Read one file and map its headers onto the KPI columns."""
        mapping = self._mapping()
        if path.name.endswith(".xlsx"):
            raw = _excel_table(path, relative, self.options.sheet)
        else:
            raw = read_table_csv(path, relative, (), "")
        written = self.options.columns
        absent = [f"{written[r]!r} (for {r})" for r, h in mapping.items() if h not in raw.columns]
        if absent:
            shown = ", ".join(c for c in raw.columns if c not in ("source_row", "source_file"))
            raise SourceError(
                f"{relative}: no column {', '.join(absent)}; the file's headers are {shown}; "
                "fix [options.columns] in the connector's TOML"
            )
        frame = raw.select(
            *[pl.col(header).alias(roi) for roi, header in mapping.items()],
            *[pl.lit(str(v)).alias(roi) for roi, v in self.options.constants.items()],
            "source_file",
            "source_row",
        )
        if "period_end" not in frame.columns:
            start = pl.col("period_start").str.slice(0, 10).str.to_date(strict=False)
            frame = frame.with_columns(
                period_end=start.dt.offset_by("1mo").dt.month_start().cast(pl.String)
            )
        return finish_kpis(frame)
