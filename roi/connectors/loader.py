"""The load protocol: extract → validate → reject → dedupe → one transaction → commit.

In ONE DuckDB transaction the batches are validated and written, the `_loads` row is written and
the connector's `_state` cursor advances. A crash anywhere before COMMIT leaves every table as it
was; a rerun of the same input merges onto identical keys (or replaces the same partitions) and
changes nothing.

Batches stream through the transaction one file at a time, so a load never holds more than one
file in memory: merge tables stage rows in a temporary table and merge once at the end;
partition tables (billing exports) insert straight into the target, then drop the rows a newer
delivery replaces.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from roi import schemas, warehouse
from roi.config import ConnectorConfig
from roi.connectors import connector_class
from roi.connectors.base import Batch, TableSpec
from roi.connectors.parsing import REJECT_COLUMNS, empty_rejects
from roi.errors import ValidationFailed
from roi.progress import SILENT, Progress
from roi.warehouse import Connection

# Test seam for fault injection: called inside the transaction after the write, before COMMIT.
before_commit_hooks: list[Callable[[], None]] = []


@dataclass(frozen=True)
class LoadResult:
    """What one connector run did."""

    connector: str
    load_id: str | None
    table: str
    rows_extracted: int
    rows_loaded: int
    rows_rejected: int
    rows_replaced: int
    files: int
    skipped_files: int
    stale_partitions: tuple[str, ...] = field(default=())

    @property
    def changed(self) -> bool:
        """Whether the run wrote anything."""
        return self.load_id is not None


def new_load_id() -> str:
    """A sortable, unique load id: UTC timestamp plus a random suffix."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + uuid.uuid4().hex[:8]


def read_state(con: Connection, connector: str) -> dict[str, Any] | None:
    """The committed cursor of a connector, or None before its first load."""
    rows = warehouse.fetch_all(con, "SELECT cursor FROM _state WHERE connector = ?", [connector])
    return json.loads(rows[0][0]) if rows else None


def describe_rejects(rejects: pl.DataFrame) -> str:
    """One line naming the first rejected file/row/field, its value and how to fix it."""
    first = rejects.sort(["source_file", "source_row"], maintain_order=True).row(0, named=True)
    where = f"{first['source_file']}"
    if first["source_row"] is not None:
        where += f" row {first['source_row']}"
    value = first["value"]
    shown = f" (value {value!r})" if value is not None and len(str(value)) < 80 else ""
    total = rejects.height
    more = f"; {total - 1} more problem(s) in this file" if total > 1 else ""
    return (
        f"{where} field {first['column']}: {first['reason']}{shown}{more}; "
        'fix the source and rerun (nothing was loaded), or set on_reject = "skip" in the '
        "connector's TOML to load the valid rows and keep the rest in _rejects"
    )


def _select_list(columns: dict[str, str], available: list[str]) -> tuple[str, str]:
    """(target column list, source expressions) for an INSERT from a registered batch."""
    names = [c for c in columns if c in available]
    exprs = [
        f'map_from_entries(s."{c}")' if columns[c].startswith("MAP") else f's."{c}"' for c in names
    ]
    return ", ".join(f'"{c}"' for c in names), ", ".join(exprs)


class _Writer:
    def __init__(self, con: Connection, spec: TableSpec, load_id: str) -> None:
        self.con = con
        self.spec = spec
        self.load_id = load_id
        self.columns = warehouse.table_columns(con, spec.name)
        self.rows_in = 0

    def add(self, frame: pl.DataFrame) -> None:
        raise NotImplementedError

    def finish(self) -> tuple[int, int, tuple[str, ...]]:
        """Return (rows written, rows replaced, stale partitions skipped)."""
        raise NotImplementedError


