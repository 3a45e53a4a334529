"""Checking one batch of parsed rows: schema rules, NUL bytes, a key twice in a file; rejects
with the month and amount of a rejected billing line; the one-line error when they fail a load."""

from __future__ import annotations

import polars as pl

from roi.config import ConnectorConfig
from roi.errors import ValidationFailed
from roi.loading.protocol import Batch
from roi.loading.rejects import duplicate_key_rejects, nul_byte_rejects
from roi.tables import Table
from roi.vocabulary import MONEY


def describe_rejects(rejects: pl.DataFrame) -> str:
    """One line naming the first rejected file/row/field, its value and how to fix it."""
    first = rejects.sort(["source_file", "source_row"], maintain_order=True).row(0, named=True)
    where = f"{first['source_file']}"
    if first["source_row"] is not None:
        where += f" row {first['source_row']}"
    value = first["value"]
    shown = f" (value {value!r})" if value is not None and len(str(value)) < 80 else ""
    here = rejects.filter(pl.col("source_file").eq_missing(first["source_file"])).height - 1
    elsewhere = rejects.height - 1 - here
    more = f"; {here} more problem(s) in this file" if here else ""
    more += f"; {elsewhere} in other files" if elsewhere else ""
    return (
        f"{where} field {first['column']}: {first['reason']}{shown}{more}; "
        'fix the source and rerun (nothing was loaded), or set on_reject = "skip" in the '
        "connector's TOML to load the valid rows and keep the rest in _rejects"
    )


def checked_batch(
    batch: Batch, spec: Table, config: ConnectorConfig
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Validate one batch; return (rows to write, rejects), or raise when rejects fail the load."""
    frame, table = batch.frame, spec.name
    rejects = pl.concat(
        [batch.rejects, nul_byte_rejects(frame), duplicate_key_rejects(frame, spec.primary_key)]
    )
    if frame.height:
        # A value that did not parse also fails its schema check; report it once.
        from roi.loading import schemas  # pandera (and pandas) load only when a load runs

        checked = schemas.validate(table, frame).join(
            rejects, on=["source_file", "source_row", "column"], how="anti", nulls_equal=True
        )
        rejects = pl.concat([rejects, checked]).unique(maintain_order=True)
    every = pl.concat([rejects, batch.left_out])
    if not every.height:
        return frame, every.with_columns(**NO_AMOUNT)
    every = _with_amounts(every, frame)
    if config.on_reject == "fail" or every["source_row"].is_null().any():
        raise ValidationFailed(describe_rejects(every))
    bad = rejects.select("source_file", "source_row").unique()
    return frame.join(bad, on=["source_file", "source_row"], how="anti"), every


def apply_rejects(
    frame: pl.DataFrame, rejects: pl.DataFrame, config: ConnectorConfig
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rows a step after the checks refused: fail the load, or leave them out (on_reject skip)."""
    if not rejects.height:
        return frame, rejects.with_columns(**NO_AMOUNT)
    if config.on_reject == "fail":
        raise ValidationFailed(describe_rejects(rejects))
    bad = rejects.select("source_file", "source_row").unique()
    kept = frame.join(bad, on=["source_file", "source_row"], how="anti", nulls_equal=True)
    return kept, rejects.with_columns(**NO_AMOUNT)


NO_AMOUNT = {
    "month": pl.lit(None, pl.Date),
    "amount": pl.lit(None, MONEY),
    "currency": pl.lit(None, pl.String),
}


def _with_amounts(rejects: pl.DataFrame, frame: pl.DataFrame) -> pl.DataFrame:
    """Rejected billing lines keep the month and amount they could be read with, so reports
    can say how much money is missing from the figures."""
    needed = ("billing_period_start", "effective_cost", "billing_currency")
    if not all(c in frame.columns for c in needed):
        return rejects.with_columns(**NO_AMOUNT)
    values = frame.select(
        "source_file",
        "source_row",
        pl.col("billing_period_start").dt.date().dt.month_start().alias("month"),
        pl.col("effective_cost").cast(MONEY).alias("amount"),
        pl.col("billing_currency").alias("currency"),
    ).unique(["source_file", "source_row"], keep="first")
    return rejects.join(values, on=["source_file", "source_row"], how="left", nulls_equal=True)
