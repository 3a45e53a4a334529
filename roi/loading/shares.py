"""Splitting a line's amounts by shares so that its parts add up to it exactly.

One origin line becomes several rows (a provider's split cost allocation read from a bill, or
roi's own allocation written out as FOCUS split charges); summable figures are divided by each
row's share of the line. Money is divided in the warehouse's last decimal (1e-10) as whole
units: every part but the last is `floor(units × cumulative share)` less the one before, the
last takes what is left, so the parts of a line add up to it to the last unit whatever the
shares' floating-point rounding. Quantities (floats) are multiplied by the share.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from roi.vocabulary import MONEY

DECIMALS = 10  # MONEY's scale: DECIMAL(38,10)


def money_units(amount: pl.Expr) -> pl.Expr:
    """A money amount as whole units of its last decimal (Int128; exact)."""
    text = amount.cast(MONEY).cast(pl.String)
    return text.str.replace(".", "", literal=True).cast(pl.Int128)


def units_money(units: pl.Expr) -> pl.Expr:
    """Whole units of the last decimal back to a money amount (exact)."""
    digits = units.abs().cast(pl.String).str.zfill(DECIMALS + 1)
    sign = pl.when(units < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    text = pl.concat_str(
        sign,
        digits.str.slice(0, digits.str.len_chars() - DECIMALS),
        pl.lit("."),
        digits.str.slice(-DECIMALS),
    )
    return text.cast(MONEY)


def split_lines(
    frame: pl.DataFrame,
    line: Sequence[str],
    order: Sequence[str],
    share: str,
    amounts: Sequence[str],
    quantities: Sequence[str] = (),
    *,
    exact: bool = False,
) -> pl.DataFrame:
    """Each row's amounts as its share of its line's (the row holds the whole line's amounts).

    `line`: the columns naming the origin line; `order`: how its parts are ordered (the last one
    takes the remainder); `share`: each part's share, a float (a line's shares add up to 1) or,
    with `exact`, a whole-number weight (each part gets weight / the line's total weight, in
    exact integer arithmetic: a part whose weight is its amount gets exactly that). A null
    amount stays null.
    """
    line, order = list(line), list(order)
    frame = frame.sort([*line, *order])
    last = pl.int_range(pl.len()).over(line) == pl.len().over(line) - 1
    if exact:
        weight = pl.col(share).cast(pl.Int128)
        frame = frame.with_columns(
            _cum=weight.cum_sum().over(line), _den=weight.sum().over(line), _last=last
        ).with_columns(_before=(pl.col("_cum") - pl.col(share).cast(pl.Int128)))
    else:
        frame = frame.with_columns(
            _cum=pl.when(last).then(1.0).otherwise(pl.col(share).cum_sum().over(line)),
            _den=pl.lit(1.0),
            _last=last,
        ).with_columns(_before=pl.col("_cum").shift(1, fill_value=0.0).over(line))
    out = []
    for column in amounts:
        if column not in frame.columns:
            continue
        units = money_units(pl.col(column))
        if exact:
            part = (units * pl.col("_cum")) // pl.col("_den") - (
                units * pl.col("_before")
            ) // pl.col("_den")
        else:
            scaled = units.cast(pl.Float64)
            part = ((scaled * pl.col("_cum")).floor() - (scaled * pl.col("_before")).floor()).cast(
                pl.Int128
            )
        part = pl.when(pl.col("_last")).then(None).otherwise(part)
        rest = units - part.sum().over(line)  # the last part: what the others left
        exact_part = pl.when(pl.col("_last")).then(rest).otherwise(part)
        out.append(
            pl.when(pl.col(column).is_null())
            .then(None)
            .otherwise(units_money(exact_part))
            .alias(column)
        )
    fraction = (pl.col("_cum") - pl.col("_before")).cast(pl.Float64) / pl.col("_den").cast(
        pl.Float64
    )
    for column in quantities:
        if column in frame.columns:
            out.append((pl.col(column).cast(pl.Float64) * fraction).alias(column))
    return frame.with_columns(out).drop("_cum", "_den", "_before", "_last")
