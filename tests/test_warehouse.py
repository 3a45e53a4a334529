"""The warehouse: migrations, transactions, read-only readers and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from roi import warehouse
from roi.errors import WarehouseError
from roi.warehouse.migrations import LATEST_VERSION, MIGRATIONS


def test_migrations_are_applied_once(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with warehouse.open_warehouse(path) as con:
        assert warehouse.schema_version(con) == LATEST_VERSION
        versions = [version for version, _, _ in MIGRATIONS]
        assert versions == sorted(set(versions))  # append-only, each number once
        assert warehouse.migrate(con) == []
        tables = set(warehouse.table_row_counts(con))
    assert {"cost_lines", "allocated_costs", "_loads", "_state", "_rejects"} <= tables


SCHEMA = (
    "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns "
    "ORDER BY ALL"
)


def _first_release(path: Path) -> duckdb.DuckDBPyConnection:
    """A new DuckDB file with the schema of roi's first release (migration 1), open."""
    con = duckdb.connect(str(path))
    version, name, sql = MIGRATIONS[0]
    con.execute(
        "CREATE TABLE _migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, "
        "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
    )
    assert isinstance(sql, str)  # the first migration is SQL
    con.execute(sql)
    con.execute("INSERT INTO _migrations (version, name) VALUES (?, ?)", [version, name])
    return con


def _step_by_step_schema(folder: Path) -> list[tuple[object, ...]]:
    """The schema of a warehouse of the first release migrated one migration at a time."""
    older = folder / "older.duckdb"
    _first_release(older).close()
    with warehouse.open_warehouse(older) as con:
        return warehouse.fetch_all(con, SCHEMA)


def test_a_new_warehouse_has_the_schema_of_one_migrated_step_by_step(tmp_path: Path) -> None:
    """A new warehouse takes every migration in one transaction; an older one each in its
    own: the same tables, columns and views either way."""
    with duckdb.connect(str(tmp_path / "new.duckdb")) as con:
        assert warehouse.migrate(con) == [version for version, _, _ in MIGRATIONS]
        assert warehouse.fetch_all(con, SCHEMA) == _step_by_step_schema(tmp_path)


def test_a_new_warehouse_whose_migration_fails_is_left_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from roi.warehouse import connection

    broken = (*MIGRATIONS, (LATEST_VERSION + 1, "broken", "CREATE TABLE _loads (x INTEGER)"))
    monkeypatch.setattr(connection, "MIGRATIONS", broken)
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        with pytest.raises(duckdb.CatalogException, match="_loads"):
            warehouse.migrate(con)
        assert con.execute("SELECT count(*) FROM duckdb_tables()").fetchone() == (0,)


def test_warehouses_made_one_after_another_are_whole_and_apart(tmp_path: Path) -> None:
    """From its second on, a process copies the empty warehouse it migrated once: each copy
    has the whole schema and its own rows."""
    (tmp_path / "older").mkdir()
    expected = _step_by_step_schema(tmp_path / "older")
    paths = [tmp_path / f"w{i}.duckdb" for i in range(3)]
    for path in paths:
        with warehouse.open_warehouse(path) as con:
            assert warehouse.schema_version(con) == LATEST_VERSION
            warehouse.execute(con, "INSERT INTO _state VALUES (?, '{}', 'l', now())", [path.name])
    for path in paths:
        with warehouse.open_warehouse(path, read_only=True) as con:
            assert warehouse.fetch_all(con, "SELECT connector FROM _state") == [(path.name,)]
            assert warehouse.fetch_all(con, SCHEMA) == expected
    made = sorted(p.name for p in tmp_path.iterdir() if p.is_file())
    assert made == [p.name for p in paths]  # no scratch copy left beside them


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
            warehouse.run_user_query(con, "DELETE FROM _state", [])
        # Even a statement that gets past the check cannot write to a read-only file.
        with pytest.raises(Exception, match="read-only"):
            warehouse.execute(con, "DELETE FROM _state")


