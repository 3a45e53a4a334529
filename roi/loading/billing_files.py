"""A billing load's Parquet files, written before its transaction (`roi.warehouse.cost_store`
keeps them once the load commits)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from roi import warehouse
from roi.loading.parsing import map_distinct
from roi.tables import COST_LINES, TAG_ENTRY, arrow_schema, polars_type
from roi.warehouse import Connection
from roi.warehouse.cost_store import CODEC, FOLDER, PARTITION, StoredFile, data_dir, refresh_view

WRITERS = min(os.cpu_count() or 1, 4)
# Min/max statistics only where readers filter ranges (months): those of every text column
# were a sixth of the write.
STATISTICS = ["billing_period_start", "billing_period_end", "charge_period_start"]
# Dictionary pages for text and the billing period only: amounts, quantities, row numbers and
# charge times rarely repeat, and trying a dictionary on them (then falling back) was a sixth
# of the write.
DICTIONARY = [
    name
    for name, kind in COST_LINES.types.items()
    if kind == "VARCHAR" or kind.startswith("MAP") or name.startswith("billing_period_")
]


# Polars hands its text to Arrow as string views without a copy, and pyarrow encodes views
# faster than the large strings a plain `to_arrow()` copies them into (1M CUR 2.0 lines in one
# table, best of 3: 0.22 s → 0.04 s to convert, 1.29 s → 0.90 s to write). Parquet stores text
# alike either way.
TEXT_TYPES = (pa.string(), pa.large_string())
WRITE_SCHEMA = pa.schema(
    [
        field.with_type(pa.string_view()) if field.type in TEXT_TYPES else field
        for field in arrow_schema(COST_LINES)
    ]
)


def _tag_entries(tags_json: str | None) -> list[dict[str, str | None]] | None:
    if tags_json is None:
        return None
    return [{"key": k, "value": v} for k, v in json.loads(tags_json).items()]


def _entries_column(frame: pl.DataFrame) -> pl.DataFrame:
    """`tags` (normalised JSON text) → a list of key/value structs, once per distinct value."""
    entries = map_distinct(frame, "tags", "_entries", _tag_entries, pl.List(TAG_ENTRY))
    return entries.drop("tags").rename({"_entries": "tags"})


def _as_map(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A list of key/value structs as an Arrow MAP (what DuckDB reads as MAP(VARCHAR, VARCHAR))."""
    entry = pa.list_(pa.struct([("key", pa.string()), ("value", pa.string())]))
    chunks = []
    for chunk in column.chunks:
        chunk = chunk.cast(entry)
        chunks.append(
            pa.MapArray.from_arrays(
                chunk.offsets,
                chunk.values.field("key"),
                chunk.values.field("value"),
                mask=chunk.is_null(),
            )
        )
    return pa.chunked_array(chunks, type=pa.map_(pa.string(), pa.string()))


def contract_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Checked billing lines in the `cost_lines` contract's columns and Polars types, tags as
    key/value entries (`_whole_delivery` kept where the frame has it).

    A line with tags always keeps their text (`tags_raw`: what the fold groups lines by);
    where a reader gave only the map, its normalised JSON stands in."""
    if frame.schema.get("tags") == pl.String:
        if frame.schema.get("tags_raw", pl.Null) in (pl.String, pl.Null):
            raw = pl.col("tags_raw") if "tags_raw" in frame.columns else pl.lit(None)
            frame = frame.with_columns(pl.coalesce(raw.cast(pl.String), "tags").alias("tags_raw"))
        frame = _entries_column(frame)
    return frame.select(
        *[
            pl.col(name).cast(polars_type(kind))
            if name in frame.columns
            else pl.lit(None, polars_type(kind)).alias(name)
            for name, kind in COST_LINES.types.items()
        ],
        *[c for c in ("_whole_delivery",) if c in frame.columns],
    )


def arrow_table(lines: pl.DataFrame) -> pa.Table:
    """Lines in the contract's columns (`contract_frame`) as the Arrow table a file holds."""
    # Polars' own conversion only: a `select` here would queue behind the next batch's work on
    # Polars' threads (writers run beside the reading).
    table = lines.to_arrow(compat_level=pl.CompatLevel.newest())
    columns = [
        _as_map(table.column(name)) if kind.startswith("MAP") else table.column(name)
        for name, kind in COST_LINES.types.items()
    ]
    return pa.Table.from_arrays(columns, schema=WRITE_SCHEMA)


