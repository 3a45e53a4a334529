"""`roi query` sees the warehouse's tables and nothing else: no files, extensions or settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from roi import pipeline
from roi.config import ProjectConfig
from roi.errors import QueryError


@pytest.mark.parametrize(
    "sql",
    [
        "COPY (SELECT * FROM cost_lines) TO '{out}/leak.csv'",
        "EXPORT DATABASE '{out}/dump'",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT content FROM read_blob('/etc/hostname')",
        "SELECT * FROM read_text('/etc/hostname')",
        "SELECT * FROM glob('/root/*')",
        "SELECT * FROM '{out}/other.parquet'",
        "ATTACH '{out}/other.duckdb' AS other",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET lock_configuration = false",
        "SET enable_external_access = true",
        "SELECT 1; COPY (SELECT 1) TO '{out}/two.csv'",
        "CREATE TABLE t AS SELECT 1",
        "DELETE FROM cost_lines",
        "CALL pragma_version()",
    ],
)
def test_statements_that_reach_outside_the_warehouse_are_refused(
    loaded_project: ProjectConfig, tmp_path: Path, sql: str
) -> None:
    before = list(tmp_path.iterdir())
    with pytest.raises(QueryError) as err:
        pipeline.query(loaded_project.warehouse_path, sql.format(out=tmp_path))
    assert "\n" not in str(err.value)
    assert list(tmp_path.iterdir()) == before  # nothing was written


def test_reading_the_warehouse_still_works(loaded_project: ProjectConfig) -> None:
    path = loaded_project.warehouse_path
    assert pipeline.query(path, "SELECT count(*) AS n FROM cost_lines").item() > 0
    tables = pipeline.query(path, "SHOW TABLES")["name"].to_list()
    assert "allocated_costs" in tables and "_loads" in tables
    assert pipeline.query(path, "DESCRIBE allocated_costs").height > 5
    assert pipeline.query(path, "SUMMARIZE SELECT amount FROM allocated_costs").height == 1
    explained = pipeline.query(path, "EXPLAIN SELECT sum(amount) FROM allocated_costs")
    assert explained.height >= 1
    assert pipeline.query(path, "FROM allocated_costs LIMIT 3").height == 3
