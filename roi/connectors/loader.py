"""The load protocol: extract → validate → reject → dedupe → one transaction → commit.

In ONE DuckDB transaction the batches are validated and written, the `_loads` row is written and
the connector's `_state` cursor advances. A crash anywhere before COMMIT leaves every table as it
was; a rerun of the same input merges onto identical keys (or replaces the same partitions) and
changes nothing.

Batches are checked one file at a time and staged as Parquet on disk (`staging.py`), so a load
never holds more than a file in memory; the transaction then reads the staged rows once: merge
tables deduplicate and MERGE by key, partition tables (billing exports) insert and drop the rows
a newer delivery replaces (`writers.py`).
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

from roi import warehouse
from roi.config import ConnectorConfig
from roi.connectors import connector_class
from roi.connectors.base import Batch, Extracted
from roi.connectors.deliveries import replace_deliveries
from roi.connectors.parsing import (
    REJECT_COLUMNS,
    duplicate_key_rejects,
    empty_rejects,
    nul_byte_rejects,
)
from roi.connectors.staging import Staging
from roi.connectors.writers import forget_files, merge
from roi.errors import ValidationFailed, WarehouseError
from roi.progress import SILENT, Progress
from roi.tables import Table
from roi.vocabulary import MONEY
from roi.warehouse import Connection
from roi.warehouse.cost_store import BillingStaging, forget_warehouse, remove_files

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


def _checked(
    batch: Batch, spec: Table, config: ConnectorConfig
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Validate one batch; return (rows to write, rejects), or raise when rejects fail the load."""
    frame, table = batch.frame, spec.name
    rejects = pl.concat(
        [batch.rejects, nul_byte_rejects(frame), duplicate_key_rejects(frame, spec.primary_key)]
    )
    if frame.height:
        # A value that did not parse also fails its schema check; report it once.
        from roi import schemas  # pandera (and pandas) load only when a load runs

        checked = schemas.validate(table, frame).join(
            rejects, on=["source_file", "source_row", "column"], how="anti", nulls_equal=True
        )
        rejects = pl.concat([rejects, checked]).unique(maintain_order=True)
    every = pl.concat([rejects, batch.left_out])
    if not every.height:
        return frame, every.with_columns(**_NO_AMOUNT)
    every = _with_amounts(every, frame)
    if config.on_reject == "fail" or every["source_row"].is_null().any():
        raise ValidationFailed(describe_rejects(every))
    bad = rejects.select("source_file", "source_row").unique()
    return frame.join(bad, on=["source_file", "source_row"], how="anti"), every


_NO_AMOUNT = {
    "month": pl.lit(None, pl.Date),
    "amount": pl.lit(None, MONEY),
    "currency": pl.lit(None, pl.String),
}


def _with_amounts(rejects: pl.DataFrame, frame: pl.DataFrame) -> pl.DataFrame:
    """Rejected billing lines keep the month and amount they could be read with, so reports
    can say how much money is missing from the figures."""
    needed = ("billing_period_start", "effective_cost", "billing_currency")
    if not all(c in frame.columns for c in needed):
        return rejects.with_columns(**_NO_AMOUNT)
    values = frame.select(
        "source_file",
        "source_row",
        pl.col("billing_period_start").dt.date().dt.month_start().alias("month"),
        pl.col("effective_cost").cast(MONEY).alias("amount"),
        pl.col("billing_currency").alias("currency"),
    ).unique(["source_file", "source_row"], keep="first")
    return rejects.join(values, on=["source_file", "source_row"], how="left", nulls_equal=True)


def load_connector(
    warehouse_path: Path,
    config: ConnectorConfig,
    root: Path,
    progress: Progress = SILENT,
    memory_limit: str = warehouse.DEFAULT_MEMORY_LIMIT,
) -> LoadResult:
    """Run one connector through the whole load protocol. Call it holding the writer lock.

    Reading, parsing, checking and staging need no warehouse connection, so readers keep
    working meanwhile; the file is opened for writing only for the final transaction (waiting
    for open readers to finish). A warehouse that does not exist yet is created then.

    Raises:
        ValidationFailed: rows failed parsing or validation and the connector's on_reject is
            "fail" (the default); nothing was written.
    """
    connector = connector_class(config.type)(config, root)
    spec = connector.table
    state, committed_loads = _committed_state(warehouse_path, config.name, memory_limit)
    started = datetime.now(UTC)
    extracted = connector.extract(state, progress)
    if not extracted.files and state is not None and extracted.cursor == state:
        progress.info(f"{config.name}: nothing new ({extracted.skipped_files} file(s) unchanged)")
        return LoadResult(config.name, None, spec.name, 0, 0, 0, 0, 0, extracted.skipped_files)

    load_id = new_load_id()
    staging: Staging | BillingStaging = (
        BillingStaging(warehouse_path, load_id, committed_loads)
        if spec.replace_by
        else Staging.for_warehouse(warehouse_path, load_id)
    )
    removed: tuple[str, ...] = ()
    created = not warehouse_path.exists()
    try:
        rejects, extracted_rows = _stage(extracted, staging, spec, config, load_id)
        rejected_rows = (
            rejects.select("source_file", "source_row").n_unique() if rejects.height else 0
        )
        progress.info(f"{config.name}: writing {staging.rows:,} row(s)")
        with warehouse.open_warehouse(
            warehouse_path, memory_limit=memory_limit, wait=warehouse.COMMIT_WAIT_SECONDS
        ) as con:
            if read_state(con, config.name) != state:
                raise WarehouseError(
                    f"connector {config.name} was loaded by another process while this load "
                    "ran; run it again (nothing was written)"
                )
            written, replaced, stale, removed = _write(
                con,
                extracted,
                staging,
                spec,
                config,
                load_id,
                rejects,
                started,
                extracted_rows,
                rejected_rows,
            )
        if isinstance(staging, BillingStaging):
            staging.committed = True
            remove_files(staging.data, removed)
    except BaseException:
        if created:  # a first load that fails leaves no warehouse behind
            forget_warehouse(warehouse_path)
        raise
    finally:
        staging.cleanup()
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


