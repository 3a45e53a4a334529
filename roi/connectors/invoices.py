"""Rows of an LLM provider's cost report → `provider_invoices`, in the project's currency.

Shared by `openai_costs` and `anthropic_cost`. An amount in another currency is converted with
the rate `[options] rates` gives for it (project currency per unit, e.g. `rates = { EUR =
"1.08" }` in a USD project), and keeps its original amount, currency and the rate; a row in a
currency with no rate is rejected naming the currency and the option to set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import polars as pl

from roi.connectors.api_pages import ApiOptions
from roi.errors import ConfigError
from roi.loading.parsing import parse_columns
from roi.loading.protocol import Batch
from roi.loading.rejects import reject_where
from roi.vocabulary import MONEY

KINDS = {"period_start": "utc", "period_end": "utc", "amount": "money"}
REQUIRED = ("line_id", "provider", "period_start", "period_end", "amount", "currency")


@dataclass(frozen=True)
class InvoiceOptions(ApiOptions):
    """`[options]` of a cost-report connector."""

    rates: dict[str, str] = field(default_factory=dict)  # currency → project currency per unit


def checked_rates(rates: dict[str, str], where: str) -> dict[str, Decimal]:
    """`[options] rates` as exact decimals.

    Raises:
        ConfigError: a rate that is not a positive decimal number.
    """
    checked: dict[str, Decimal] = {}
    for currency, rate in rates.items():
        try:
            value = Decimal(str(rate))
        except InvalidOperation:
            value = Decimal(0)
        if not value.is_finite() or value <= 0:
            raise ConfigError(
                f"{where}: [options] rates.{currency} = {rate!r} is not a positive number; "
                f'write the {currency} rate as text, e.g. {currency} = "1.0845"'
            )
        checked[currency.upper()] = value
    return checked


def invoice_batch(frame: pl.DataFrame, currency: str, rates: dict[str, Decimal]) -> Batch:
    """Type cost-report rows and convert them to `currency` (the project's)."""
    parsed = parse_columns(
        frame.with_columns(pl.col("currency").str.to_uppercase()), KINDS, required=REQUIRED
    )
    rows = parsed.frame
    known = [currency, *rates]
    rejects = reject_where(
        rows,
        pl.col("currency").is_not_null() & ~pl.col("currency").is_in(known),
        "currency",
        pl.col("currency"),
        f"not the project's currency ({currency}) and the connector's [options] rates give no "
        f'rate for it; add e.g. rates = {{ EUR = "<{currency} per EUR>" }}',
    )
    rate = pl.col("currency").replace_strict(
        {c: str(r) for c, r in rates.items()}, default=None, return_dtype=pl.String
    )
    foreign = pl.col("currency") != currency
    rows = rows.with_columns(
        source_amount=pl.when(foreign).then(pl.col("amount")),
        source_currency=pl.when(foreign).then(pl.col("currency")),
        fx_rate=pl.when(foreign).then(rate.cast(MONEY)),
    ).with_columns(
        amount=pl.when(foreign)
        .then((pl.col("amount") * pl.col("fx_rate")).cast(MONEY))
        .otherwise(pl.col("amount")),
        currency=pl.when(foreign & pl.col("fx_rate").is_not_null())
        .then(pl.lit(currency))
        .otherwise(pl.col("currency")),
    )
    return Batch(rows, pl.concat([parsed.rejects, rejects]))
