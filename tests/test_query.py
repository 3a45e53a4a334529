"""`roi query` sees the warehouse's tables and nothing else: no files, extensions or settings."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from roi import pipeline
from roi.config import ProjectConfig
from roi.context import Context
from roi.errors import QueryError
from roi.warehouse.cost_store import data_dir


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
        pipeline.query(
            Context.for_warehouse(loaded_project.warehouse_path), sql.format(out=tmp_path)
        )
    assert "\n" not in str(err.value)
    assert list(tmp_path.iterdir()) == before  # nothing was written


# Escapes found by audits, kept as probes: each must be refused and write nothing anywhere,
# least of all into the warehouse's data folder (the Parquet files behind `cost_lines`).
# `{file}` is a current billing file, `{data}` the data folder, `{out}` a scratch folder.
ESCAPES = [
    "EXPLAIN ANALYZE COPY (SELECT * REPLACE (billed_cost*10 AS billed_cost, effective_cost*10 "
    "AS effective_cost) FROM read_parquet('{file}')) TO '{file}' (FORMAT parquet)",
    "EXPLAIN ANALYZE COPY (SELECT 1) TO '{data}/x.csv'",
    "EXPLAIN COPY (SELECT 1) TO '{data}/x.csv'",
    "explain analyze copy (select 1) to '{data}/x.csv'",
    "/* a comment */ EXPLAIN ANALYZE COPY (SELECT 1) TO '{data}/x.csv'",
    "EXPLAIN (FORMAT json) COPY (SELECT 1) TO '{data}/x.csv'",
    "EXPLAIN ANALYZE (SELECT 1); COPY (SELECT 1) TO '{data}/x.csv'",
    "EXPLAIN ANALYZE EXPORT DATABASE '{data}/dump'",
    "EXPLAIN ANALYZE CREATE TABLE t AS SELECT 1",
    "EXPLAIN ANALYZE INSERT INTO _loads SELECT * FROM _loads",
    "COPY (SELECT 1) TO '{data}/x.csv'",
    "COPY (SELECT * FROM read_parquet('{file}')) TO '{file}' (FORMAT parquet)",
    "SELECT * FROM query('COPY (SELECT 1) TO ''{data}/x.csv''')",
    "FROM query('EXPLAIN ANALYZE COPY (SELECT 1) TO ''{data}/x.csv''')",
    "SELECT * FROM read_csv('{data}/../../../etc/passwd')",
    "SELECT * FROM glob('{data}/*')",
    "COPY (SELECT 1) TO '{out}/x.csv'",
    "PRAGMA enable_profiling",
    "CHECKPOINT",
    "DETACH roi",
    "USE memory",
]


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("sql", ESCAPES)
def test_audited_escapes_are_refused_and_write_nothing(
    loaded_project: ProjectConfig, tmp_path: Path, sql: str
) -> None:
    path = loaded_project.warehouse_path
    data = data_dir(path.resolve())
    file = sorted(data.rglob("*.parquet"))[0]
    before = _snapshot(data), _snapshot(tmp_path)
    with pytest.raises(QueryError) as err:
        pipeline.query(Context.for_warehouse(path), sql.format(file=file, data=data, out=tmp_path))
    assert "\n" not in str(err.value)
    assert (_snapshot(data), _snapshot(tmp_path)) == before


def test_reading_the_warehouse_still_works(loaded_project: ProjectConfig) -> None:
    path = loaded_project.warehouse_path
    assert (
        pipeline.query(Context.for_warehouse(path), "SELECT count(*) AS n FROM cost_lines").item()
        > 0
    )
    tables = pipeline.query(Context.for_warehouse(path), "SHOW TABLES")["name"].to_list()
    assert "allocated_costs" in tables and "_loads" in tables
    assert pipeline.query(Context.for_warehouse(path), "DESCRIBE allocated_costs").height > 5
    assert (
        pipeline.query(
            Context.for_warehouse(path), "SUMMARIZE SELECT amount FROM allocated_costs"
        ).height
        == 1
    )
    explained = pipeline.query(
        Context.for_warehouse(path), "EXPLAIN SELECT sum(amount) FROM allocated_costs"
    )
    assert explained.height >= 1
    analyzed = pipeline.query(
        Context.for_warehouse(path), "/* plan */ EXPLAIN ANALYZE SELECT count(*) FROM cost_lines"
    )
    assert "read_parquet" in analyzed.write_csv().lower()
    assert pipeline.query(Context.for_warehouse(path), "EXPLAIN (FORMAT json) SELECT 1").height >= 1
    assert (
        pipeline.query(Context.for_warehouse(path), "SELECT * FROM query('SELECT 42 AS x')").item()
        == 42
    )
    assert pipeline.query(Context.for_warehouse(path), "FROM allocated_costs LIMIT 3").height == 3
