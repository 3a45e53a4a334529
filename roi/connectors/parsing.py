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
NULL_TOKENS = ("", " ", "NULL", "null", "Null", "N/A", "[N/A]")
REJECT_COLUMNS: dict[str, pl.DataType] = {
    "source_file": pl.String(),
    "source_row": pl.Int64(),
    "column": pl.String(),
    "value": pl.String(),
    "reason": pl.String(),
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
    # Office lock files (`~$book.xlsx`) and hidden files are not data.
    files = [p for p in files if not p.name.startswith(("~$", "."))]
    if not files:
        raise SourceError(
            f"no input files match {spec} (looked for {', '.join(suffixes)} under {target}); "
            "check the connector's path"
        )
    return files


def read_csv_text(path: Path, relative: str, **options: Any) -> pl.DataFrame:
    """Read a CSV (plain or gzip) with every column as text; read errors name the file and a fix.

    Raises:
        SourceError: the file is empty, not UTF-8, or its rows do not match the header.
    """
    try:
        frame = pl.read_csv(path, infer_schema=False, **options)
    except pl.exceptions.NoDataError as exc:
        raise SourceError(
            f"{relative}: the file is empty; re-export it with its header row"
        ) from exc
    except pl.exceptions.ComputeError as exc:
        text = str(exc).splitlines()[0]
        if "utf-8" in text.lower():
            raise SourceError(
                f"{relative}: not UTF-8 text ({text}); re-export the file as UTF-8 "
                "(e.g. `iconv -f latin1 -t utf-8`)"
            ) from exc
        raise SourceError(
            f"{relative}: cannot parse as CSV ({text}); check that every row has as many "
            "fields as the header and that quotes are balanced"
        ) from exc
    except OSError as exc:
        raise SourceError(
            f"{relative}: cannot read the file ({exc}); check the path and its permissions"
        ) from exc
    return frame.rename({c: c.lstrip("\ufeff").strip() for c in frame.columns})


def require_columns(frame: pl.DataFrame, relative: str, required: Iterable[str], hint: str) -> None:
    """Raise a SourceError naming the file and the missing columns, with how to fix it."""
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise SourceError(f"{relative}: missing column(s) {', '.join(missing)}; {hint}")


def read_table_csv(
    path: Path, relative: str, required: Iterable[str], hint: str, **options: Any
) -> pl.DataFrame:
    """A headed CSV with lower-cased headers, placeholder nulls, and `source_file`/`source_row`.

    `source_row` is the row number a spreadsheet shows (the header is row 1).
    """
    raw = read_csv_text(path, relative, **options)
    raw = raw.rename({c: c.strip().lower() for c in raw.columns})
    require_columns(raw, relative, required, hint)
    return raw.with_columns(null_if_token(raw.columns)).with_columns(
        source_file=pl.lit(relative),
        source_row=pl.int_range(2, pl.len() + 2, dtype=pl.Int64),
    )


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


PARSERS: Mapping[str, tuple[pl.DataType, str]] = {
    "money": (MONEY, "not a decimal number; write plain or E-notation digits, e.g. 12.50"),
    "float": (pl.Float64(), "not a number; write plain or E-notation digits, e.g. 0.42"),
    "int": (pl.Int64(), "not a whole number"),
    "utc": (
        pl.Datetime("us", "UTC"),
        "not a date/time; use ISO 8601 UTC, e.g. 2025-01-01T00:00:00Z",
    ),
    "date": (pl.Date(), "not a date; use YYYY-MM-DD"),
}


def _typed_expr(col: str, kind: str, dtype: pl.DataType) -> pl.Expr:
    """Expression converting `col` (text or an already-typed column) to `kind`."""
    if dtype == pl.String:
        if kind == "utc":
            return _utc_expr(col)
        if kind == "date":
            return _calendar_date(col)
        text = pl.col(col).str.strip_chars()
        if kind == "int":
            return text.cast(pl.Float64, strict=False).cast(pl.Int64, strict=False)
        return text.cast(PARSERS[kind][0], strict=False)
    if kind == "date":
        # The calendar date as written: a period starting 2026-10-01T00:00+02:00 is October.
        if isinstance(dtype, pl.Datetime):
            return pl.col(col).dt.date()
        return pl.col(col).cast(pl.Date, strict=False)
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
    return pl.col(col).cast(PARSERS[kind][0], strict=False)


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


def tag_json(pairs: Iterable[tuple[Any, Any]]) -> str:
    """Key/value pairs as the JSON object roi stores: keys trimmed and lower-cased, values text.

    Valueless tags (`true`) and booleans become "true"/"false"; null values are dropped; a later
    duplicate key (after normalising) wins.
    """
    out: dict[str, str] = {}
    for key, value in pairs:
        if value is None:
            continue
        norm = str(key).strip().lower()
        out[norm] = "true" if value is True else "false" if value is False else str(value).strip()
    return json.dumps(dict(sorted(out.items())), ensure_ascii=False, separators=(",", ":"))


def normalise_tags(raw: str | None) -> str | None:
    """A provider's Tags text as normalised JSON (None when empty)."""
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
        return tag_json([("__unparsed__", raw)])
    if not isinstance(obj, dict):
        return tag_json([("__unparsed__", raw)])
    return tag_json(obj.items())


def map_distinct(frame: pl.DataFrame, col: str, out_col: str, func: Any) -> pl.DataFrame:
    """Add `out_col` = func(value of `col`), computed once per distinct value (tags repeat)."""
    distinct = frame.get_column(col).unique().to_list()
    mapping = pl.DataFrame(
        {col: distinct, out_col: [func(v) for v in distinct]},
        schema={col: frame.schema[col], out_col: pl.String},
    )
    return frame.join(mapping, on=col, how="left", nulls_equal=True)


def parse_tags(frame: pl.DataFrame, raw_col: str, out_col: str = "tags") -> pl.DataFrame:
    """Parse a Tags column (JSON text, or a Parquet map) into normalised JSON text.

    Values that are not JSON objects keep their text under the key `__unparsed__`, so untrusted
    text is carried, never interpreted. The loader turns the JSON into a DuckDB MAP.
    """
    if frame.schema[raw_col] == pl.String:
        return map_distinct(frame, raw_col, out_col, normalise_tags)
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
        return tag_json((k, None if v == "\x00" else v) for k, v in pairs)

    with_flat = frame.with_columns(flat.alias("_tags_flat"))
    return (
        map_distinct(with_flat, "_tags_flat", out_col, from_flat)
        .with_columns(pl.lit(None, pl.String).alias(raw_col))
        .drop("_tags_flat")
    )
