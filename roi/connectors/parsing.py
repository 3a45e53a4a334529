"""Typed parsing of raw text columns, with row-level failure records.

Connectors read files as text (so nothing is silently coerced), then parse each column here.
A value that is present but does not parse becomes a reject naming file, row, column and value.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from roi.connectors.csv_text import read_csv_text
from roi.errors import SourceError
from roi.vocabulary import MONEY

# Placeholders real exports use for "no value" (FOCUS sample: NULL; spec examples: null).
NULL_TOKENS = ("", " ", "NULL", "null", "Null", "N/A", "[N/A]")
REJECT_COLUMNS: dict[str, pl.DataType] = {
    "source_file": pl.String(),
    "source_row": pl.Int64(),
    "column": pl.String(),
    "value": pl.String(),
    "reason": pl.String(),
}


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


def list_files(
    root: Path, spec: str, suffixes: tuple[str, ...], recursive: bool = True
) -> list[Path]:
    """Files named by a connector `path`: a file, a folder (searched recursively) or a glob.

    Raises:
        SourceError: nothing matches, or the folder cannot be listed.
    """
    target = Path(spec).expanduser()
    target = target if target.is_absolute() else root / target
    try:
        target.resolve()
    except RuntimeError as exc:  # Python's name for a symbolic link loop
        raise SourceError(
            f"{spec}: a symbolic link that points to itself (a loop); point the connector at "
            "the real file or folder"
        ) from exc
    try:
        if target.is_file():
            return [target]
        if target.is_dir():
            files = _folder_files(target, spec, suffixes, recursive)
        else:
            anchor = Path(target.anchor)
            files = sorted(p for p in anchor.glob(str(target.relative_to(anchor))) if p.is_file())
    except OSError as exc:
        raise SourceError(
            f"cannot list {spec} ({exc.strerror or exc}); check the path (a symbolic link that "
            "points to itself or a folder without read permission)"
        ) from exc
    # Office lock files (`~$book.xlsx`) and hidden files are not data.
    files = [p for p in files if not p.name.startswith(("~$", "."))]
    if not files:
        raise SourceError(
            f"no input files match {spec} (looked for {', '.join(suffixes)} under {target}); "
            "check the connector's path"
        )
    return files


def _folder_files(
    folder: Path, spec: str, suffixes: tuple[str, ...], recursive: bool
) -> list[Path]:
    """Data files under `folder`; a subfolder that cannot be listed or a link to nothing is an
    error, never a silent skip (pathlib's rglob skips what it cannot read)."""

    def unreadable(exc: OSError) -> None:
        raise SourceError(
            f"cannot list {exc.filename} under {spec} ({exc.strerror or exc}); give roi read "
            "permission on it, or move it out of the connector's folder"
        ) from exc

    found: list[Path] = []
    seen: set[str] = set()
    for parent, folders, names in os.walk(folder, onerror=unreadable, followlinks=True):
        real = os.path.realpath(parent)
        if not recursive or real in seen:  # a linked folder seen before: not twice, no loop
            folders.clear()
        if real in seen:
            continue
        seen.add(real)
        for name in names:
            path = Path(parent) / name
            if not name.endswith(suffixes) or name.startswith(("~$", ".")):
                continue
            if not path.is_file():
                raise SourceError(
                    f"{path} under {spec} is a link to nothing (or not a file); remove it or "
                    "point it at the file"
                )
            found.append(path)
    return sorted(found)


def require_columns(frame: pl.DataFrame, relative: str, required: Iterable[str], hint: str) -> None:
    """Raise a SourceError naming the file and the missing columns, with how to fix it."""
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise SourceError(f"{relative}: missing column(s) {', '.join(missing)}; {hint}")


def read_table_csv(
    path: Path, relative: str, required: Iterable[str], hint: str, **options: Any
) -> pl.DataFrame:
    """A headed CSV with lower-cased headers, placeholder nulls, and `source_file`/`source_row`.

    `source_row` is the row a spreadsheet shows (the header is row 1). Two headers that differ
    only in case or spaces are one column named twice: an error.
    """
    raw = read_csv_text(path, relative, **options)
    lowered: dict[str, str] = {}
    for column in raw.columns:
        key = column.strip().lower()
        if key in lowered and column != "source_row":
            raise SourceError(
                f"{relative}: the header names column {key!r} twice ({lowered[key]!r} and "
                f"{column!r}); remove or rename one of them"
            )
        lowered[key] = column
    raw = raw.rename({c: c.strip().lower() for c in raw.columns})
    require_columns(raw, relative, required, hint)
    text = [c for c in raw.columns if c != "source_row"]
    return raw.with_columns(null_if_token(text)).with_columns(source_file=pl.lit(relative))


def null_if_token(columns: Iterable[str]) -> list[pl.Expr]:
    """Expressions turning placeholder text (NULL, null, empty, N/A) into real nulls."""
    return [
        pl.when(pl.col(c).is_in(NULL_TOKENS)).then(None).otherwise(pl.col(c)).alias(c)
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
        s.str.to_datetime(
            "%Y-%m-%d %H:%M:%S%.f", strict=False, time_unit="us"
        ).dt.replace_time_zone("UTC"),
        s.str.to_datetime("%Y-%m-%d %H:%M", strict=False, time_unit="us").dt.replace_time_zone(
            "UTC"
        ),
        s.str.to_date("%Y-%m-%d", strict=False).cast(pl.Datetime("us")).dt.replace_time_zone("UTC"),
        s.str.to_datetime(
            "%Y/%m/%d %H:%M:%S%.f", strict=False, time_unit="us"
        ).dt.replace_time_zone("UTC"),
    ).dt.convert_time_zone("UTC")


def _calendar_date(col: str) -> pl.Expr:
    """The date a text names, ignoring any time of day or UTC offset after it."""
    day = pl.col(col).str.strip_chars().str.slice(0, 10)
    return pl.coalesce(
        day.str.to_date("%Y-%m-%d", strict=False),
        day.str.to_date("%Y/%m/%d", strict=False),
    )


# The widest UTC offset in use (UTC+14): a month boundary written in any zone lies this close.
_WIDEST_OFFSET = pl.duration(hours=14)


def _period_boundary(written: pl.Expr, instant: pl.Expr) -> pl.Expr:
    """A billing-period boundary (the first of a month) however its instant is written.

    `2026-10-01T00:00:00+02:00` starts October by the date written; the same instant written
    in UTC, `2026-09-30T22:00:00Z`, starts October too: a time within 14 hours of a month's
    start (the widest UTC offset) is that month's start. Any other time is its date as written.
    """
    nearest = (instant + _WIDEST_OFFSET).dt.truncate("1mo")
    boundary = (
        pl.when(instant.is_null())
        .then(None)
        .when(written.dt.day() == 1)
        .then(written)
        .when(instant - nearest <= _WIDEST_OFFSET)
        .then(nearest.dt.date())
        .otherwise(written)
    )
    return boundary.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


PARSERS: Mapping[str, tuple[pl.DataType, str]] = {
    "money": (MONEY, "not a decimal number; write plain or E-notation digits, e.g. 12.50"),
    "float": (
        pl.Float64(),
        "not a finite number; write plain or E-notation digits, e.g. 0.42",
    ),
    "int": (pl.Int64(), "not a whole number; counts cannot have fractions, e.g. 1200"),
    "utc": (
        pl.Datetime("us", "UTC"),
        "not a date/time; use ISO 8601 UTC, e.g. 2025-01-01T00:00:00Z",
    ),
    "date": (pl.Date(), "not a date; use YYYY-MM-DD"),
    "calendar_day": (
        pl.Datetime("us", "UTC"),
        "not a date/time; use ISO 8601, e.g. 2025-01-01T00:00:00Z",
    ),
}


def _typed_expr(col: str, kind: str, dtype: pl.DataType) -> pl.Expr:
    """Expression converting `col` (text or an already-typed column) to `kind`."""
    if dtype == pl.String:
        if kind == "utc":
            return _utc_expr(col)
        if kind == "date":
            return _calendar_date(col)
        if kind == "calendar_day":
            return _period_boundary(_calendar_date(col), _utc_expr(col))
        text = pl.col(col).str.strip_chars()
        if kind == "int":
            return _whole_number(text.cast(pl.Float64, strict=False))
        if kind == "float":
            return _finite(text.cast(pl.Float64, strict=False))
        return text.cast(PARSERS[kind][0], strict=False)
    if kind in ("date", "calendar_day"):
        # The calendar date as written: a period starting 2026-10-01T00:00+02:00 is October.
        day = (
            pl.col(col).dt.date()
            if isinstance(dtype, pl.Datetime)
            else pl.col(col).cast(pl.Date, strict=False)
        )
        if kind == "date":
            return day
        instant = (
            _typed_expr(col, "utc", dtype)
            if isinstance(dtype, pl.Datetime)
            else day.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
        )
        return _period_boundary(day, instant)
    if kind == "utc":
        if isinstance(dtype, pl.Datetime):
            expr = pl.col(col).cast(pl.Datetime("us", dtype.time_zone))
            expr = (
                expr.dt.convert_time_zone("UTC")
                if dtype.time_zone
                else expr.dt.replace_time_zone("UTC")
            )
        else:
            expr = pl.col(col).cast(pl.Datetime("us"), strict=False).dt.replace_time_zone("UTC")
        return expr
    if kind == "money":
        # DECIMAL(38,10) holds 28 integer digits; larger floats become a reject, not a crash.
        fits = pl.col(col).cast(pl.Float64, strict=False).abs() < 1e27
        return pl.when(fits).then(pl.col(col)).otherwise(None).cast(MONEY, strict=False)
    if kind == "int":
        return _whole_number(pl.col(col).cast(pl.Float64, strict=False))
    if kind == "float":
        return _finite(pl.col(col).cast(pl.Float64, strict=False))
    return pl.col(col).cast(PARSERS[kind][0], strict=False)


def _whole_number(number: pl.Expr) -> pl.Expr:
    """A whole number as Int64; fractions (100.7 tokens) and non-finite values become null."""
    exact = number.is_finite() & (number == number.floor()) & (number.abs() < 2.0**63)
    return pl.when(exact).then(number).otherwise(None).cast(pl.Int64)


def _finite(number: pl.Expr) -> pl.Expr:
    """A finite float; NaN and infinities become null (a reject when the text was present)."""
    return pl.when(number.is_finite()).then(number).otherwise(None)


def parse_columns(
    frame: pl.DataFrame, kinds: Mapping[str, str], *, required: Iterable[str] = ()
) -> Parsed:
    """Parse columns to their kinds (money, float, int, utc, date).

    Text is parsed (ISO or provider date/time spellings, E-notation numbers); columns a Parquet
    file already typed are cast. The frame must carry `source_file` and `source_row`. A present
    value that fails to parse, or a missing value in a `required` column, becomes a reject
    record; the row stays in the returned frame with a null so the caller can decide (the
    loader fails the load, or drops the row when the connector skips rejects).
    """
    present = {c: k for c, k in kinds.items() if c in frame.columns}
    needed = [c for c in required if c in frame.columns]
    parsed = frame.with_columns(
        _typed_expr(col, kind, frame.schema[col]).alias(col) for col, kind in present.items()
    )
    bad = {col: pl.col(col).is_not_null() & pl.col(f"_parsed_{col}").is_null() for col in present}
    absent = {col: pl.col(col).is_null() for col in needed}
    if not bad and not absent:
        return Parsed(parsed, empty_rejects())
    checked = frame.select(
        "source_file",
        "source_row",
        *[pl.col(c) for c in dict.fromkeys([*present, *needed])],
        *[parsed[c].alias(f"_parsed_{c}") for c in present],
    ).filter(pl.any_horizontal([*bad.values(), *absent.values()]))
    if not checked.height:
        return Parsed(parsed, empty_rejects())
    problems = [
        pl.when(cond).then(
            pl.struct(
                column=pl.lit(col),
                value=pl.col(col).cast(pl.String),
                reason=pl.lit(PARSERS[present[col]][1]),
            )
        )
        for col, cond in bad.items()
    ] + [
        pl.when(cond).then(
            pl.struct(
                column=pl.lit(col),
                value=pl.lit(None, pl.String),
                reason=pl.lit("required value is missing"),
            )
        )
        for col, cond in absent.items()
    ]
    rejects = (
        checked.select("source_file", "source_row", pl.concat_list(problems).alias("_p"))
        .explode("_p")
        .drop_nulls("_p")
        .unnest("_p")
        .select(list(REJECT_COLUMNS))
    )
    return Parsed(parsed, rejects.cast(REJECT_COLUMNS))  # type: ignore[arg-type]


class TagKeyClash(ValueError):
    """Two tag keys that differ only in case or spaces, with different values."""


class _Pairs(list[tuple[str, Any]]):
    """A JSON object read as its key/value pairs in order (so a key written twice shows)."""


def _plain(value: Any) -> Any:
    if isinstance(value, _Pairs):
        return {k: _plain(v) for k, v in value}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _tag_text(value: Any) -> str:
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, dict | list):  # a nested value: its JSON text, never Python's repr
        return json.dumps(_plain(value), ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return str(value).strip()


def tag_json(pairs: Iterable[tuple[Any, Any]]) -> str:
    """Key/value pairs as the JSON object roi stores: keys trimmed and lower-cased, values text.

    Valueless tags (`true`) and booleans become "true"/"false", a nested object or list its
    JSON text; null values are dropped.

    Raises:
        TagKeyClash: two keys that differ only in case or spaces hold different values (which
            one a selector matched would be a guess).
    """
    out: dict[str, str] = {}
    written: dict[str, str] = {}
    for key, value in pairs:
        if value is None:
            continue
        norm = str(key).strip().lower()
        text = _tag_text(value)
        if norm in out and out[norm] != text:
            raise TagKeyClash(
                f"tags {written[norm]!r} and {str(key)!r} are one key with different values"
            )
        out[norm], written[norm] = text, str(key)
    return json.dumps(dict(sorted(out.items())), ensure_ascii=False, separators=(",", ":"))


INVALID_TAGS = "\x00invalid"  # marks a tag text that is not a JSON object (never stored)
CLASHING_TAGS = "\x00clash"  # marks tags with one key twice (in other case) and two values


def normalise_tags(raw: str | None) -> str | None:
    """A provider's Tags text as normalised JSON (None when empty).

    Returns `INVALID_TAGS` when the text is not a JSON object and `CLASHING_TAGS` when it holds
    one key twice (differing only in case) with different values: the caller rejects that row.
    """
    if raw is None:
        return None
    text = raw.strip()
    if not text:
        return None
    if not text.startswith("{"):
        text = "{" + text + "}"  # Azure EA writes `"k": "v","k2": "v2"` without braces
    try:
        obj = json.loads(text, object_pairs_hook=_Pairs)
    except json.JSONDecodeError:
        return INVALID_TAGS
    if not isinstance(obj, _Pairs):
        return INVALID_TAGS
    try:
        return tag_json(obj)
    except TagKeyClash:
        return CLASHING_TAGS


def map_distinct(frame: pl.DataFrame, col: str, out_col: str, func: Any) -> pl.DataFrame:
    """Add `out_col` = func(value of `col`), computed once per distinct value (tags repeat)."""
    distinct = frame.get_column(col).unique().to_list()
    mapping = pl.DataFrame(
        {col: distinct, out_col: [func(v) for v in distinct]},
        schema={col: frame.schema[col], out_col: pl.String},
    )
    return frame.join(mapping, on=col, how="left", nulls_equal=True)


def reject_where(
    frame: pl.DataFrame, condition: pl.Expr, column: str, value: pl.Expr, reason: str
) -> pl.DataFrame:
    """Reject records (file, row, column, value, reason) for the rows where `condition` holds."""
    return (
        frame.filter(condition)
        .select(
            "source_file",
            "source_row",
            pl.lit(column).alias("column"),
            value.cast(pl.String).alias("value"),
            pl.lit(reason).alias("reason"),
        )
        .cast(REJECT_COLUMNS)  # type: ignore[arg-type]
    )


def nul_byte_rejects(frame: pl.DataFrame) -> pl.DataFrame:
    """Reject records for text fields holding a NUL byte (binary data where text belongs)."""
    text = [c for c, t in frame.schema.items() if t == pl.String and c != "source_file"]
    if not text or "source_row" not in frame.columns:
        return empty_rejects()
    hit = pl.any_horizontal(pl.col(c).str.contains("\x00", literal=True) for c in text)
    flagged = frame.filter(hit.fill_null(False))
    if not flagged.height:
        return empty_rejects()
    return pl.concat(
        reject_where(
            flagged,
            pl.col(c).str.contains("\x00", literal=True).fill_null(False),
            c,
            pl.col(c).str.replace_all("\x00", "\\0", literal=True).str.slice(0, 60),
            "holds a NUL byte (binary data in a text field); re-export the file as text",
        )
        for c in text
    )


TAGS_REASON = (
    'not a JSON object of tags; write e.g. {"ml-model": "fraud-detection"} (or leave it empty)'
)


CLASH_REASON = (
    "holds one tag key twice (differing only in case or spaces) with different values; keep "
    "one of them (roi matches tag keys without regard to case)"
)


def parse_tags(frame: pl.DataFrame, raw_col: str, out_col: str = "tags") -> Parsed:
    """Parse a Tags column (JSON text, or a Parquet map) into normalised JSON text.

    A tag text that is not a JSON object is a reject naming the row (its tags would otherwise
    be lost silently); the row keeps a null `out_col`. Untrusted text is carried, never
    interpreted.
    """
    if frame.schema[raw_col] == pl.Null:  # a Parquet column with no value at all
        frame = frame.with_columns(pl.col(raw_col).cast(pl.String))
    if frame.schema[raw_col] == pl.String:
        parsed = map_distinct(frame, raw_col, out_col, normalise_tags)
        invalid = pl.col(out_col) == INVALID_TAGS
        clashing = pl.col(out_col) == CLASHING_TAGS
        rejects = pl.concat(
            [
                reject_where(parsed, invalid, raw_col, pl.col(raw_col), TAGS_REASON),
                reject_where(parsed, clashing, raw_col, pl.col(raw_col), CLASH_REASON),
            ]
        )
        return Parsed(
            parsed.with_columns(
                pl.when(invalid | clashing).then(None).otherwise(pl.col(out_col)).alias(out_col)
            ),
            rejects,
        )
    # A Parquet MAP arrives as a list of key/value structs: flatten each to text, then parse
    # each distinct text once.
    entry = pl.element()
    flat = (
        pl.col(raw_col)
        .list.eval(
            pl.concat_str(
                [
                    entry.struct.field("key").cast(pl.String),
                    entry.struct.field("value").cast(pl.String).fill_null("\x00"),
                ],
                separator="\x1e",
            )
        )
        .list.join("\x1f")
    )

    def from_flat(text: str | None) -> str | None:
        if text is None:
            return None
        pairs = [item.split("\x1e", 1) for item in text.split("\x1f") if item]
        try:
            return tag_json((k, None if v == "\x00" else v) for k, v in pairs)
        except TagKeyClash:
            return CLASHING_TAGS

    with_flat = frame.with_columns(flat.alias("_tags_flat"))
    # A map has no text of its own: its normalised JSON stands in as the raw text (lineage, and
    # what attribution groups lines by).
    parsed = map_distinct(with_flat, "_tags_flat", out_col, from_flat)
    clashing = pl.col(out_col) == CLASHING_TAGS
    rejects = reject_where(parsed, clashing, raw_col, pl.col("_tags_flat"), CLASH_REASON)
    return Parsed(
        parsed.with_columns(pl.when(clashing).then(None).otherwise(pl.col(out_col)).alias(out_col))
        .with_columns(pl.col(out_col).alias(raw_col))
        .drop("_tags_flat"),
        rejects,
    )


def duplicate_key_rejects(frame: pl.DataFrame, key: tuple[str, ...]) -> pl.DataFrame:
    """Reject records for rows of one file that share a key but differ in their values.

    The same row written twice is harmless (it counts once); two different rows under one key
    (a request id logged with two costs, a KPI restated inside one file) would make the loader
    pick one of them silently, so every such row is a reject naming the other rows.
    """
    lineage = ("source_file", "source_row", "_seq", "_load_id")
    if not key or "source_row" in key or not all(c in frame.columns for c in key):
        return empty_rejects()
    if "source_file" not in frame.columns or "source_row" not in frame.columns:
        return empty_rejects()
    group = ["source_file", *key]
    repeated = frame.filter(pl.struct(group).is_duplicated())
    if not repeated.height:
        return empty_rejects()
    values = [c for c in frame.columns if c not in (*lineage, *key)]
    clashing = repeated.with_columns(
        _variants=pl.struct(values).n_unique().over(group),
        _rows=pl.col("source_row").sort().cast(pl.String).str.join(", ").over(group),
    ).filter(pl.col("_variants") > 1)
    if not clashing.height:
        return empty_rejects()
    shown = pl.concat_str(
        [pl.lit(f"{k}=") + pl.col(k).cast(pl.String).fill_null("") for k in key], separator=" "
    )
    return clashing.select(
        "source_file",
        "source_row",
        pl.lit(f"key ({', '.join(key)})").alias("column"),
        shown.str.slice(0, 60).alias("value"),
        (
            pl.lit("the same key is in rows ")
            + pl.col("_rows")
            + pl.lit(" of this file with different values; keep the one that is right")
        ).alias("reason"),
    )
