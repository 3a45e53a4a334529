"""The load protocol: extract → validate → reject → dedupe → one transaction → commit.

In ONE DuckDB transaction the batch is merged into its table by primary key (or replaces the
partitions it covers), the `_loads` row is written and the connector's `_state` cursor advances.
A crash anywhere before COMMIT leaves every table as it was; a rerun of the same input merges
onto identical keys and changes nothing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from roi import schemas, warehouse
from roi.config import ConnectorConfig
from roi.connectors import connector_class
from roi.connectors.base import Extracted, Progress, TableSpec
from roi.connectors.parsing import REJECT_COLUMNS
from roi.errors import ValidationFailed
from roi.warehouse import Connection

# Test seam for fault injection: called inside the transaction after the merge, before COMMIT.
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

    @property
    def changed(self) -> bool:
        """Whether the run wrote anything."""
        return self.load_id is not None


def new_load_id() -> str:
    """A sortable, unique load id: UTC timestamp plus a random suffix."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + uuid.uuid4().hex[:8]


def read_state(con: Connection, connector: str) -> dict[str, Any] | None:
    """The committed cursor of a connector, or None before its first load."""
    row = con.execute("SELECT cursor FROM _state WHERE connector = ?", [connector]).fetchone()
    return json.loads(row[0]) if row else None


def dedupe(frame: pl.DataFrame, key: tuple[str, ...]) -> pl.DataFrame:
    """Keep one row per primary key: the last in (source_file, source_row) order, deterministically."""
    return frame.sort(["source_file", "source_row"]).unique(
        subset=list(key), keep="last", maintain_order=True
    )


def _describe(rejects: pl.DataFrame, total: int) -> str:
    first = rejects.sort(["source_file", "source_row"], nulls_last=True).row(0, named=True)
    where = f"{first['source_file']}"
    if first["source_row"] is not None:
        where += f" row {first['source_row']}"
    value = first["value"]
    shown = f" (value {value!r})" if value is not None and len(str(value)) < 80 else ""
    more = f"; {total - 1} more problem(s) in this batch" if total > 1 else ""
    return (
        f"{where} field {first['column']}: {first['reason']}{shown}{more}; "
        "fix the source file and rerun (nothing was loaded), or set on_reject = \"skip\" in the "
        "connector's TOML to load the valid rows and keep the rest in _rejects"
    )


def _merge_sql(spec: TableSpec, columns: list[str]) -> str:
    on = " AND ".join(f't."{k}" IS NOT DISTINCT FROM s."{k}"' for k in spec.primary_key)
    cols = ", ".join(f'"{c}"' for c in columns)
    vals = ", ".join(f's."{c}"' for c in columns)
    updates = ", ".join(f'"{c}" = s."{c}"' for c in columns if c not in spec.primary_key)
    return (
        f'MERGE INTO "{spec.name}" AS t USING _staging AS s ON {on} '
        f"WHEN MATCHED THEN UPDATE SET {updates} "
        f"WHEN NOT MATCHED THEN INSERT ({cols}) VALUES ({vals})"
    )


def _target_columns(con: Connection, table: str) -> list[str]:
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
        "ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return [r[0] for r in rows]


def _write(
    con: Connection, spec: TableSpec, batch: pl.DataFrame, load_id: str
) -> tuple[int, int]:
    """Merge or partition-replace `batch` into the target; return (rows written, rows replaced)."""
    columns = [c for c in _target_columns(con, spec.name) if c in batch.columns or c == "_load_id"]
    staged = batch.with_columns(pl.lit(load_id).alias("_load_id")).select(columns)
    warehouse.register(con, "_staging", staged)
    try:
        replaced = 0
        if spec.replace_by:
            parts = staged.select(spec.replace_by).unique()
            warehouse.register(con, "_partitions", parts)
            on = " AND ".join(f't."{k}" IS NOT DISTINCT FROM p."{k}"' for k in spec.replace_by)
            exists = f"EXISTS (SELECT 1 FROM _partitions p WHERE {on})"
            replaced = int(
                warehouse.fetch_one(con, f'SELECT count(*) FROM "{spec.name}" t WHERE {exists}')[0]
            )
            con.execute(f'DELETE FROM "{spec.name}" t WHERE {exists}')
            cols = ", ".join(f'"{c}"' for c in columns)
            con.execute(f'INSERT INTO "{spec.name}" ({cols}) SELECT {cols} FROM _staging')
            warehouse.unregister(con, "_partitions")
        else:
            con.execute(_merge_sql(spec, columns))
        return staged.height, replaced
    finally:
        warehouse.unregister(con, "_staging")


