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
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import polars as pl

from roi import warehouse
from roi.config import ConnectorConfig
from roi.context import Context
from roi.errors import WarehouseError
from roi.loading.billing_files import BillingStaging
from roi.loading.checks import NO_AMOUNT, apply_rejects, checked_batch
from roi.loading.deliveries import replace_deliveries
from roi.loading.protocol import STACK_ROWS, Batch, Extracted, Source, read_ahead, runs
from roi.loading.rejects import empty_rejects
from roi.loading.staging import Staging
from roi.loading.writers import forget_files, merge
from roi.tables import INFERENCE_USAGE, Table
from roi.warehouse import Connection
from roi.warehouse.cost_store import forget_warehouse, remove_files

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

    def to_document(self) -> dict[str, Any]:
        """The run as a JSON-ready row (what `roi load` and `roi ingest` print)."""
        return {
            "connector": self.connector,
            "table": self.table,
            "files": self.files,
            "unchanged_files": self.skipped_files,
            "rows_loaded": self.rows_loaded,
            "rows_rejected": self.rows_rejected,
            "rows_replaced": self.rows_replaced,
            "load_id": self.load_id,
        }


def new_load_id() -> str:
    """A sortable, unique load id: UTC timestamp plus a random suffix."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + uuid.uuid4().hex[:8]


def read_state(con: Connection, connector: str) -> dict[str, Any] | None:
    """The committed cursor of a connector, or None before its first load."""
    rows = warehouse.fetch_all(con, "SELECT cursor FROM _state WHERE connector = ?", [connector])
    return json.loads(rows[0][0]) if rows else None


# A step on each checked batch of a table (LLM usage: currency conversion and pricing,
# `roi.loading.usage_pricing`): returns the rows to write and rows it rejects.
Prepare = Callable[[pl.DataFrame], tuple[pl.DataFrame, pl.DataFrame]]


@dataclass(frozen=True)
class _Run:
    """One load in progress: its id, source, target table, start and plan."""

    load_id: str
    config: ConnectorConfig
    table: Table
    started: datetime
    extracted: Extracted
    prepare: Prepare | None = None


def _prepare_step(ctx: Context, source: Source) -> Prepare | None:
    if source.table.name != INFERENCE_USAGE.name:
        return None
    from roi.loading.usage_pricing import LoadPricing  # the price book opens only when needed

    # A source whose rows state their currency (usage events) needs a rate for a foreign one.
    return LoadPricing(ctx.project, strict=getattr(source, "states_currency", False))


def load_source(ctx: Context, source: Source) -> LoadResult:
    """Run one source through the whole load protocol. Call it holding the writer lock.

    Reading, parsing, checking and staging need no warehouse connection, so readers keep
    working meanwhile; the file is opened for writing only for the final transaction (waiting
    for open readers to finish). A warehouse that does not exist yet is created then, and
    removed again if that first load fails.

    Raises:
        ValidationFailed: rows failed parsing or validation and the connector's on_reject is
            "fail" (the default); nothing was written.
    """
    config, table, progress = source.config, source.table, ctx.progress
    state, committed_loads = _committed_state(ctx, config.name)
    started = datetime.now(UTC)
    extracted = source.extract(state, progress)
    if not extracted.files and state is not None and extracted.cursor == state:
        progress.info(f"{config.name}: nothing new ({extracted.skipped_files} file(s) unchanged)")
        return LoadResult(config.name, None, table.name, 0, 0, 0, 0, 0, extracted.skipped_files)
    run = _Run(new_load_id(), config, table, started, extracted, _prepare_step(ctx, source))
    staging: Staging | BillingStaging = (
        BillingStaging(ctx.warehouse, run.load_id, committed_loads)
        if table.replace_by
        else Staging.for_warehouse(ctx.warehouse, run.load_id)
    )
    created = not ctx.warehouse.exists()
    try:
        rejects, extracted_rows = _stage(run, staging)
        progress.info(f"{config.name}: writing {staging.rows:,} row(s)")
        with ctx.committing() as con:
            if read_state(con, config.name) != state:
                raise WarehouseError(
                    f"connector {config.name} was loaded by another process while this load "
                    "ran; run it again (nothing was written)"
                )
            written = _write(con, run, staging, rejects, extracted_rows)
        if isinstance(staging, BillingStaging):
            staging.committed = True
            remove_files(staging.data, written.removed)
    except BaseException:
        if created:  # a first load that fails leaves no warehouse behind
            forget_warehouse(ctx.warehouse)
        raise
    finally:
        staging.cleanup()
    return _report(ctx, run, written, extracted_rows)


def _report(ctx: Context, run: _Run, written: _Written, extracted_rows: int) -> LoadResult:
    name, progress = run.config.name, ctx.progress
    if written.rejected:
        progress.info(f"{name}: skipped {written.rejected} rejected row(s); see table _rejects")
    for part in written.stale:
        progress.info(f"{name}: kept the stored data for {part}")
    progress.info(
        f"{name}: loaded {written.rows:,} row(s) into {run.table.name} from "
        f"{len(run.extracted.files)} file(s) (load {run.load_id})"
    )
    return LoadResult(
        name,
        run.load_id,
        run.table.name,
        extracted_rows,
        written.rows,
        written.rejected,
        written.replaced,
        len(run.extracted.files),
        run.extracted.skipped_files,
        written.stale,
    )


def _committed_state(ctx: Context, connector: str) -> tuple[dict[str, Any] | None, set[str]]:
    """A short read-only look: the connector's cursor (None before its first load) and the
    loads whose billing files the warehouse lists."""
    if not ctx.warehouse.exists():
        return None, set()
    with ctx.reader(wait=warehouse.COMMIT_WAIT_SECONDS) as con:
        loads = {
            str(r[0]) for r in warehouse.fetch_all(con, "SELECT DISTINCT load_id FROM _cost_files")
        }
        return read_state(con, connector), loads


@dataclass(frozen=True)
class _Written:
    """What the transaction wrote: rows, stored rows replaced, rows rejected, partitions kept
    as stored, and billing files to delete after the commit."""

    rows: int
    replaced: int
    rejected: int
    stale: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


def _write(
    con: Connection,
    run: _Run,
    staging: Staging | BillingStaging,
    rejects: pl.DataFrame,
    extracted_rows: int,
) -> _Written:
    """The load's one transaction: rows, rejects, the `_loads` record and the cursor."""
    rejected = rejects.select("source_file", "source_row").n_unique() if rejects.height else 0
    extracted, table, config = run.extracted, run.table, run.config
    with warehouse.transaction(con):
        if not staging.rows:
            written = _Written(0, 0, rejected)
            if extracted.replaces_files and not table.replace_by and extracted.files:
                forget_files(con, table.name, extracted.files)  # the files hold no rows now
        elif isinstance(staging, BillingStaging):
            outcome = replace_deliveries(con, staging, run.load_id)
            written = _Written(
                outcome.written, outcome.replaced, rejected, outcome.kept, outcome.removed_files
            )
        else:
            files = extracted.files if extracted.replaces_files else None
            written = _Written(*merge(con, table, staging, files), rejected)
        if rejects.height:
            rows = rejects.with_columns(
                load_id=pl.lit(run.load_id),
                connector=pl.lit(config.name),
                rejected_at=pl.lit(run.started),
            )
            with warehouse.registered(con, "_new_rejects", rows):
                warehouse.execute(con, "INSERT INTO _rejects BY NAME SELECT * FROM _new_rejects")
        _record(con, run, written, extracted_rows)
        for hook in before_commit_hooks:
            hook()
    return written


