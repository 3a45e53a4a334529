"""A finance team's KPI table in its own layout, read by a column mapping from CSV, Parquet or
an Excel sheet: the same rows whichever format it comes in."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from openpyxl import Workbook

from roi import pipeline
from roi.context import Context
from roi.errors import RoiError

ROWS = [
    ("tickets_deflected", date(2026, 9, 1), "support-assistant", 2310.0),
    ("tickets_deflected", date(2026, 10, 1), "support-assistant", 2402.5),
    ("active_customers", date(2026, 10, 1), None, 1401000.0),
]
OPTIONS = {
    "columns": '{kpi = "Metric", period_start = "Month", model_id = "Model", value = "Amount"}',
    "constants": '{unit = "count"}',
    "sheet": "KPIs",
}


def _write(path: Path) -> Path:
    headers = ["Metric", "Month", "Model", "Amount", "Comment"]
    if path.suffix == ".xlsx":
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = "KPIs"
        sheet.append(headers)
        for row in ROWS:
            sheet.append([*row, "approved"])
        book.save(path)
        return path
    frame = pl.DataFrame([[*row, "approved"] for row in ROWS], schema=headers, orient="row")
    if path.suffix == ".parquet":
        frame.write_parquet(path)
    else:
        frame.write_csv(path)
    return path


def _load(tmp_path: Path, path: Path, **options: str) -> list[tuple[object, ...]]:
    warehouse = tmp_path / f"{path.suffix[1:]}.duckdb"
    result = pipeline.ingest(
        Context.for_warehouse(warehouse, tmp_path),
        "kpi_file",
        str(path),
        options={**OPTIONS, **options},
    )
    assert result.rows_rejected == 0
    return pipeline.query(
        Context.for_warehouse(warehouse),
        "SELECT kpi, period_start, period_end, model_id, segment, value, unit FROM kpi_values "
        "ORDER BY ALL",
    ).rows()


def test_the_same_table_loads_alike_from_csv_parquet_and_excel(tmp_path: Path) -> None:
    loaded = {
        s: _load(tmp_path, _write(tmp_path / f"kpis{s}")) for s in (".csv", ".parquet", ".xlsx")
    }
    expected = sorted(
        (
            k,
            start,
            date(start.year + start.month // 12, start.month % 12 + 1, 1),
            m or None,
            "all",
            v,
            "count",
        )
        for k, start, m, v in ROWS
    )
    assert loaded[".csv"] == expected
    assert loaded[".parquet"] == loaded[".csv"] == loaded[".xlsx"]


def test_a_header_the_mapping_names_that_the_file_lacks_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path / "kpis.csv")
    with pytest.raises(
        RoiError,
        match=r"kpis\.csv: no column 'Revenue' \(for value\); the file's headers are metric",
    ):
        _load(tmp_path, path, columns='{kpi = "Metric", period_start = "Month", value = "Revenue"}')


def test_a_mapping_to_an_unknown_kpi_column_is_a_config_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "kpis.csv")
    with pytest.raises(RoiError, match=r"names amount, not a KPI column; allowed: kpi"):
        _load(tmp_path, path, columns='{kpi = "Metric", period_start = "Month", amount = "Amount"}')


def test_a_value_that_is_not_a_number_names_the_row(tmp_path: Path) -> None:
    path = _write(tmp_path / "kpis.csv")
    path.write_text(path.read_text().replace("2402.5", "twelve"))
    with pytest.raises(RoiError, match=r"kpis\.csv row 3 field value"):
        _load(tmp_path, path)
    assert not (tmp_path / "csv.duckdb").exists()
