"""Reject records: which file, row and field failed, with what value, and why."""

from __future__ import annotations

import polars as pl

REJECT_COLUMNS: dict[str, pl.DataType] = {
    "source_file": pl.String(),
    "source_row": pl.Int64(),
    "column": pl.String(),
    "value": pl.String(),
    "reason": pl.String(),
}


def empty_rejects() -> pl.DataFrame:
    """A reject frame with no rows."""
    return pl.DataFrame(schema=REJECT_COLUMNS)


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
    # A batch is usually one file's: the key alone is cheaper to hash than a struct with it.
    single = frame.get_column("source_file").n_unique() == 1
    keyed = list(key) if single else group
    duplicated = pl.col(keyed[0]) if len(keyed) == 1 else pl.struct(keyed)
    repeated = frame.filter(duplicated.is_duplicated())
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