class _MergeWriter(_Writer):
    """Stage every batch, dedupe by primary key (last row wins), MERGE once."""

    def __init__(self, con: Connection, spec: TableSpec, load_id: str) -> None:
        super().__init__(con, spec, load_id)
        warehouse.execute(
            con,
            f"CREATE OR REPLACE TEMP TABLE _staging AS SELECT *, 0::BIGINT AS _seq "
            f'FROM "{spec.name}" LIMIT 0',
        )

    def add(self, frame: pl.DataFrame) -> None:
        batch = frame.with_columns(
            pl.lit(self.load_id).alias("_load_id"),
            pl.int_range(self.rows_in, self.rows_in + frame.height, dtype=pl.Int64).alias("_seq"),
        )
        cols, exprs = _select_list({**self.columns, "_seq": "BIGINT"}, batch.columns)
        with warehouse.registered(self.con, "_batch", batch):
            warehouse.execute(
                self.con, f"INSERT INTO _staging ({cols}) SELECT {exprs} FROM _batch s"
            )
        self.rows_in += frame.height

    def finish(self) -> tuple[int, int, tuple[str, ...]]:
        key = ", ".join(f'"{k}"' for k in self.spec.primary_key)
        warehouse.execute(
            self.con,
            "CREATE OR REPLACE TEMP TABLE _deduped AS SELECT * EXCLUDE (_seq) FROM _staging "
            f"QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY _seq DESC) = 1",
        )
        on = " AND ".join(f't."{k}" IS NOT DISTINCT FROM s."{k}"' for k in self.spec.primary_key)
        replaced = int(
            warehouse.fetch_one(
                self.con, f'SELECT count(*) FROM "{self.spec.name}" t JOIN _deduped s ON {on}'
            )[0]
        )
        names = list(self.columns)
        cols = ", ".join(f'"{c}"' for c in names)
        vals = ", ".join(f's."{c}"' for c in names)
        updates = ", ".join(f'"{c}" = s."{c}"' for c in names if c not in self.spec.primary_key)
        warehouse.execute(
            self.con,
            f'MERGE INTO "{self.spec.name}" AS t USING _deduped AS s ON {on} '
            f"WHEN MATCHED THEN UPDATE SET {updates} "
            f"WHEN NOT MATCHED THEN INSERT ({cols}) VALUES ({vals})",
        )
        written = int(warehouse.fetch_one(self.con, "SELECT count(*) FROM _deduped")[0])
        warehouse.execute(self.con, "DROP TABLE _staging")
        warehouse.execute(self.con, "DROP TABLE _deduped")
        return written, replaced, ()


class _PartitionWriter(_Writer):
    """Insert batches into the target, then keep only the newest delivery of each partition."""

    def add(self, frame: pl.DataFrame) -> None:
        batch = frame.with_columns(pl.lit(self.load_id).alias("_load_id"))
        cols, exprs = _select_list(self.columns, batch.columns)
        with warehouse.registered(self.con, "_batch", batch):
            warehouse.execute(
                self.con, f'INSERT INTO "{self.spec.name}" ({cols}) SELECT {exprs} FROM _batch s'
            )
        self.rows_in += frame.height

    def finish(self) -> tuple[int, int, tuple[str, ...]]:
        t = f'"{self.spec.name}"'
        keys = ", ".join(f'"{k}"' for k in self.spec.replace_by)
        on = " AND ".join(f't."{k}" = p."{k}"' for k in self.spec.replace_by)
        params = [self.load_id]
        warehouse.execute(
            self.con,
            f"""CREATE OR REPLACE TEMP TABLE _parts AS
            WITH new AS (SELECT {keys}, max(delivery) AS new_delivery FROM {t}
                         WHERE _load_id = ? GROUP BY ALL),
                 old AS (SELECT {keys}, max(delivery) AS old_delivery, count(*) AS old_rows
                         FROM {t} t SEMI JOIN new p ON {on}
                         WHERE t._load_id <> ? GROUP BY ALL)
            SELECT new.*, old.old_delivery, coalesce(old.old_rows, 0) AS old_rows,
                   old.old_delivery IS NULL OR new.new_delivery >= old.old_delivery AS wins
            FROM new LEFT JOIN old USING ({keys})""",
            params + params,
        )
        replaced = int(
            warehouse.fetch_one(
                self.con, "SELECT coalesce(sum(old_rows), 0) FROM _parts WHERE wins"
            )[0]
        )
        stale = tuple(
            " ".join(str(v) for v in row[:-2])
            + f" (delivery {row[-2]!r} is older than {row[-1]!r})"
            for row in warehouse.fetch_all(
                self.con, f"SELECT {keys}, new_delivery, old_delivery FROM _parts WHERE NOT wins"
            )
        )
        warehouse.execute(
            self.con,
            f"""DELETE FROM {t} t USING _parts p WHERE {on} AND (
                  (p.wins AND (t._load_id <> ? OR t.delivery <> p.new_delivery))
                  OR (NOT p.wins AND t._load_id = ?))""",
            params + params,
        )
        written = int(
            warehouse.fetch_one(self.con, f"SELECT count(*) FROM {t} WHERE _load_id = ?", params)[0]
        )
        warehouse.execute(self.con, "DROP TABLE _parts")
        return written, replaced, stale


