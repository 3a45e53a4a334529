"""Typed parsing of raw text columns, with row-level failure records.

Connectors read files as text (so nothing is silently coerced), then parse each column here.
A value that is present but does not parse becomes a reject naming file, row, column and value.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from roi.errors import SourceError

# Placeholders real exports use for "no value" (FOCUS sample: NULL; spec examples: null).
NULL_TOKENS = ("", "NULL", "null", "Null", "N/A", "[N/A]")
REJECT_COLUMNS = {
    "source_file": pl.String,
    "source_row": pl.Int64,
    "column": pl.String,
    "value": pl.String,
    "reason": pl.String,
}
MONEY = pl.Decimal(38, 10)


@dataclass(frozen=True)
class Parsed:
    """A parsed frame plus the rows that failed, as reject records."""

    frame: pl.DataFrame
    rejects: pl.DataFrame


def empty_rejects() -> pl.DataFrame:
    """A reject frame with no rows."""
    return pl.DataFrame(schema=REJECT_COLUMNS)


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes: the fingerprint incremental connectors keep in `_state`."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def list_files(root: Path, spec: str, suffixes: tuple[str, ...]) -> list[Path]:
    """Files named by a connector `path`: a file, a folder (searched recursively) or a glob.

    Raises:
        SourceError: nothing matches.
    """
    target = Path(spec).expanduser()
    target = target if target.is_absolute() else root / target
    if target.is_file():
        return [target]
    if target.is_dir():
        files = sorted(p for p in target.rglob("*") if p.is_file() and p.name.endswith(suffixes))
    else:
        anchor = Path(target.anchor)
        files = sorted(p for p in anchor.glob(str(target.relative_to(anchor))) if p.is_file())
    if not files:
        raise SourceError(
            f"no input files match {spec} (looked for {', '.join(suffixes)} under {target}); "
            "check the connector's path"
        )
    return files


def null_if_token(columns: Iterable[str]) -> list[pl.Expr]:
    """Expressions turning placeholder text (NULL, null, empty, N/A) into real nulls."""
    return [
        pl.when(pl.col(c).str.strip_chars().is_in(NULL_TOKENS))
        .then(None)
        .otherwise(pl.col(c))
        .alias(c)
        for c in columns
    ]


def _utc_expr(col: str) -> pl.Expr:
    s = (
        pl.col(col)
        .str.strip_chars()
        .str.replace("T", " ", literal=True)
        .str.replace(r"Z$", "+00:00")
        .str.replace(r"(\d:\d\d(?:\.\d+)?)([+-]\d\d)$", "${1}${2}:00")
    )
    return pl.coalesce(
        s.str.to_datetime("%Y-%m-%d %H:%M:%S%.f%:z", strict=False, time_unit="us"),
        s.str.to_datetime("%Y-%m-%d %H:%M%:z", strict=False, time_unit="us"),
        s.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", strict=False, time_unit="us").dt.replace_time_zone(
            "UTC"
        ),
        s.str.to_datetime("%Y-%m-%d %H:%M", strict=False, time_unit="us").dt.replace_time_zone("UTC"),
        s.str.to_date("%Y-%m-%d", strict=False).cast(pl.Datetime("us")).dt.replace_time_zone("UTC"),
        s.str.to_datetime("%Y/%m/%d %H:%M:%S%.f", strict=False, time_unit="us").dt.replace_time_zone(
            "UTC"
        ),
    ).dt.convert_time_zone("UTC")


def _number_text(col: str) -> pl.Expr:
    return pl.col(col).str.strip_chars()


PARSERS: Mapping[str, tuple[pl.DataType | None, str]] = {
    "money": (MONEY, "not a decimal number; write plain or E-notation digits, e.g. 12.50"),
    "float": (pl.Float64, "not a number; write plain or E-notation digits, e.g. 0.42"),
    "int": (pl.Int64, "not a whole number"),
    "utc": (None, "not a date/time; use ISO 8601 UTC, e.g. 2025-01-01T00:00:00Z"),
    "date": (None, "not a date; use YYYY-MM-DD"),
}


def parse_columns(
    frame: pl.DataFrame, kinds: Mapping[str, str], *, required: Iterable[str] = ()
) -> Parsed:
    """Parse text columns to their kinds (money, float, int, utc, date).

    The frame must carry `source_file` and `source_row`. A present value that fails to parse,
    or a missing value in a `required` column, becomes a reject record; the row stays in the
    returned frame with a null so the caller can decide (the loader drops rejected rows).
    """
    exprs = []
    for col, kind in kinds.items():
        if col not in frame.columns:
            continue
        if kind == "utc":
            exprs.append(_utc_expr(col).alias(col))
        elif kind == "date":
            exprs.append(_utc_expr(col).dt.date().alias(col))
        else:
            dtype = PARSERS[kind][0]
            assert dtype is not None
            text = _number_text(col)
            if kind == "int":
                exprs.append(text.cast(pl.Float64, strict=False).cast(pl.Int64, strict=False).alias(col))
            else:
                exprs.append(text.cast(dtype, strict=False).alias(col))
    parsed = frame.with_columns(exprs)
    reject_parts = []
    for col, kind in kinds.items():
        if col not in frame.columns:
            continue
        bad = frame.select("source_file", "source_row", pl.col(col).alias("value")).filter(
            pl.col("value").is_not_null() & parsed[col].is_null()
        )
        if bad.height:
            reject_parts.append(
                bad.with_columns(column=pl.lit(col), reason=pl.lit(PARSERS[kind][1]))
            )
    for col in required:
        if col not in frame.columns:
            continue
        missing = frame.select("source_file", "source_row", pl.col(col).alias("value")).filter(
            pl.col("value").is_null()
        )
        if missing.height:
            reject_parts.append(
                missing.with_columns(
                    column=pl.lit(col), reason=pl.lit("required value is missing")
                )
            )
    rejects = (
        pl.concat([p.select(list(REJECT_COLUMNS)) for p in reject_parts])
        if reject_parts
        else empty_rejects()
    )
    return Parsed(parsed, rejects.cast(REJECT_COLUMNS))  # type: ignore[arg-type]


def _normalise_tags(raw: str | None) -> list[dict[str, str]] | None:
    if raw is None:
        return None
    text = raw.strip()
    if not text:
        return None
    if not text.startswith("{"):
        text = "{" + text + "}"  # Azure EA writes `"k": "v","k2": "v2"` without braces
    try:
        obj = json.loads(text)
    except json.JSONDecodeError:
        return [{"key": "__unparsed__", "value": raw}]
    if not isinstance(obj, dict):
        return [{"key": "__unparsed__", "value": raw}]
    out: dict[str, str] = {}
    for key, value in obj.items():
        norm = str(key).strip().lower()
        if value is None:
            continue
        out[norm] = "true" if value is True else "false" if value is False else str(value).strip()
    return [{"key": k, "value": v} for k, v in sorted(out.items())]


TAGS_DTYPE = pl.List(pl.Struct({"key": pl.String, "value": pl.String}))


def parse_tags(frame: pl.DataFrame, raw_col: str, out_col: str = "tags") -> pl.DataFrame:
    """Parse a JSON tag column once per distinct value into a key/value list (keys trimmed, lower-cased).

    Values that are not JSON objects keep their text under the key `__unparsed__`, so untrusted
    text is carried, never interpreted.
    """
    distinct = frame.select(pl.col(raw_col).unique()).to_series().to_list()
    mapping = pl.DataFrame(
        {raw_col: distinct, out_col: [_normalise_tags(v) for v in distinct]},
        schema={raw_col: pl.String, out_col: TAGS_DTYPE},
    )
    return frame.join(mapping, on=raw_col, how="left", nulls_equal=True)


def json_field(raw: str | None, key: str) -> Any:
    """One key of a JSON object held as text, or None when absent or not JSON."""
    if not raw:
        return None
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError:
        return None
    return obj.get(key) if isinstance(obj, dict) else None
