"""Reading a CUR delivery with split cost allocation data (`roi.connectors.cur_split`): which of
its instance-hours have pods, found by a light read of every part before any is read in full
(a pod's instance may be billed in another part), and the pods' rows and instance lines held
until the whole delivery is read."""

from __future__ import annotations

import csv
import gzip
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import polars as pl

from roi.connectors.cur_split import HELPERS, KEY, allocate, hold, instance_line
from roi.connectors.native_billing import camel_to_snake, number_or_zero, text_or_null
from roi.errors import SourceError
from roi.loading.files import list_files
from roi.loading.parsing import Parsed, parse_columns
from roi.loading.rejects import empty_rejects

# The columns a survey reads (CUR 2.0 names; legacy ones are renamed the same way).
SURVEYED = (
    "bill_payer_account_id",
    "bill_billing_period_start_date",
    "line_item_usage_start_date",
    "line_item_resource_id",
    "line_item_line_item_type",
    "line_item_operation",
    "product_product_family",
    "split_line_item_parent_resource_id",
)


def helper_columns(frame: pl.DataFrame) -> dict[str, pl.Expr]:
    """The columns (`HELPERS`) a CUR reader adds to read split rows: none without them."""
    if "split_line_item_parent_resource_id" not in frame.columns:
        return {}
    parent = text_or_null(frame, "split_line_item_parent_resource_id").str.strip_chars()
    return {
        "_parent_id": pl.when(parent != "").then(parent),
        "_split_weight": number_or_zero(frame, "split_line_item_split_cost")
        + number_or_zero(frame, "split_line_item_unused_cost"),
        "_kind": pl.col("line_item_line_item_type").cast(pl.String),
        "_operation": text_or_null(frame, "line_item_operation"),
        "_family": text_or_null(frame, "product_product_family"),
    }


def partial_read(
    part: str, folder: str, every: Sequence[Path], read: Sequence[Path]
) -> SourceError:
    """The error for a part of a delivery with split rows read without its other parts."""
    others = ", ".join(p.name for p in every if p not in read)
    return SourceError(
        f"{part}: a part of a delivery with split cost allocation data (pods' rows) read "
        f"without the other parts ({others}); a pod's cost is its instance's, which another "
        f"part may hold: load the whole folder {folder}"
    )


def _header(path: Path) -> list[str]:
    """A file's column names, from its schema or first line (a report without split columns
    costs no more than that)."""
    if path.name.endswith(".parquet"):
        return list(pl.read_parquet_schema(path))
    with path.open("rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    if gzipped:
        with gzip.open(path, "rt", encoding="utf-8-sig") as text:
            first = text.readline()
    else:
        with path.open(encoding="utf-8-sig") as plain:
            first = plain.readline()
    return next(csv.reader([first]), [])


def _survey_file(path: Path, relative: str) -> pl.DataFrame | None:
    """A light read of one file's key columns, or None when it has no split rows column (or
    cannot be read that way: the full read names the problem)."""
    try:
        written = {
            c: camel_to_snake(c.lstrip("\ufeff")) if "/" in c else c.lstrip("\ufeff")
            for c in _header(path)
        }
        chosen = {c: canonical for c, canonical in written.items() if canonical in SURVEYED}
        if "split_line_item_parent_resource_id" not in chosen.values():
            return None
        if path.name.endswith(".parquet"):
            frame = pl.read_parquet(path, columns=list(chosen))
        else:
            frame = pl.read_csv(path, columns=list(chosen), infer_schema=False)
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError, EOFError, csv.Error):
        return None
    frame = frame.rename(chosen)
    for column in SURVEYED:
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.String).alias(column))
    frame = frame.with_columns(
        source_file=pl.lit(relative), source_row=pl.int_range(pl.len(), dtype=pl.Int64)
    )
    frame = parse_columns(
        frame,
        {"bill_billing_period_start_date": "calendar_day", "line_item_usage_start_date": "utc"},
    ).frame
    text = {c: pl.col(c).cast(pl.String).str.strip_chars() for c in SURVEYED}
    parent = pl.when(text["split_line_item_parent_resource_id"] != "").then(
        text["split_line_item_parent_resource_id"]
    )
    resource = pl.when(text["line_item_resource_id"] != "").then(text["line_item_resource_id"])
    return frame.select(
        billing_account_id=text["bill_payer_account_id"],
        billing_period_start=pl.col("bill_billing_period_start_date"),
        charge_period_start=pl.col("line_item_usage_start_date"),
        _instance=pl.coalesce(parent, resource),
        _pod=parent.is_not_null(),
        _line=parent.is_null()
        & instance_line(
            text["line_item_line_item_type"],
            text["line_item_operation"],
            text["product_product_family"],
        ),
    ).filter(pl.col("_pod") | pl.col("_line"))


def survey(paths: Sequence[Path], relative: dict[Path, str]) -> pl.DataFrame | None:
    """The instance-hours of a delivery that have both pods and the instance's own lines (the
    keys `KEY`), or None when no file of it has split rows."""
    found = [f for p in paths if (f := _survey_file(p, relative[p])) is not None]
    if not found:
        return None
    rows = pl.concat(found)
    if not rows["_pod"].any():
        return None
    key = list(KEY)
    pods = rows.filter(pl.col("_pod")).select(key).unique()
    lines = rows.filter(pl.col("_line")).select(key).unique()
    return pods.join(lines, on=key, how="semi", nulls_equal=False)


class SplitDeliveries:
    """A CUR connector's split cost allocation data over one extract: per delivery folder, the
    instance-hours with pods, and the rows held until every part of it is read."""

    def __init__(self) -> None:
        self.matched: dict[Path, pl.DataFrame] = {}
        self.held: dict[Path, tuple[list[pl.DataFrame], list[pl.DataFrame]]] = {}

    def prepare(
        self,
        members: Mapping[Path, list[Path]],
        whole: Mapping[Path, bool],
        relative: Callable[[Path], str],
        suffixes: tuple[str, ...],
    ) -> None:
        """Survey every delivery about to be read.

        Raises:
            SourceError: a part of a delivery with split rows is read without the others.
        """
        self.matched, self.held = {}, {}
        for folder, parts in members.items():
            found = survey(parts, {p: relative(p) for p in parts})
            if found is None:
                continue
            if not whole[folder]:
                every = list_files(folder, str(folder), suffixes, recursive=False)
                raise partial_read(relative(parts[0]), relative(folder), every, parts)
            self.matched[folder] = found

    def read(self, path: Path, read: Parsed) -> Parsed:
        """One file's lines without the rows held for the rest of its delivery."""
        frame = read.frame
        if "_parent_id" not in frame.columns:
            return read
        matched = self.matched.get(path.parent)
        if matched is not None and matched.height:
            frame, pods, lines = hold(frame, matched, read.rejects)
            held = self.held.setdefault(path.parent, ([], []))
            held[0].append(pods)
            held[1].append(lines)
        return Parsed(frame.drop(HELPERS), read.rejects)

    def held_back(self, folder: Path) -> Iterator[Parsed]:
        """The delivery's instance lines split to their pods, once every part was read."""
        pods, lines = self.held.pop(folder, ([], []))
        if not lines:
            return
        every_pod = pl.concat(pods, how="vertical_relaxed")
        every_line = pl.concat(lines, how="vertical_relaxed")
        for part in allocate(every_line, every_pod):
            yield Parsed(part.drop(HELPERS), empty_rejects())
