"""FOCUS billing exports (1.0, 1.1, 1.2, 1.3; any provider) → `cost_lines`.

Reads CSV (optionally gzip, with or without BOM) and Parquet exactly as providers deliver them:
headers matched case-insensitively with the FOCUS renames, literal NULL/null/empty as null,
timestamps with or without `T`/`Z`, E-notation amounts, Tags as JSON text.

Providers re-deliver a whole billing period when they correct it. The folder a file sits in is
its *delivery* (AWS: `BILLING_PERIOD=2025-06/<timestamp>/`, Azure: `<start>-<end>/<run>/`) and
the folder above it the *export* the deliveries belong to. Deliveries of one export compete: for
each (provider, billing account, billing period, export) the delivery that sorts last (by folder
name, or by file modification time with `options.delivery_order = "modified_time"`) replaces the
period in the warehouse. Each line keeps its `export` and `delivery`, so an older delivery loaded
later never overwrites a newer one, and two exports of one account (say, one per subscription)
never replace each other. The cursor holds the fingerprint of every file, so unchanged
deliveries are not read again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import polars as pl

from roi.connectors import register
from roi.connectors.base import Connector, SourceSample, changed_files
from roi.connectors.focus_file import (
    KINDS,
    REQUIRED,
    FocusOptions,
    focus_version,
    read_focus_file,
)
from roi.frames import attach
from roi.loading.files import list_files
from roi.loading.parsing import Parsed, parse_columns
from roi.loading.protocol import Batch, Extracted, runs
from roi.loading.rejects import empty_rejects, reject_where
from roi.loading.tags import parse_tags
from roi.progress import Progress
from roi.tables import COST_LINES


def _whole_count(value: Any) -> int | None:
    """A GPU count as a whole, non-negative number, or None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not re.fullmatch(r"\d+(\.0+)?", value):
            return None
        return int(float(value))
    if isinstance(value, int | float) and value >= 0 and float(value).is_integer():
        return int(value)
    return None


def _sku_details(raw: str | None) -> tuple[int | None, str | None, str | None]:
    """(GPU count, instance type, a GPU count that is not a whole number) from a
    SkuPriceDetails JSON object."""
    if not raw:
        return None, None, None
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError:
        return None, None, None
    if not isinstance(obj, dict):
        return None, None, None
    lowered = {str(k).lower(): v for k, v in obj.items()}
    written = lowered.get("gpucount", lowered.get("x_gpucount"))
    gpu = None if written is None else _whole_count(written)
    bad = None if written is None or gpu is not None else str(written)
    it = lowered.get("instancetype")
    return gpu, (str(it) if it is not None else None), bad


GPU_COUNT_REASON = "not a whole number of GPUs; write a count such as 8 (or leave it empty)"


def derive_columns(frame: pl.DataFrame) -> Parsed:
    """Tags to a key/value list; GPU count and instance type from SkuPriceDetails or x_ columns.

    Tags that are not a JSON object, and GPU counts that are not whole numbers, come back as
    rejects naming the row.
    """
    tags = parse_tags(frame, "tags_raw")
    frame = tags.frame.with_columns(pl.col("sku_price_details").cast(pl.String))
    details = frame["sku_price_details"].unique().to_list()
    parsed = [_sku_details(d) for d in details]
    lookup = pl.DataFrame(
        {
            "sku_price_details": details,
            "_gpu": [p[0] for p in parsed],
            "x_instance_type": [p[1] for p in parsed],
            "_gpu_bad": [p[2] for p in parsed],
        },
        schema={
            "sku_price_details": pl.String,
            "_gpu": pl.Int32,
            "x_instance_type": pl.String,
            "_gpu_bad": pl.String,
        },
    )
    if "x_instance_type" in frame.columns:  # a native format names the instance type itself
        frame = frame.rename({"x_instance_type": "_instance_type"})
        lookup = lookup.rename({"x_instance_type": "_sku_instance_type"})
        frame = attach(frame, lookup, "sku_price_details")
        frame = frame.with_columns(
            x_instance_type=pl.coalesce("_instance_type", "_sku_instance_type")
        ).drop("_instance_type", "_sku_instance_type")
    else:
        frame = attach(frame, lookup, "sku_price_details")
    raw = "x_gpu_count_raw"
    if raw in frame.columns:
        text = pl.col(raw).cast(pl.String).str.strip_chars()
        whole = text.str.contains(r"^\d+(\.0+)?$")
        x_gpu: pl.Expr = pl.when(whole).then(text.cast(pl.Float64, strict=False).cast(pl.Int32))
        x_bad: pl.Expr = pl.when(text.is_not_null() & ~whole.fill_null(False)).then(text)
    else:
        x_gpu, x_bad = pl.lit(None, pl.Int32), pl.lit(None, pl.String)
    frame = frame.with_columns(x_gpu_count=pl.coalesce(pl.col("_gpu"), x_gpu), _x_bad=x_bad)
    rejects = pl.concat(
        [
            tags.rejects,
            reject_where(
                frame,
                pl.col("_gpu_bad").is_not_null(),
                "SkuPriceDetails",
                pl.col("_gpu_bad"),
                GPU_COUNT_REASON,
            ),
            reject_where(
                frame,
                pl.col("_x_bad").is_not_null(),
                "x_GpuCount",
                pl.col("_x_bad"),
                GPU_COUNT_REASON,
            ),
        ]
    )
    frame = frame.drop([c for c in ("_gpu", "_gpu_bad", "_x_bad", raw) if c in frame.columns])
    return Parsed(frame, rejects)


DELIVERY_ORDERS = ("folder_name", "modified_time")
_AZURE_RANGE = re.compile(r"\d{8}-\d{8}")