def _committed_state(
    warehouse_path: Path, connector: str, memory_limit: str
) -> tuple[dict[str, Any] | None, set[str]]:
    """A short read-only look: the connector's cursor (None before its first load) and the
    loads whose billing files the warehouse lists."""
    if not warehouse_path.exists():
        return None, set()
    with warehouse.open_warehouse(
        warehouse_path,
        read_only=True,
        memory_limit=memory_limit,
        wait=warehouse.COMMIT_WAIT_SECONDS,
    ) as con:
        loads = {
            str(r[0]) for r in warehouse.fetch_all(con, "SELECT DISTINCT load_id FROM _cost_files")
        }
        return read_state(con, connector), loads


def _write(
    con: Connection,
    extracted: Extracted,
    staging: Staging | BillingStaging,
    spec: Table,
    config: ConnectorConfig,
    load_id: str,
    rejects: pl.DataFrame,
    started: datetime,
    extracted_rows: int,
    rejected_rows: int,
) -> tuple[int, int, tuple[str, ...], tuple[str, ...]]:
    """The load's one transaction: rows, rejects, the `_loads` record and the cursor.

    Returns (rows written, rows replaced, partitions kept as stored, billing files to delete
    after the commit).
    """
    stale: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    with warehouse.transaction(con):
        if not staging.rows:
            written, replaced = 0, 0
            if extracted.replaces_files and not spec.replace_by and extracted.files:
                forget_files(con, spec.name, extracted.files)  # the files hold no rows now
        elif isinstance(staging, BillingStaging):
            outcome = replace_deliveries(con, staging, load_id)
            written, replaced, stale = outcome.written, outcome.replaced, outcome.kept
            removed = outcome.removed_files
        else:
            written, replaced = merge(
                con, spec, staging, extracted.files if extracted.replaces_files else None
            )
        if rejects.height:
            rows = rejects.with_columns(
                load_id=pl.lit(load_id),
                connector=pl.lit(config.name),
                rejected_at=pl.lit(started),
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
    return written, replaced, stale, removed


def _stage(
    extracted: Extracted,
    staging: Staging | BillingStaging,
    spec: Table,
    config: ConnectorConfig,
    load_id: str,
) -> tuple[pl.DataFrame, int]:
    """Check every batch and stage its good rows; return (all rejects, rows extracted).

    Merge tables get a `_seq` column: the order rows were staged in, so that deduplication
    keeps the last row of a key deterministically.
    """
    rejected = [empty_rejects().with_columns(**_NO_AMOUNT)]
    extracted_rows = 0
    for batch in extracted.batches:
        extracted_rows += batch.frame.height
        frame, rejects = _checked(batch, spec, config)
        if rejects.height:
            rejected.append(rejects)
        if not frame.height:
            continue
        frame = frame.with_columns(pl.lit(load_id).alias("_load_id"))
        if not spec.replace_by:
            first = staging.rows
            frame = frame.with_columns(
                pl.int_range(first, first + frame.height, dtype=pl.Int64).alias("_seq")
            )
        staging.add(frame)
    return pl.concat(rejected), extracted_rows


def load_all(
    warehouse_path: Path,
    connectors: tuple[ConnectorConfig, ...],
    root: Path,
    progress: Progress = SILENT,
    names: list[str] | None = None,
    memory_limit: str = warehouse.DEFAULT_MEMORY_LIMIT,
) -> list[LoadResult]:
    """Load the named connectors (default: every enabled one), one transaction each."""
    chosen = (
        [c for c in connectors if c.name in names]
        if names
        else [c for c in connectors if c.enabled]
    )
    return [load_connector(warehouse_path, c, root, progress, memory_limit) for c in chosen]


__all__ = ["REJECT_COLUMNS", "LoadResult", "describe_rejects", "load_all", "load_connector"]