def _checked(
    batch: Batch, table: str, config: ConnectorConfig
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Validate one batch; return (rows to write, rejects), or raise when rejects fail the load."""
    frame = batch.frame
    rejects = batch.rejects
    if frame.height:
        # A value that did not parse also fails its schema check; report it once.
        checked = schemas.validate(table, frame).join(
            rejects, on=["source_file", "source_row", "column"], how="anti", nulls_equal=True
        )
        rejects = pl.concat([rejects, checked]).unique(maintain_order=True)
    if not rejects.height:
        return frame, rejects
    if config.on_reject == "fail" or rejects["source_row"].is_null().any():
        raise ValidationFailed(describe_rejects(rejects))
    bad = rejects.select("source_file", "source_row").unique()
    return frame.join(bad, on=["source_file", "source_row"], how="anti"), rejects


def load_connector(
    con: Connection, config: ConnectorConfig, root: Path, progress: Progress = SILENT
) -> LoadResult:
    """Run one connector through the whole load protocol on an open write connection.

    Raises:
        ValidationFailed: rows failed parsing or validation and the connector's on_reject is
            "fail" (the default); nothing was written.
    """
    connector = connector_class(config.type)(config, root)
    spec = connector.table
    state = read_state(con, config.name)
    started = datetime.now(UTC)
    extracted = connector.extract(state, progress)
    if not extracted.files and state is not None and extracted.cursor == state:
        progress.info(f"{config.name}: nothing new ({extracted.skipped_files} file(s) unchanged)")
        return LoadResult(config.name, None, spec.name, 0, 0, 0, 0, 0, extracted.skipped_files)

    load_id = new_load_id()
    rejected = [empty_rejects()]
    extracted_rows = 0
    with warehouse.transaction(con):
        writer: _Writer = (
            _PartitionWriter(con, spec, load_id)
            if spec.replace_by
            else _MergeWriter(con, spec, load_id)
        )
        for batch in extracted.batches:
            extracted_rows += batch.frame.height
            frame, rejects = _checked(batch, spec.name, config)
            if rejects.height:
                rejected.append(rejects)
            if frame.height:
                writer.add(frame)
        written, replaced, stale = writer.finish()
        rejects = pl.concat(rejected)
        rejected_rows = (
            rejects.select("source_file", "source_row").n_unique() if rejects.height else 0
        )
        if rejects.height:
            rows = rejects.with_columns(
                load_id=pl.lit(load_id), connector=pl.lit(config.name), rejected_at=pl.lit(started)
            )
            with warehouse.registered(con, "_new_rejects", rows):
                warehouse.execute(con, "INSERT INTO _rejects BY NAME SELECT * FROM _new_rejects")
        cursor_json = json.dumps(extracted.cursor, sort_keys=True)
        warehouse.execute(
            con,
            "INSERT INTO _loads VALUES (?, ?, ?, ?, ?, ?, 'completed', ?, ?, ?, ?, ?, ?)",
            [
                load_id,
                config.name,
                config.type,
                spec.name,
                started,
                datetime.now(UTC),
                extracted_rows,
                written,
                rejected_rows,
                replaced,
                json.dumps(extracted.files),
                cursor_json,
            ],
        )
        warehouse.execute(
            con,
            "INSERT OR REPLACE INTO _state VALUES (?, ?, ?, ?)",
            [config.name, cursor_json, load_id, datetime.now(UTC)],
        )
        for hook in before_commit_hooks:
            hook()
    if rejected_rows:
        progress.info(f"{config.name}: skipped {rejected_rows} rejected row(s); see table _rejects")
    for part in stale:
        progress.info(f"{config.name}: kept the stored data for {part}")
    progress.info(
        f"{config.name}: loaded {written:,} row(s) into {spec.name} from "
        f"{len(extracted.files)} file(s) (load {load_id})"
    )
    return LoadResult(
        config.name,
        load_id,
        spec.name,
        extracted_rows,
        written,
        rejected_rows,
        replaced,
        len(extracted.files),
        extracted.skipped_files,
        stale,
    )


def load_all(
    con: Connection,
    connectors: tuple[ConnectorConfig, ...],
    root: Path,
    progress: Progress = SILENT,
    names: list[str] | None = None,
) -> list[LoadResult]:
    """Load the named connectors (default: every enabled one), one transaction each."""
    chosen = (
        [c for c in connectors if c.name in names]
        if names
        else [c for c in connectors if c.enabled]
    )
    return [load_connector(con, c, root, progress) for c in chosen]


__all__ = ["REJECT_COLUMNS", "LoadResult", "describe_rejects", "load_all", "load_connector"]