def load_connector(
    con: Connection, config: ConnectorConfig, root: Path, progress: Progress
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
    progress(f"{config.name}: reading {config.type} from {config.path or config.url}")
    extracted: Extracted = connector.extract(state, progress)
    frame = extracted.frame
    if not extracted.files and state is not None and extracted.cursor == state:
        progress(f"{config.name}: nothing new ({extracted.skipped_files} file(s) unchanged)")
        return LoadResult(config.name, None, spec.name, 0, 0, 0, 0, 0, extracted.skipped_files)

    check_rejects = schemas.validate(spec.name, frame) if frame.height else pl.DataFrame(
        schema=REJECT_COLUMNS
    )
    rejects = pl.concat([extracted.rejects, check_rejects]).unique(maintain_order=True)
    if rejects.height and (config.on_reject == "fail" or rejects["source_row"].is_null().any()):
        raise ValidationFailed(_describe(rejects, rejects.height))
    if rejects.height:
        bad = rejects.select("source_file", "source_row").unique()
        frame = frame.join(bad, on=["source_file", "source_row"], how="anti")
        progress(f"{config.name}: skipped {bad.height} rejected row(s); see table _rejects")
    batch = dedupe(frame, spec.primary_key)

    load_id = new_load_id()
    with warehouse.transaction(con):
        written, replaced = _write(con, spec, batch, load_id) if batch.height else (0, 0)
        if rejects.height:
            rej = rejects.with_columns(
                load_id=pl.lit(load_id),
                connector=pl.lit(config.name),
                rejected_at=pl.lit(started),
            )
            warehouse.register(con, "_new_rejects", rej)
            con.execute(
                'INSERT INTO _rejects (load_id, connector, source_file, source_row, "column", '
                "value, reason, rejected_at) SELECT load_id, connector, source_file, source_row, "
                '"column", value, reason, rejected_at FROM _new_rejects'
            )
            warehouse.unregister(con, "_new_rejects")
        cursor_json = json.dumps(extracted.cursor, sort_keys=True)
        con.execute(
            "INSERT INTO _loads VALUES (?, ?, ?, ?, ?, ?, 'completed', ?, ?, ?, ?, ?, ?)",
            [
                load_id, config.name, config.type, spec.name, started, datetime.now(UTC),
                extracted.frame.height, written, rejects.height, replaced,
                json.dumps(extracted.files), cursor_json,
            ],
        )
        con.execute(
            "INSERT OR REPLACE INTO _state VALUES (?, ?, ?, ?)",
            [config.name, cursor_json, load_id, datetime.now(UTC)],
        )
        for hook in before_commit_hooks:
            hook()
    progress(
        f"{config.name}: loaded {written} row(s) into {spec.name} from {len(extracted.files)} "
        f"file(s) (load {load_id})"
    )
    return LoadResult(
        config.name, load_id, spec.name, extracted.frame.height, written, rejects.height,
        replaced, len(extracted.files), extracted.skipped_files,
    )


def load_all(
    con: Connection,
    connectors: tuple[ConnectorConfig, ...],
    root: Path,
    progress: Progress,
    names: list[str] | None = None,
) -> list[LoadResult]:
    """Load the named connectors (default: every enabled one), one transaction each."""
    chosen = [c for c in connectors if c.name in names] if names else [
        c for c in connectors if c.enabled
    ]
    return [load_connector(con, c, root, progress) for c in chosen]
