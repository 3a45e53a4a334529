"""Where billing lines live: Parquet files beside the warehouse, listed in `_cost_files`.

`cost_lines` is a view over the current files in `<warehouse>.data/cost_lines/<load_id>/`. A
load writes its files (one per source file and billing partition, in the final column types)
before it takes the warehouse's file lock; its transaction then only records them in the
manifest, marks the files they replace as superseded and points the view at the new set. So
readers are locked out for a moment, not for the time DuckDB would take to write every line
into its own file, and a 100M-line load never holds the lock for minutes.

Superseded files stay on disk for a while (a query that started before the commit may still be
reading them) and are removed by a later load; files of a load that never committed are
removed by the next one.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from roi.errors import WarehouseError
from roi.tables import COST_LINES, arrow_schema, empty_select
from roi.vocabulary import CUR_VERSIONS, SPLIT_TAG_KEYS
from roi.warehouse import sql as warehouse
from roi.warehouse.sql import Connection

FOLDER = "cost_lines"
PARTITION = ("provider", "billing_account_id", "billing_period_start", "export")
KEEP_SUPERSEDED = timedelta(minutes=10)  # long enough for any query that was running
# Snappy, not zstd: billing files are many and small (one per billing partition and delivery
# in a load), and Arrow's zstd makes a compression context for every column chunk it writes.
# 10M CUR 2.0 lines loaded in 15.6 s instead of 17.1 s, for 518 MB on disk instead of 348 MB
# (bench/RESULTS.md); readers decode snappy faster too.
CODEC = "snappy"


def data_dir(warehouse_path: Path) -> Path:
    """The folder beside the warehouse file that holds its Parquet-backed tables."""
    return warehouse_path.with_name(warehouse_path.name + ".data")


def forget_warehouse(warehouse_path: Path) -> None:
    """Remove a warehouse that a failed first load created: its file, log and data folder."""
    for path in (warehouse_path, warehouse_path.with_name(warehouse_path.name + ".wal")):
        path.unlink(missing_ok=True)
    shutil.rmtree(data_dir(warehouse_path), ignore_errors=True)


@dataclass(frozen=True)
class StoredFile:
    """One Parquet file of billing lines: one source file's lines of one partition."""

    file: str  # relative to the data folder
    load_id: str
    provider: str
    billing_account_id: str
    billing_period_start: datetime
    export: str
    delivery: str
    part: str
    source_file: str
    lines: int
    whole_delivery: bool


def relation(data: Path, files: list[str]) -> str:
    """SQL reading billing-line files, in the contract's column order."""
    if not files:
        return f"({empty_select(COST_LINES)})"
    paths = ", ".join("'" + str(data / f).replace("'", "''") + "'" for f in files)
    columns = ", ".join(f'"{c}"' for c in COST_LINES.types)
    return f"(SELECT {columns} FROM read_parquet([{paths}]))"


def current_files(con: Connection) -> list[str]:
    """The files `cost_lines` reads now."""
    rows = warehouse.fetch_all(
        con, "SELECT file FROM _cost_files WHERE superseded_by IS NULL ORDER BY file"
    )
    return [str(r[0]) for r in rows]


def refresh_view(con: Connection, data: Path, temporary: bool = False) -> None:
    """Point the `cost_lines` view at the current files (a temporary one for a reader)."""
    kind = "TEMP VIEW" if temporary else "VIEW"
    source = relation(data, current_files(con))
    warehouse.execute(con, f"CREATE OR REPLACE {kind} cost_lines AS SELECT * FROM {source}")


def view_matches(con: Connection, data: Path) -> bool:
    """Whether the stored view reads from this warehouse's data folder (not a moved copy's).

    Raises:
        WarehouseError: the manifest lists files the data folder does not hold (the warehouse
            file was copied or moved without its `.data` folder).
    """
    files = current_files(con)
    if not files:
        return True
    missing = [f for f in files if not (data / f).exists()]
    if missing:
        raise WarehouseError(
            f"the warehouse lists {len(files)} billing file(s) under {data}, but {len(missing)} "
            f"are missing (e.g. {missing[0]}); copy or move the warehouse file together with its "
            f"{data.name} folder"
        )
    rows = warehouse.fetch_all(
        con, "SELECT sql FROM duckdb_views() WHERE view_name = 'cost_lines' AND NOT temporary"
    )
    return bool(rows) and str(data / files[0]) in str(rows[0][0])