def test_billing_lines_of_an_older_warehouse_move_to_parquet_files(tmp_path: Path) -> None:
    """A warehouse written before billing lines became files keeps every line and cent."""
    from roi.warehouse.cost_store import data_dir

    path = tmp_path / "old.duckdb"
    con = _first_release(path)  # the schema of the previous release
    con.execute(
        """INSERT INTO cost_lines (provider, billing_account_id, billing_period_start,
               billing_period_end, charge_period_start, charge_period_end, charge_category,
               billed_cost, effective_cost, billing_currency, tags, focus_version, export,
               delivery, source_file, source_row, _load_id)
           SELECT 'AWS', 'A1', TIMESTAMPTZ '2026-10-01', TIMESTAMPTZ '2026-11-01',
               TIMESTAMPTZ '2026-10-01' + INTERVAL (i) HOUR,
               TIMESTAMPTZ '2026-10-01' + INTERVAL (i + 1) HOUR, 'Usage', 0.1 * i, 0.1 * i,
               'USD', MAP {'ml-model': 'm' || (i % 3)}, '1.2', 'x/focus-export/data/BILLING_PERIOD=2026-10',
               'd1', 'part-' || (i % 2) || '.csv', i, 'load-1'
           FROM range(1000) t(i)"""
    )
    before = con.execute(
        "SELECT count(*), sum(effective_cost), count(DISTINCT tags['ml-model']) FROM cost_lines"
    ).fetchone()
    con.close()
    with warehouse.open_warehouse(path) as con:
        assert warehouse.schema_version(con) == LATEST_VERSION
        after = warehouse.fetch_one(
            con,
            "SELECT count(*), sum(effective_cost), count(DISTINCT tags['ml-model']) FROM cost_lines",
        )
        exports = warehouse.fetch_all(con, "SELECT DISTINCT export FROM cost_lines")
        files = warehouse.fetch_one(con, "SELECT count(*) FROM _cost_files")[0]
    assert after == before and before[0] == 1000
    assert exports == [("focus-export",)]  # named by the export, not the path it came from
    assert files == 2 and len(list(data_dir(path).rglob("*.parquet"))) == 2


def test_billing_files_written_before_the_unit_prices_get_them_empty(tmp_path: Path) -> None:
    """Migration 20: Parquet files of an older load gain the unit price columns (null); every
    line and cent stays."""
    import pyarrow.parquet as pq

    from roi import pipeline
    from roi.context import Context
    from roi.warehouse.cost_store import data_dir
    from tests.conftest import shared_file

    path = tmp_path / "w.duckdb"
    sample = shared_file("focus/native-provider-samples/aws_cur_legacy_sample.csv")
    pipeline.ingest(Context.for_warehouse(path, tmp_path), "aws_cur", str(sample))
    totals = "SELECT count(*), sum(billed_cost), sum(effective_cost) FROM cost_lines"
    with warehouse.open_warehouse(path) as con:
        before = warehouse.fetch_one(con, totals)
        warehouse.execute(con, "DELETE FROM _migrations WHERE version >= 20")
    added = ("list_unit_price", "contracted_unit_price", "x_effective_unit_price")
    files = list(data_dir(path).rglob("*.parquet"))
    for file in files:  # as an older release wrote them
        table = pq.read_table(file)
        pq.write_table(table.drop_columns(list(added)), file)
        assert not set(added) & set(pq.read_schema(file).names)
    with warehouse.open_warehouse(path) as con:
        assert warehouse.schema_version(con) == LATEST_VERSION
        assert warehouse.fetch_one(con, totals) == before
        prices = warehouse.fetch_one(
            con, f"SELECT count(*) FROM cost_lines WHERE coalesce({', '.join(added)}) IS NOT NULL"
        )
    assert prices == (0,)
    assert all(set(added) <= set(pq.read_schema(f).names) for f in files)