class BillingStaging:
    """The final Parquet files of one billing load, written before its transaction."""

    def __init__(self, warehouse_path: Path, load_id: str, committed_loads: Iterable[str]) -> None:
        self.data = data_dir(warehouse_path)
        self.load_id = load_id
        self.folder = self.data / FOLDER / load_id
        self.files: list[StoredFile] = []
        self.rows = 0
        self.committed = False
        self._writers: ThreadPoolExecutor | None = None
        self._writing: list[Future[None]] = []
        # Under the writer lock, a load folder the manifest does not know is a killed load's.
        known = set(committed_loads)
        root = self.data / FOLDER
        if root.exists():
            for folder in root.iterdir():
                if folder.is_dir() and folder.name not in known:
                    shutil.rmtree(folder, ignore_errors=True)

    def add(self, frame: pl.DataFrame) -> None:
        """Write one checked batch: one file per billing partition and delivery in it."""
        if not frame.height:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        # Tags and types once per batch, not once per file (1M CUR lines in 48 files: with the
        # split, 0.75 s → 0.58 s, CPU 1.5 s → 0.9 s).
        frame = contract_frame(frame)
        parts = frame.partition_by([*PARTITION, "delivery", "source_file"], maintain_order=True)
        names = [
            f"{FOLDER}/{self.load_id}/{len(self.files) + i:05d}.parquet"
            for i in range(1, len(parts) + 1)
        ]
        # Encoding Parquet is most of a load's time and pyarrow does it outside the GIL: the
        # partitions are written side by side, one thread per core, while the next batch is
        # read and checked (one batch in flight: memory stays two batches').
        self.finish()
        if self._writers is None:
            self._writers = ThreadPoolExecutor(WRITERS, thread_name_prefix="roi-billing-writer")
        self._writing = [
            self._writers.submit(self._write, part, name)
            for part, name in zip(parts, names, strict=True)
        ]
        for part, name in zip(parts, names, strict=True):
            first = part.row(0, named=True)
            whole = "_whole_delivery" in part.columns and bool(part["_whole_delivery"].all())
            self.files.append(
                StoredFile(
                    file=name,
                    load_id=self.load_id,
                    provider=first["provider"],
                    billing_account_id=first["billing_account_id"],
                    billing_period_start=first["billing_period_start"],
                    export=first["export"],
                    delivery=first["delivery"],
                    part=Path(first["source_file"]).name,
                    source_file=first["source_file"],
                    lines=part.height,
                    whole_delivery=whole,
                )
            )
            self.rows += part.height

    def finish(self) -> None:
        """Wait for the files being written; a writer's error is raised here."""
        writing, self._writing = self._writing, []
        for future in writing:
            future.result()

    def _write(self, part: pl.DataFrame, name: str) -> None:
        """One partition as a Parquet file of the contract's columns."""
        pq.write_table(
            arrow_table(part),
            self.data / name,
            compression=CODEC,
            write_statistics=STATISTICS,
            use_dictionary=DICTIONARY,
        )

    def manifest(self) -> pl.DataFrame:
        """The files as `_cost_files` rows."""
        return pl.DataFrame(
            [f.__dict__ for f in self.files],
            schema={
                "file": pl.String,
                "load_id": pl.String,
                "provider": pl.String,
                "billing_account_id": pl.String,
                "billing_period_start": pl.Datetime("us", "UTC"),
                "export": pl.String,
                "delivery": pl.String,
                "part": pl.String,
                "source_file": pl.String,
                "lines": pl.Int64,
                "whole_delivery": pl.Boolean,
            },
        )

    def cleanup(self) -> None:
        """Remove the files unless the load committed (then the manifest owns them)."""
        if self._writers is not None:  # a failed load: let its writes end before removing
            self._writers.shutdown(wait=True, cancel_futures=True)
            self._writers = None
        if not self.committed:
            shutil.rmtree(self.folder, ignore_errors=True)


def store_lines(con: Connection, frame: pl.DataFrame, load_id: str) -> int:
    """Add billing lines to `cost_lines` directly (for tests and tools; loads use connectors).

    `frame` holds `cost_lines` columns (tags as normalised JSON text); it is written as one file
    per partition, listed in the manifest and the view is refreshed, in one transaction.
    """
    path = warehouse.database_file(con)
    known = {
        str(r[0]) for r in warehouse.fetch_all(con, "SELECT DISTINCT load_id FROM _cost_files")
    }
    staging = BillingStaging(path, load_id, known | {load_id})
    if "tags_raw" not in frame.columns and "tags" in frame.columns:
        frame = frame.with_columns(pl.col("tags").alias("tags_raw"))
    staging.add(frame.with_columns(pl.lit(load_id).alias("_load_id")))
    staging.finish()
    with warehouse.transaction(con):
        with warehouse.registered(con, "_stored_files", staging.manifest()):
            warehouse.execute(con, "INSERT INTO _cost_files BY NAME SELECT * FROM _stored_files")
        refresh_view(con, staging.data)
    staging.committed = True
    return staging.rows