def expired_files(con: Connection, now: datetime) -> list[str]:
    """Superseded files no query can still be reading; forget them (inside a transaction)."""
    cutoff = now - KEEP_SUPERSEDED
    rows = warehouse.fetch_all(
        con,
        "DELETE FROM _cost_files WHERE superseded_by IS NOT NULL AND superseded_at < ? "
        "RETURNING file",
        [cutoff],
    )
    return [str(r[0]) for r in rows]


def remove_files(data: Path, files: Iterable[str]) -> None:
    """Delete files the manifest no longer lists (after the commit that dropped them)."""
    for name in files:
        (data / name).unlink(missing_ok=True)
        parent = (data / name).parent
        if parent.exists() and not any(parent.iterdir()):
            parent.rmdir()


MANIFEST_DDL = """
    CREATE TABLE _cost_files (
        file VARCHAR PRIMARY KEY, load_id VARCHAR NOT NULL, provider VARCHAR NOT NULL,
        billing_account_id VARCHAR NOT NULL, billing_period_start TIMESTAMPTZ NOT NULL,
        export VARCHAR NOT NULL, delivery VARCHAR NOT NULL, part VARCHAR NOT NULL,
        source_file VARCHAR NOT NULL, lines BIGINT NOT NULL, whole_delivery BOOLEAN NOT NULL,
        superseded_by VARCHAR, superseded_at TIMESTAMPTZ)
"""


def move_table_to_files(con: Connection) -> None:
    """Migration: the `cost_lines` table becomes Parquet files listed in `_cost_files`.

    One file per (partition, delivery, source file, load) of the stored lines; the table is
    dropped and `cost_lines` becomes the view over the files.
    """
    data = data_dir(warehouse.database_file(con))
    warehouse.execute(con, MANIFEST_DDL)
    groups = warehouse.fetch_all(
        con,
        f"""SELECT {", ".join(PARTITION)}, delivery, source_file, _load_id, count(*)
            FROM cost_lines GROUP BY ALL ORDER BY ALL""",
    )
    # Lines loaded from Parquet maps had no tag text; the map's JSON stands in (what
    # attribution groups lines by). Columns the contract gained later are empty.
    stored = warehouse.table_columns(con, "cost_lines")
    columns = ", ".join(
        "coalesce(tags_raw, to_json(tags)::VARCHAR) AS tags_raw"
        if c == "tags_raw"
        else (f'"{c}"' if c in stored else f'NULL::{kind} AS "{c}"')
        for c, kind in COST_LINES.types.items()
    )
    manifest = []
    for i, (provider, account, period, export, delivery, source, load_id, lines) in enumerate(
        groups, 1
    ):
        name = f"{FOLDER}/{load_id}/migrated-{i:05d}.parquet"
        (data / name).parent.mkdir(parents=True, exist_ok=True)
        table = warehouse.fetch_arrow(
            con,
            f"""SELECT {columns} FROM cost_lines WHERE provider = ? AND billing_account_id = ?
                AND billing_period_start = ? AND export = ? AND delivery = ?
                AND source_file = ? AND _load_id = ? ORDER BY source_row""",
            [provider, account, period, export, delivery, source, load_id],
        )
        pq.write_table(table.cast(arrow_schema(COST_LINES)), data / name, compression=CODEC)
        manifest.append(
            StoredFile(
                name,
                load_id,
                provider,
                account,
                period,
                export,
                delivery,
                Path(source).name,
                source,
                int(lines),
                True,
            ).__dict__
        )
    if manifest:
        frame = pl.DataFrame(manifest).with_columns(
            pl.col("billing_period_start").cast(pl.Datetime("us", "UTC"))
        )
        with warehouse.registered(con, "_migrated_files", frame):
            warehouse.execute(con, "INSERT INTO _cost_files BY NAME SELECT * FROM _migrated_files")
    warehouse.execute(con, "DROP TABLE cost_lines")
    refresh_view(con, data)


def add_contract_columns(con: Connection) -> None:
    """Migration: billing files written before the contract gained a column get it, empty.

    Each file that lacks one is rewritten (row group by row group, so memory stays one row
    group's) beside itself and moved over it; the view then reads the new columns.
    """
    data = data_dir(warehouse.database_file(con))
    schema = arrow_schema(COST_LINES)
    for (name,) in warehouse.fetch_all(con, "SELECT file FROM _cost_files ORDER BY file"):
        path = data / str(name)
        if not path.exists():
            continue
        source = pq.ParquetFile(path)
        present = set(source.schema_arrow.names)
        if present >= set(schema.names):
            continue
        moved = path.with_name(path.name + ".adding")
        with pq.ParquetWriter(moved, schema, compression=CODEC) as out:
            for group in range(source.num_row_groups):
                part = source.read_row_group(group)
                out.write_table(
                    pa.Table.from_arrays(
                        [
                            part.column(f.name).cast(f.type)
                            if f.name in present
                            else pa.nulls(part.num_rows, f.type)
                            for f in schema
                        ],
                        schema=schema,
                    )
                )
        moved.replace(path)
    refresh_view(con, data)


