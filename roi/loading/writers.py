"""How staged rows reach their table inside the load transaction: merge by key (billing lines
replace by delivery instead: `deliveries.py`)."""

from __future__ import annotations

import polars as pl

from roi import warehouse
from roi.loading.staging import Staging
from roi.tables import Table
from roi.warehouse import Connection


def select_list(columns: dict[str, str], available: list[str]) -> tuple[list[str], str]:
    """(target columns, `expr AS "column"` list) to select staged rows `s` into a table.

    MAP columns travel as JSON text and are cast in DuckDB.
    """
    names = [c for c in columns if c in available]
    exprs = [
        (f'CAST(s."{c}"::JSON AS {columns[c]})' if columns[c].startswith("MAP") else f's."{c}"')
        + f' AS "{c}"'
        for c in names
    ]
    return names, ", ".join(exprs)


def quoted(names: list[str]) -> str:
    return ", ".join(f'"{c}"' for c in names)


def staged_columns(con: Connection, staging: Staging) -> list[str]:
    rows = warehouse.fetch_all(con, f"DESCRIBE SELECT * FROM {staging.relation()}", [staging.glob])
    return [str(r[0]) for r in rows]


def merge(
    con: Connection, spec: Table, staging: Staging, reloaded_files: list[str] | None = None
) -> tuple[int, int]:
    """Dedupe staged rows by primary key and MERGE them; return (rows written, rows replaced).

    Which row of a key wins never depends on load history: the last one in (source_file,
    row) order, within the load and against the warehouse (a row from a file that sorts earlier
    does not overwrite one from a later file). Columns in `spec.coalesce` combine instead: a
    null never overwrites a value (GPU utilisation and memory arrive from separate metrics).
    With `reloaded_files`, rows that a re-read file no longer contains are deleted.
    """
    columns = warehouse.table_columns(con, spec.name)
    names, exprs = select_list(columns, staged_columns(con, staging))
    key = ", ".join(f'"{k}"' for k in spec.primary_key)
    combined = [c for c in spec.coalesce if c in names]
    window = (
        f"(PARTITION BY {key} ORDER BY source_file, _seq "
        "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)"
    )
    replace = (
        "REPLACE ("
        + ", ".join(f'last_value("{c}" IGNORE NULLS) OVER {window} AS "{c}"' for c in combined)
        + ")"
        if combined
        else ""
    )
    deduped = f"""SELECT {exprs} FROM (
                SELECT * {replace} FROM {staging.relation()}
                QUALIFY row_number() OVER (
                    PARTITION BY {key} ORDER BY source_file DESC NULLS LAST, _seq DESC) = 1) s"""
    t = f'"{spec.name}"'
    if not int(warehouse.fetch_one(con, f"SELECT count(*) FROM {t}")[0]):
        if not combined and _unique_keys(con, key, staging):
            deduped = f"SELECT {exprs} FROM {staging.relation()} s"
        # An empty table (a first load, a backfill): the rows go straight in.
        warehouse.execute(con, f"INSERT INTO {t} ({quoted(names)}) {deduped}", [staging.glob])
        return int(warehouse.fetch_one(con, f"SELECT count(*) FROM {t}")[0]), 0
    warehouse.execute(con, f"CREATE OR REPLACE TEMP TABLE _deduped AS {deduped}", [staging.glob])
    # `=` on key columns that are never null (a hash join); IS NOT DISTINCT FROM on the others.
    required = {c.name for c in spec.columns if c.required}
    on = " AND ".join(
        f't."{k}" = s."{k}"' if k in required else f't."{k}" IS NOT DISTINCT FROM s."{k}"'
        for k in spec.primary_key
    )
    if reloaded_files:
        forget_files(
            con, spec.name, reloaded_files, f"NOT EXISTS (SELECT 1 FROM _deduped s WHERE {on})"
        )
    newer = "" if combined else " AND coalesce(s.source_file, '') >= coalesce(t.source_file, '')"
    matched, replaced = (
        int(v)
        for v in warehouse.fetch_one(
            con,
            f"SELECT count(*), count(*) FILTER (WHERE true{newer}) "
            f"FROM {t} t JOIN _deduped s ON {on}",
        )
    )
    record_restatements(con, spec, on + newer)
    updates = ", ".join(
        f'"{c}" = coalesce(s."{c}", t."{c}")' if c in combined else f'"{c}" = s."{c}"'
        for c in names
        if c not in spec.primary_key
    )
    values = ", ".join(f's."{c}"' for c in names)
    if matched:
        warehouse.execute(
            con,
            f"MERGE INTO {t} AS t USING _deduped AS s ON {on} "
            f"WHEN MATCHED{newer} THEN UPDATE SET {updates} "
            f"WHEN NOT MATCHED THEN INSERT ({quoted(names)}) VALUES ({values})",
        )
    else:  # only new keys (a first load, new requests): an insert, several times faster
        warehouse.execute(
            con, f"INSERT INTO {t} ({quoted(names)}) SELECT {values} FROM _deduped AS s"
        )
    written = int(warehouse.fetch_one(con, "SELECT count(*) FROM _deduped")[0])
    warehouse.execute(con, "DROP TABLE _deduped")
    return written, replaced


def _unique_keys(con: Connection, key: str, staging: Staging) -> bool:
    """Whether every staged key is there once (a cheap check: deduplicating costs more than
    the insert it precedes)."""
    sql = f"SELECT count(DISTINCT ({key})) = count(*) FROM {staging.relation()}"
    return bool(warehouse.fetch_one(con, sql, [staging.glob])[0])


def record_restatements(con: Connection, spec: Table, on: str) -> None:
    """Log in `_restatements` each value of `spec.restated` that the rows about to be merged
    change for a key the warehouse already holds (a month re-closed by finance)."""
    parts = [f"coalesce(CAST(s.\"{k}\" AS VARCHAR), '-')" for k in spec.primary_key]
    key = " || '|' || ".join(parts)
    for column in spec.restated:
        changed = f't."{column}" IS DISTINCT FROM s."{column}"'
        warehouse.execute(
            con,
            f"""INSERT INTO _restatements
                SELECT s._load_id, ?, {key}, ?, t."{column}", s."{column}", t._load_id,
                       s.source_file
                FROM "{spec.name}" t JOIN _deduped s ON {on}
                WHERE {changed}""",
            [spec.name, column],
        )


def forget_files(con: Connection, table: str, files: list[str], condition: str = "true") -> None:
    """Delete the rows that came from `files` (a workbook's rows are `<file>#<sheet>`)."""
    with warehouse.registered(
        con, "_reloaded", pl.DataFrame({"file": files}, schema={"file": pl.String})
    ):
        warehouse.execute(
            con,
            f"""DELETE FROM "{table}" t WHERE EXISTS (
                    SELECT 1 FROM _reloaded r
                    WHERE t.source_file = r.file OR starts_with(t.source_file, r.file || '#'))
                AND {condition}""",
        )