def export_name(folder: Path, declared: str | None = None) -> str:
    """The name of the export a delivery folder belongs to, as the provider wrote it.

    The declared name (`options.export`) wins. Otherwise the provider's layout names it: AWS
    Data Exports write `<export-name>/data/BILLING_PERIOD=YYYY-MM/[<delivery>/]`, Azure cost
    exports `<export-name>/<YYYYMMDD-YYYYMMDD>/<run>/`. Else it is the name of the folder above
    the delivery. Only folder names count, never where the tree is mounted or copied to.
    """
    if declared:
        return declared
    parts = folder.parts
    for i in range(len(parts) - 1, -1, -1):
        if parts[i].startswith("BILLING_PERIOD="):
            above = parts[:i]
            if above and above[-1] == "data" and len(above) > 1:
                return above[-2]
            return above[-1] if above else parts[i]
        if _AZURE_RANGE.fullmatch(parts[i]) and i > 0:
            return parts[i - 1]
    return folder.parent.name or folder.name


def delivery_version(folder: Path, files: list[Path], order: str) -> str:
    """The text deliveries of one export are ordered by: the folder name, or the files' newest
    modification time (for providers whose run folders are not timestamps)."""
    if order == "modified_time":
        newest = max(p.stat().st_mtime for p in files)
        stamp = datetime.fromtimestamp(newest, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"{stamp} {folder.name}"
    return folder.name


@register
class FocusConnector(Connector):
    """FOCUS cost and usage exports from any provider."""

    type_name = "focus"
    table = COST_LINES
    description = "FOCUS 1.0-1.3 billing export files (CSV, CSV.gz, Parquet) from any provider"
    suffixes: ClassVar[tuple[str, ...]] = (".csv", ".csv.gz", ".parquet")
    Options: ClassVar[type[Any]] = FocusOptions

    @classmethod
    def recognises(cls, sample: SourceSample) -> str | None:
        """FOCUS billing columns."""
        if sample.has("billedcost", "effectivecost", "billingperiodstart", "chargeperiodstart"):
            return f"FOCUS {focus_version(sorted(sample.columns))} billing columns"
        return None

    def read_file(self, path: Path, relative: str) -> Parsed:
        """One file as FOCUS-shaped, warehouse-named columns (text or typed), with the rows
        whose source values could not be read as rejects. Native formats override this."""
        return Parsed(read_focus_file(path, relative, self.options), empty_rejects())

    def delivery_of(self, folder: Path, files: list[Path]) -> str:
        """The text a delivery folder's deliveries are ordered by (`delivery_order`)."""
        return delivery_version(folder, files, self.options.delivery_order)

    def check_deliveries(self, members: Mapping[Path, list[Path]]) -> None:
        """Check each delivery about to be read is whole (a native format's manifest)."""

    def prepare_deliveries(
        self, members: Mapping[Path, list[Path]], whole: Mapping[Path, bool]
    ) -> None:
        """Look over each delivery about to be read before any of its files is (a native
        format whose lines refer to lines in other files of the delivery)."""

    def held_back(self, folder: Path) -> Iterator[Parsed]:
        """Lines of a delivery that could only be made once all its files were read (after
        them, one frame per source file)."""
        return iter(())

    def extract(self, state: Mapping[str, Any] | None, progress: Progress) -> Extracted:
        """Read every file of each delivery (folder) that has a new or changed file."""
        declared = self.options.export
        files = self.input_files()
        changed, fingerprints = changed_files(files, state, self.relative)
        # A delivery whose file changed, or lost a file, is read again whole.
        vanished = {
            (self.root / known).parent.resolve()
            for known in (state or {}).get("files", {})
            if known not in fingerprints
        }
        deliveries = {p.parent for p in changed} | {
            p.parent for p in files if p.parent.resolve() in vanished
        }
        to_read = [p for p in files if p.parent in deliveries]
        members: dict[Path, list[Path]] = {}
        for path in to_read:
            members.setdefault(path.parent, []).append(path)
        # A delivery read whole replaces every part stored for it; a single part file (one
        # `roi ingest` of a part) replaces only itself.
        whole = {
            folder: set(parts)
            == set(list_files(folder, str(folder), self.suffixes, recursive=False))
            for folder, parts in members.items()
        }
        self.check_deliveries(members)

        def labelled(read: Parsed, folder: Path) -> Parsed:
            frame = read.frame.with_columns(
                export=pl.lit(export_name(folder, declared)),
                delivery=pl.lit(self.delivery_of(folder, members[folder])),
                _whole_delivery=pl.lit(whole[folder]),
            )
            return Parsed(frame, read.rejects)

        def batch(reads: list[Parsed]) -> Batch:
            read = reads[0]
            if len(reads) > 1:  # small files of one shape: parsed once
                frames, read_rejects = [r.frame for r in reads], [r.rejects for r in reads]
                read = Parsed(pl.concat(frames), pl.concat(read_rejects))
            parsed = parse_columns(read.frame, KINDS, required=REQUIRED)
            derived = derive_columns(parsed.frame)
            rejects = pl.concat([read.rejects, parsed.rejects, derived.rejects])
            return Batch(derived.frame, rejects)

        def reads() -> Iterator[Parsed]:
            self.prepare_deliveries(members, whole)
            for path in progress.track(to_read, f"{self.config.name}: reading"):
                yield labelled(self.read_file(path, self.relative(path)), path.parent)
            for folder in members:
                for read in self.held_back(folder):
                    yield labelled(read, folder)

        def batches() -> Iterator[Batch]:
            for run in runs(reads(), lambda r: r.frame):
                yield batch(run)

        return Extracted(
            batches=batches(),
            files=[self.relative(p) for p in to_read],
            cursor={"files": fingerprints},
            skipped_files=len(files) - len(to_read),
        )