_CUR_LINE = "focus_version IN (" + ", ".join(f"'{v}'" for v in CUR_VERSIONS) + ")"


def _renamed_tags_sql() -> tuple[str, str]:
    """SQL for a CUR line's `tags` and `tags_raw` with the split cost allocation labels under
    AWS's names (`SPLIT_TAG_KEYS`, keys lower-cased as roi stores them); other lines as they
    are. In the text only a key is replaced: a JSON string followed by a colon."""
    cases = " ".join(f"WHEN '{old}' THEN '{new.lower()}'" for old, new in SPLIT_TAG_KEYS.items())
    entry = f"{{'key': CASE e.key {cases} ELSE e.key END, 'value': e.value}}"
    entries = f"list_transform(map_entries(tags), lambda e: {entry})"
    text = "tags_raw"
    for old, new in SPLIT_TAG_KEYS.items():
        text = f"""regexp_replace({text}, '"{old}"(\\s*):', '"{new.lower()}"\\1:', 'g')"""
    return (
        f"CASE WHEN {_CUR_LINE} THEN map_from_entries({entries}) ELSE tags END AS tags",
        f"CASE WHEN {_CUR_LINE} THEN {text} ELSE tags_raw END AS tags_raw",
    )


def _rewrite_where(con: Connection, files: str, found: str, replace: str) -> int:
    """Rewrite each stored billing file `files` (a WHERE over `_cost_files`) that holds a line
    matching `found`, with `SELECT * REPLACE (replace)`: row group by row group beside itself,
    then moved over it. Returns how many files were rewritten."""
    data = data_dir(warehouse.database_file(con))
    schema = arrow_schema(COST_LINES)
    rewritten = 0
    for (name,) in warehouse.fetch_all(
        con, f"SELECT file FROM _cost_files WHERE {files} ORDER BY file"
    ):
        path = data / str(name)
        if (
            not path.exists()
            or not warehouse.fetch_one(
                con, f"SELECT count(*) FROM read_parquet(?) WHERE {found}", [str(path)]
            )[0]
        ):
            continue
        source = pq.ParquetFile(path)
        moved = path.with_name(path.name + ".rewriting")
        with pq.ParquetWriter(moved, schema, compression=CODEC) as out:
            for group in range(source.num_row_groups):
                con.register("_cost_part", source.read_row_group(group))
                part = warehouse.fetch_arrow(con, f"SELECT * REPLACE ({replace}) FROM _cost_part")
                con.unregister("_cost_part")
                out.write_table(part.select(schema.names).cast(schema))
        moved.replace(path)
        rewritten += 1
    refresh_view(con, data)
    return rewritten


def rename_split_tags(con: Connection) -> None:
    """Migration: CUR lines stored with CUR 2.0's spelling of the split cost allocation labels
    (`aws_eks_namespace`) get AWS's names (`aws:eks:namespace`), as a load now stores them.

    A file that holds such a line is rewritten; every month is then attributed afresh (its
    stored fingerprints are dropped: a selector may match lines it did not).
    """
    tags, tags_raw = _renamed_tags_sql()
    keys = "[" + ", ".join(f"'{k}'" for k in SPLIT_TAG_KEYS) + "]"
    found = f"{_CUR_LINE} AND list_has_any(map_keys(tags), {keys})"
    if _rewrite_where(con, "provider = 'AWS'", found, f"{tags}, {tags_raw}"):
        warehouse.execute(con, "DELETE FROM _attributed_months")


def tag_text_everywhere(con: Connection) -> None:
    """Migration: every tagged line holds its tag text (`tags_raw`; the map's JSON where a
    load kept only the map), as loads now write it: the fold groups lines by that text alone
    and need not read the maps."""
    _rewrite_where(
        con,
        "true",
        "tags_raw IS NULL AND tags IS NOT NULL",
        "coalesce(tags_raw, to_json(tags)::VARCHAR) AS tags_raw",
    )
