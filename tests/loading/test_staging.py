"""Staging: checked batches written as Parquet parts in DuckDB's row groups (its INSERT from
parts of another row-group size was 40% slower)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq

from roi.loading.staging import DUCKDB_ROW_GROUP, Staging


def test_parts_are_written_in_duckdbs_row_groups_and_read_back_whole(tmp_path: Path) -> None:
    staging = Staging.for_warehouse(tmp_path / "w.duckdb", "load-1")
    rows = 2 * DUCKDB_ROW_GROUP + 1_000
    staging.add(pl.DataFrame({"n": range(rows), "empty": [None] * rows}))
    staging.add(pl.DataFrame({"n": [rows], "empty": [None]}))
    [first, second] = sorted(staging.folder.glob("*.parquet"))
    groups = pq.ParquetFile(first).metadata
    assert [groups.row_group(i).num_rows for i in range(groups.num_row_groups)] == [
        DUCKDB_ROW_GROUP,
        DUCKDB_ROW_GROUP,
        1_000,
    ]
    assert pq.ParquetFile(second).metadata.num_rows == 1
    [(count, total, kind)] = (
        duckdb.connect()
        .execute(
            "SELECT count(*), sum(n), any_value(typeof(empty)) FROM read_parquet(?)",
            [staging.glob],
        )
        .fetchall()
    )
    assert (count, total, kind) == (rows + 1, rows * (rows + 1) // 2, "VARCHAR")
    assert staging.rows == rows + 1
    staging.cleanup()
    assert not (tmp_path / "w.duckdb.staging").exists()
