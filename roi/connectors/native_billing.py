"""What the native billing formats (AWS CUR, Azure cost details, GCP billing export, OCI cost
reports) share: each maps its own columns onto the FOCUS-shaped `cost_lines` contract and then
loads exactly as a FOCUS export does (deliveries, part files, re-issued months, rejects).

A native reader parses its source columns under their own names first, so a value that cannot
be read is a reject naming the column as the provider wrote it (`lineItem/UnblendedCost`), then
builds the warehouse's columns from the typed values.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import polars as pl

from roi.connectors.base import changed_files
from roi.connectors.focus import FocusConnector, delivery_version, derive_columns, export_name
from roi.connectors.focus_file import COLUMNS
from roi.connectors.focus_file import KINDS as FOCUS_KINDS
from roi.connectors.focus_file import REQUIRED as FOCUS_REQUIRED
from roi.errors import SourceError
from roi.loading.csv_text import read_csv_text
from roi.loading.parsing import Parsed, null_if_token, parse_columns, read_parquet_rows
from roi.loading.protocol import Batch, Extracted
from roi.progress import Progress
from roi.tables import COST_LINES

# Every warehouse column a FOCUS reader fills (what a native reader must fill too, or leave null).
FOCUS_COLUMNS = tuple(COLUMNS.values())


@dataclass(frozen=True)
class NativeOptions:
    """`[options]` of a native billing connector."""

    export: str | None = None  # the export's name when the folder layout does not say it
    delivery_order: Literal["folder_name", "modified_time"] = "folder_name"


def read_columns(path: Path, wanted: Mapping[str, str]) -> pl.DataFrame | None:
    """A light read of a few columns (`wanted`: lower-case name → the name to give it) as text,
    for a survey; None when the file cannot be read that way (the full read says why)."""
    try:
        if path.name.endswith(".parquet"):
            names = {c.lower(): c for c in pl.read_parquet_schema(path)}
            chosen = {names[w]: alias for w, alias in wanted.items() if w in names}
            frame = pl.read_parquet(path, columns=list(chosen))
        else:
            columns = pl.read_csv(path, n_rows=0, infer_schema=False).columns
            names = {c.lower().lstrip("\ufeff"): c for c in columns}
            chosen = {names[w]: alias for w, alias in wanted.items() if w in names}
            frame = pl.read_csv(path, columns=list(chosen), infer_schema=False)
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError):
        return None
    return frame.rename(chosen).with_columns(pl.all().cast(pl.String))


def read_source(path: Path, relative: str) -> pl.DataFrame:
    """A native export file (CSV, CSV.gz or Parquet) as the provider wrote it, with
    `source_row` and `source_file`; placeholder text is null.

    Raises:
        SourceError: the file cannot be read or holds no billing lines.
    """
    if path.name.endswith(".parquet"):
        frame = read_parquet_rows(path, relative).with_columns(source_file=pl.lit(relative))
    else:
        frame = read_csv_text(path, relative).with_columns(source_file=pl.lit(relative))
        text = [c for c, t in frame.schema.items() if t == pl.String and c != "source_file"]
        frame = frame.with_columns(null_if_token(text))
    if not frame.height:
        raise SourceError(
            f"{relative}: a header row and no billing lines; re-export it (an export with "
            "nothing in it is usually a failed one)"
        )
    return frame


def require(frame: pl.DataFrame, relative: str, columns: Sequence[str], what: str) -> None:
    """Raise naming the mandatory source columns the file lacks.

    Raises:
        SourceError: a mandatory column is missing.
    """
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SourceError(
            f"{relative}: missing {what} column(s) {', '.join(missing)}; export the report with "
            "all its standard columns"
        )


def parse_source(frame: pl.DataFrame, kinds: Mapping[str, str], required: Sequence[str]) -> Parsed:
    """Parse source columns under their own names (rejects name them as written)."""
    present = {c: k for c, k in kinds.items() if c in frame.columns}
    return parse_columns(frame, present, required=[c for c in required if c in frame.columns])


def text_or_null(frame: pl.DataFrame, column: str) -> pl.Expr:
    """A source column as text, or null when the export does not have it."""
    if column in frame.columns:
        return pl.col(column).cast(pl.String)
    return pl.lit(None, pl.String)


def number_or_zero(frame: pl.DataFrame, column: str) -> pl.Expr:
    """A parsed money column, 0 where empty or absent (an unused amount is no amount)."""
    if column in frame.columns:
        return pl.col(column).fill_null(0)
    return pl.lit(0).cast(pl.Decimal(38, 10))


def tags_json(frame: pl.DataFrame, keys: Mapping[str, str]) -> pl.Expr:
    """A JSON object of tag key → value from one column per tag (`keys`: column → tag key);
    null values are left out when the tags are read."""
    if not keys:
        return pl.lit(None, pl.String)
    fields = [pl.col(c).cast(pl.String).alias(k) for c, k in keys.items()]
    return pl.struct(fields).struct.json_encode()


def focus_shaped(frame: pl.DataFrame, columns: Mapping[str, pl.Expr], version: str) -> pl.DataFrame:
    """The warehouse's FOCUS-shaped columns from `columns` (warehouse name → expression), the
    rest null, plus the lineage a FOCUS file carries."""
    shaped = frame.select(
        *[columns.get(name, pl.lit(None, pl.String)).alias(name) for name in FOCUS_COLUMNS],
        *[expr.alias(name) for name, expr in columns.items() if name not in FOCUS_COLUMNS],
        "source_row",
        "source_file",
    )
    return shaped.with_columns(focus_version=pl.lit(version))


def camel_to_snake(name: str) -> str:
    """`lineItem/UnblendedCost` → `line_item_unblended_cost`, the way CUR 2.0 renamed the
    legacy columns (every capital starts a word: `SavingsPlanARN` → `savings_plan_a_r_n`)."""
    parts = [re.sub(r"([A-Z])", r"_\1", part).lower().strip("_") for part in name.split("/")]
    return "_".join(parts)


class NativeBilling(FocusConnector):
    """A billing format that is not FOCUS, loaded through the FOCUS machinery.

    A format whose lines depend on each other across files (Azure's actual and amortized views,
    OCI's corrections) sets `reads_together`: when any file changed, every file is read again
    as one delivery: first a light `survey` of each, then each file in turn, `combine`d with
    what the surveys found.
    """

    table = COST_LINES
    Options: ClassVar[type[Any]] = NativeOptions
    reads_together: ClassVar[bool] = False

    def read_file(self, path: Path, relative: str) -> Parsed:  # pragma: no cover - abstract
        """One native file as FOCUS-shaped warehouse columns (see FocusConnector.read_file)."""
        raise NotImplementedError

    def survey(self, path: Path, relative: str) -> pl.DataFrame:
        """What `combine` must know of one file before any file's lines count (a first,
        light pass over every file; see `reads_together`)."""
        return pl.DataFrame()

    def survey_read(self, frame: pl.DataFrame, relative: str) -> pl.DataFrame:
        """What `survey` finds, told from the file's full read (`read_file`'s frame)."""
        return pl.DataFrame()

    def read_order(self, files: list[Path]) -> list[Path] | None:
        """An order of `files` in which each file's lines depend only on the files before it,
        when one is known without reading them: then each file is surveyed from its own read
        and there is no first pass. None: every file is surveyed first. A file alone depends
        on nothing."""
        return files if len(files) == 1 else None

    def combine(self, frame: pl.DataFrame, surveys: pl.DataFrame) -> pl.DataFrame:
        """One file's lines as they count, given every file's survey."""
        return frame

    def extract(self, state: Mapping[str, Any] | None, progress: Progress) -> Extracted:
        """Per delivery (FocusConnector); or, when the lines of one file depend on another's,
        every file: a survey of them all, then each file read and combined in turn (memory
        stays one file's). Where an order is known in which each file depends only on those
        before it (`read_order`), each is surveyed from its own read instead (no second pass)."""
        if not self.reads_together:
            return super().extract(state, progress)
        files = self.input_files()
        changed, fingerprints = changed_files(files, state, self.relative)
        vanished = set((state or {}).get("files", {})) - set(fingerprints)
        to_read = files if changed or vanished else []

        def batches() -> Iterator[Batch]:
            if not to_read:
                return
            order = self.read_order(to_read)
            # Without a first pass the surveys grow from each file's own read, in `order`.
            surveys = pl.DataFrame()
            if order is None:
                first = [self.survey(p, self.relative(p)) for p in to_read]
                surveys = pl.concat(first, how="diagonal_relaxed")
            delivery = self._delivery(to_read)
            for path in progress.track(order or to_read, f"{self.config.name}: reading"):
                relative = self.relative(path)
                read = self.read_file(path, relative)
                if order is not None:
                    surveyed = self.survey_read(read.frame, relative)
                    surveys = pl.concat([surveys, surveyed], how="diagonal_relaxed")
                frame = self.combine(read.frame, surveys)
                parsed = parse_columns(frame, FOCUS_KINDS, required=FOCUS_REQUIRED)
                derived = derive_columns(parsed.frame)
                yield Batch(
                    derived.frame.with_columns(**delivery, _whole_delivery=pl.lit(True)),
                    pl.concat([read.rejects, parsed.rejects, derived.rejects]),
                )

        return Extracted(
            batches=batches(),
            files=[self.relative(p) for p in to_read],
            cursor={"files": fingerprints},
            skipped_files=len(files) - len(to_read),
        )

    def _delivery(self, files: list[Path]) -> dict[str, pl.Expr]:
        """The export and delivery of files read together: the folder above them all, and the
        newest of their folders' delivery versions."""
        folders = sorted({p.parent for p in files})
        order = self.options.delivery_order
        delivery = max(
            delivery_version(f, [p for p in files if p.parent == f], order) for f in folders
        )
        top = folders[0].parent if len(folders) > 1 else folders[0]
        return {
            "export": pl.lit(self.options.export or export_name(top)),
            "delivery": pl.lit(delivery),
        }
