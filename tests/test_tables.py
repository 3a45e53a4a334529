"""Table contracts: the migrated warehouse, the pandera schemas and connectors all follow them."""

from __future__ import annotations

from pathlib import Path

import pytest

from roi import tables, warehouse
from roi.connectors import connector_class, connector_types
from roi.loading import schemas

# DuckDB's DESCRIBE spells some types differently from the DDL.
SPELLED = {"TIMESTAMPTZ": "TIMESTAMP WITH TIME ZONE"}


def _described(con: warehouse.Connection, name: str) -> list[tuple[str, str, bool]]:
    rows = warehouse.fetch_all(con, f"DESCRIBE {name}")
    return [(str(r[0]), str(r[1]), r[2] == "NO") for r in rows]


@pytest.mark.parametrize("table", list(tables.CONTRACTS.values()), ids=list(tables.CONTRACTS))
def test_migrations_build_every_table_as_its_contract_says(
    table: tables.Table, tmp_path: Path
) -> None:
    with warehouse.open_warehouse(tmp_path / "w.duckdb") as con:
        migrated = _described(con, table.name)
    expected = [(c.name, SPELLED.get(c.type, c.type), c.required) for c in table.columns]
    if table.name == "cost_lines":  # a view over Parquet files: NOT NULL is the loader's job
        migrated = [(n, t, False) for n, t, _ in migrated]
        expected = [(n, t, False) for n, t, _ in expected]
    assert migrated == expected


def test_the_contract_ddl_creates_the_same_table(tmp_path: Path) -> None:
    with warehouse.open_warehouse(tmp_path / "w.duckdb") as con:
        warehouse.execute(con, "CREATE SCHEMA contract")
        warehouse.execute(con, "USE contract")
        for table in tables.CONTRACTS.values():
            warehouse.execute(con, table.ddl())
            assert _described(con, f"contract.{table.name}") == [
                (c.name, SPELLED.get(c.type, c.type), c.required) for c in table.columns
            ], table.name


def test_connectors_write_contracted_tables_and_pandera_follows_the_contract() -> None:
    for kind in connector_types():
        table = connector_class(kind).table
        assert tables.CONTRACTS[table.name] is table
    for table in tables.LOADED_TABLES:
        schema = schemas.SCHEMAS[table.name]
        required = {c.name for c in table.columns if c.required} - set(schemas.LINEAGE)
        declared = {name for name, column in schema.columns.items() if not column.nullable}
        assert declared == required
        messages = {check.name for check in schema.checks}
        assert messages == {r.message for r in table.row_checks}