def _as_before_migration_21(file: Path) -> None:
    """A billing file as a release before migration 21 wrote it: CUR lines' split cost
    allocation labels in CUR 2.0's spelling (`aws_eks_namespace`), in `tags` and `tags_raw`."""
    import pyarrow.parquet as pq

    from roi.tables import COST_LINES, arrow_schema
    from tests.connectors.test_cur_split import AWS_TAG_NAMES

    cases = " ".join(f"WHEN '{new.lower()}' THEN '{old}'" for old, new in AWS_TAG_NAMES.items())
    text = "tags_raw"
    for old, new in AWS_TAG_NAMES.items():
        text = f"""replace({text}, '"{new.lower()}":', '"{old}":')"""
    cur = "focus_version LIKE 'CUR%'"
    with duckdb.connect() as con:
        table = warehouse.fetch_arrow(
            con,
            f"""SELECT * REPLACE (
                    CASE WHEN {cur} THEN map_from_entries(list_transform(map_entries(tags),
                        lambda e: {{'key': CASE e.key {cases} ELSE e.key END, 'value': e.value}}))
                    ELSE tags END AS tags,
                    CASE WHEN {cur} THEN {text} ELSE tags_raw END AS tags_raw)
                FROM read_parquet(?)""",
            [str(file)],
        )
    pq.write_table(table.cast(arrow_schema(COST_LINES)), file)


def test_cur_split_labels_of_an_older_warehouse_get_awss_names(tmp_path: Path) -> None:
    """Migration 21: CUR lines stored with CUR 2.0's spelling of the split cost allocation
    labels get AWS's names, as a load now stores them; a FOCUS line's tags and every cent stay,
    and every month is attributed afresh."""
    from roi import pipeline
    from roi.context import Context
    from roi.warehouse.cost_store import data_dir
    from tests.connectors.test_cur_split import ROWS, write_cur2

    path = tmp_path / "w.duckdb"
    cur = write_cur2(tmp_path / "part-00001.snappy.parquet", ROWS)
    pipeline.ingest(Context.for_warehouse(path, tmp_path), "aws_cur", str(cur))
    focus = tmp_path / "focus.csv"  # AWS's FOCUS export, a key that looks like CUR 2.0's
    focus.write_text(
        "BillingAccountId,ProviderName,BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,"
        "ChargePeriodEnd,ChargeCategory,BilledCost,EffectiveCost,BillingCurrency,Tags\n"
        "999,AWS,2026-10-01T00:00:00Z,2026-11-01T00:00:00Z,2026-10-02T00:00:00Z,"
        '2026-10-03T00:00:00Z,Usage,1.5,1.5,USD,"{""aws_eks_namespace"": ""kept""}"\n'
    )
    pipeline.ingest(Context.for_warehouse(path, tmp_path), "focus", str(focus))
    lines = """SELECT source_file, source_row, resource_id, billed_cost, effective_cost,
                      to_json(tags)::VARCHAR, tags_raw FROM cost_lines ORDER BY ALL"""
    old_keys = "SELECT count(*) FROM cost_lines WHERE tags['aws_eks_namespace'] IS NOT NULL"
    with warehouse.open_warehouse(path) as con:
        fresh = warehouse.fetch_all(con, lines)
        assert warehouse.fetch_one(con, old_keys) == (1,)  # the FOCUS line's only
        warehouse.execute(con, "DELETE FROM _migrations WHERE version >= 21")
        warehouse.execute(
            con, "INSERT INTO _attributed_months VALUES (DATE '2026-10-01', 'i', 'r', 'a')"
        )
    files = list(data_dir(path).rglob("*.parquet"))
    for file in files:
        _as_before_migration_21(file)
    with duckdb.connect() as con:  # the CUR's pods too, as before
        stored = "read_parquet([" + ", ".join(f"'{f}'" for f in files) + "])"
        assert warehouse.fetch_one(con, old_keys.replace("cost_lines", stored))[0] > 1
    with warehouse.open_warehouse(path) as con:
        assert warehouse.schema_version(con) == LATEST_VERSION
        assert warehouse.fetch_all(con, lines) == fresh
        assert warehouse.fetch_one(con, "SELECT count(*) FROM _attributed_months") == (0,)