def _record(con: Connection, run: _Run, written: _Written, extracted_rows: int) -> None:
    """The `_loads` row and the connector's new cursor."""
    cursor_json = json.dumps(run.extracted.cursor, sort_keys=True)
    warehouse.execute(
        con,
        "INSERT INTO _loads VALUES (?, ?, ?, ?, ?, ?, 'completed', ?, ?, ?, ?, ?, ?)",
        [
            run.load_id,
            run.config.name,
            run.config.type,
            run.table.name,
            run.started,
            datetime.now(UTC),
            extracted_rows,
            written.rows,
            written.rejected,
            written.replaced,
            json.dumps(run.extracted.files),
            cursor_json,
        ],
    )
    warehouse.execute(
        con,
        "INSERT OR REPLACE INTO _state VALUES (?, ?, ?, ?)",
        [run.config.name, cursor_json, run.load_id, datetime.now(UTC)],
    )


def _stage(run: _Run, staging: Staging | BillingStaging) -> tuple[pl.DataFrame, int]:
    """Check every batch and stage its good rows; return (all rejects, rows extracted).

    Merge tables get a `_seq` column: the order rows were staged in, so that deduplication
    keeps the last row of a key deterministically.
    """
    rejected = [empty_rejects().with_columns(**NO_AMOUNT)]
    extracted_rows = 0
    extracted = run.extracted
    reading = (
        read_ahead(extracted.batches) if extracted.read_ahead else (b for b in extracted.batches)
    )
    with closing(reading) as batches:
        for batch in coalesced(batches):
            extracted_rows += batch.frame.height
            frame, rejects = checked_batch(batch, run.table, run.config)
            if run.prepare is not None and frame.height:
                frame, refused = run.prepare(frame)
                frame, refused = apply_rejects(frame, refused, run.config)
                rejects = pl.concat([rejects, refused])
            if rejects.height:
                rejected.append(rejects)
            if not frame.height:
                continue
            frame = frame.with_columns(pl.lit(run.load_id).alias("_load_id"))
            if not run.table.replace_by:
                first = staging.rows
                frame = frame.with_columns(
                    pl.int_range(first, first + frame.height, dtype=pl.Int64).alias("_seq")
                )
            staging.add(frame)
    staging.finish()
    return pl.concat(rejected), extracted_rows


def coalesced(batches: Iterable[Batch], rows: int = STACK_ROWS) -> Iterator[Batch]:
    """The batches, consecutive small ones concatenated (`runs`): checked and staged once."""
    for run in runs(batches, lambda b: b.frame, rows):
        if len(run) == 1:
            yield run[0]
        else:
            yield Batch(
                pl.concat([b.frame for b in run]),
                pl.concat([b.rejects for b in run]),
                pl.concat([b.left_out for b in run]),
            )


def load_sources(ctx: Context, sources: Sequence[Source]) -> list[LoadResult]:
    """Load each source in turn, one transaction each."""
    return [load_source(ctx, source) for source in sources]


__all__ = ["LoadResult", "load_source", "load_sources", "new_load_id", "read_state"]
