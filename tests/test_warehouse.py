"""The warehouse: migrations, transactions, read-only readers and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from roi import warehouse
from roi.errors import WarehouseError


def test_migrations_are_applied_once(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with warehouse.open_warehouse(path) as con:
        assert warehouse.schema_version(con) == len(warehouse.MIGRATIONS)
        assert warehouse.migrate(con) == []
        tables = set(warehouse.table_row_counts(con))
    assert {"cost_lines", "allocated_costs", "_loads", "_state", "_rejects"} <= tables


def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with warehouse.open_warehouse(path) as con:
        with pytest.raises(RuntimeError), warehouse.transaction(con):
            warehouse.execute(con, "INSERT INTO _state VALUES ('c', '{}', 'l', now())")
            raise RuntimeError("boom")
        assert warehouse.fetch_one(con, "SELECT count(*) FROM _state")[0] == 0


def test_reader_needs_an_existing_roi_warehouse(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match=r"no warehouse at .*run `roi load`"):
        warehouse.connect(tmp_path / "missing.duckdb", read_only=True)
    junk = tmp_path / "junk.duckdb"
    junk.write_text("not a database")
    with pytest.raises(WarehouseError, match="cannot open warehouse"):
        warehouse.connect(junk)


def test_read_only_connection_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    warehouse.connect(path).close()
    with warehouse.open_warehouse(path, read_only=True) as con:
        with pytest.raises(Exception, match="only reads the warehouse"):
            warehouse.run_user_query(con, "DELETE FROM _state")
        # Even a statement that gets past the check cannot write to a read-only file.
        with pytest.raises(Exception, match="read-only"):
            warehouse.execute(con, "DELETE FROM _state")