def test_tagged_lines_of_an_older_warehouse_get_their_tag_text(tmp_path: Path) -> None:
    """Migration 22: a line stored with its tag map but no tag text (as CUR 2.0 map loads of
    an older release could be) gets the map's JSON as its text; the fold, which now reads the
    text alone, groups it as the map did. Untagged lines stay untagged."""
    import polars as pl
    import pyarrow.parquet as pq

    from roi import pipeline
    from roi.context import Context
    from roi.fold.engines import fold_groups
    from roi.tables import COST_LINES, arrow_schema
    from roi.warehouse.cost_store import data_dir

    path = tmp_path / "w.duckdb"
    focus = tmp_path / "focus.csv"
    focus.write_text(
        "BillingAccountId,ProviderName,BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,"
        "ChargePeriodEnd,ChargeCategory,BilledCost,EffectiveCost,BillingCurrency,Tags\n"
        "9,AWS,2026-10-01T00:00:00Z,2026-11-01T00:00:00Z,2026-10-02T00:00:00Z,"
        '2026-10-03T00:00:00Z,Usage,1.5,1.5,USD,"{""ml-model"": ""fraud""}"\n'
        "9,AWS,2026-10-01T00:00:00Z,2026-11-01T00:00:00Z,2026-10-02T00:00:00Z,"
        "2026-10-03T00:00:00Z,Usage,2.25,2.25,USD,\n"
    )
    pipeline.ingest(Context.for_warehouse(path, tmp_path), "focus", str(focus))
    with warehouse.open_warehouse(path) as con:
        fresh = fold_groups(con, "billing_period", None).sort("amount")
        warehouse.execute(con, "DELETE FROM _migrations WHERE version >= 22")
    for file in data_dir(path).rglob("*.parquet"):  # the text dropped, as before
        with duckdb.connect() as con:
            table = warehouse.fetch_arrow(
                con,
                "SELECT * REPLACE (NULL::VARCHAR AS tags_raw) FROM read_parquet(?)",
                [str(file)],
            )
        pq.write_table(table.cast(arrow_schema(COST_LINES)), file)
    with warehouse.open_warehouse(path) as con:
        assert warehouse.schema_version(con) == LATEST_VERSION
        texts = warehouse.fetch_all(con, "SELECT tags_raw FROM cost_lines ORDER BY effective_cost")
        migrated = fold_groups(con, "billing_period", None).sort("amount")
    assert texts == [('{"ml-model":"fraud"}',), (None,)]
    assert migrated.get_column("amount").cast(pl.Float64).to_list() == [1.5, 2.25]
    assert migrated.get_column("line_count").to_list() == fresh.get_column("line_count").to_list()
    before, after = fresh.get_column("tags_text"), migrated.get_column("tags_text")
    assert after[1] is None and before[1] is None  # the untagged line stays untagged
    assert json.loads(after[0]) == json.loads(before[0]) == {"ml-model": "fraud"}


def test_a_copy_that_cannot_be_written_leaves_duckdb_to_make_the_warehouse(
    tmp_path: Path,
) -> None:
    import os

    for i in range(2):  # the process's second warehouse at least: the copying path
        warehouse.connect(tmp_path / f"first{i}.duckdb").close()
    path = tmp_path / "w.duckdb"
    (tmp_path / f".w.duckdb.{os.getpid()}.new").mkdir()  # where the copy would be staged
    with warehouse.open_warehouse(path) as con:
        assert warehouse.schema_version(con) == LATEST_VERSION
