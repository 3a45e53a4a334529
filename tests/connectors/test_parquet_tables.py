"""KPI and metric tables as Parquet: the same rows as the CSV they were written from, with
dates, times and numbers typed as Parquet types them."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from roi import pipeline
from roi.context import Context
from tests.conftest import REPO

CASES = [
    (
        "kpi_csv",
        "sample_data/kpis/business_kpis.csv",
        "kpi_values",
        {"period_start": pl.Date, "period_end": pl.Date, "value": pl.Float64},
    ),
    (
        "model_metrics_csv",
        "sample_data/metrics/model_metrics.csv",
        "model_metrics",
        {"ts": pl.Datetime("us", "UTC"), "value": pl.Float64},
    ),
]


@pytest.mark.parametrize(("kind", "csv", "table", "types"), CASES)
def test_a_parquet_table_loads_like_its_csv(
    tmp_path: Path, kind: str, csv: str, table: str, types: dict[str, pl.DataType]
) -> None:
    frame = pl.read_csv(REPO / csv, infer_schema=False)
    typed = frame.with_columns(
        pl.col(c).str.to_datetime(time_zone="UTC")
        if isinstance(t, pl.Datetime)
        else pl.col(c).str.to_date()
        if t == pl.Date
        else pl.col(c).cast(t)
        for c, t in types.items()
    )
    parquet = tmp_path / "table.parquet"
    typed.write_parquet(parquet)
    loaded = {}
    for name, path in (("csv", REPO / csv), ("parquet", parquet)):
        warehouse = tmp_path / f"{name}.duckdb"
        result = pipeline.ingest(Context.for_warehouse(warehouse, tmp_path), kind, str(path))
        assert result.rows_rejected == 0
        loaded[name] = pipeline.query(
            Context.for_warehouse(warehouse),
            f"SELECT * EXCLUDE (source_file, source_row, _load_id) FROM {table} ORDER BY ALL",
        )
    assert loaded["parquet"].height == frame.height > 0
    assert loaded["parquet"].equals(loaded["csv"])
