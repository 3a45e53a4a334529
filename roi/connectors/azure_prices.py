"""Azure cost details' unit prices in the billing currency.

MCA exports bill in one currency and price in another: costs come in both
(`CostInBillingCurrency`, `CostInPricingCurrency`), unit prices (`UnitPrice`, `EffectivePrice`,
`PayGPrice`) only in the pricing currency (`PricingCurrency`), with the row's
`ExchangeRatePricingToBilling`. FOCUS wants unit prices in the billing currency; Microsoft's
conversion (microsoft/finops-toolkit, `docs-mslearn/focus/convert.md`) takes ListUnitPrice =
PayGPrice × ExchangeRate for MCA and ContractedUnitPrice = UnitPrice; the same rate converts
UnitPrice and EffectivePrice (the toolkit's x_EffectiveUnitPrice) here. The product is rounded
half to even to the warehouse's 10 decimals. EA prices are in the billing currency already.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal

import polars as pl

from roi.frames import attach
from roi.loading.parsing import Parsed
from roi.loading.rejects import empty_rejects, reject_where
from roi.vocabulary import MONEY

# Unit prices as Cost Management names them (lower case) → the warehouse's columns.
UNIT_PRICES = {
    "paygprice": "list_unit_price",
    "unitprice": "contracted_unit_price",
    "effectiveprice": "x_effective_unit_price",
}
RATE = "exchangeratepricingtobilling"
NO_RATE = (
    "the unit prices are in another currency than the bill and the row has no exchange rate; "
    "export the cost details with ExchangeRatePricingToBilling (MCA exports carry it)"
)


def _converted(price: Decimal | None, rate: Decimal | None) -> Decimal | None:
    """A pricing-currency unit price in the billing currency (half to even, 10 decimals)."""
    if price is None or rate is None:
        return None
    return (price * rate).quantize(Decimal("1e-10"), rounding=ROUND_HALF_EVEN)


def billing_prices(frame: pl.DataFrame, names: Mapping[str, str]) -> Parsed:
    """The unit prices in the billing currency as `_<warehouse column>`, and rejects for rows
    priced in another currency with no exchange rate to convert them by."""
    prices = {column: names[price] for price, column in UNIT_PRICES.items() if price in names}
    frame = frame.with_columns(
        pl.col(source).cast(MONEY).alias(f"_{column}") for column, source in prices.items()
    ).with_columns(
        pl.lit(None, MONEY).alias(f"_{column}")
        for column in UNIT_PRICES.values()
        if column not in prices
    )
    if "pricingcurrency" not in names or not prices:  # EA: prices are in the billing currency
        return Parsed(frame, empty_rejects())
    pricing = pl.col(names["pricingcurrency"]).cast(pl.String).str.strip_chars().str.to_uppercase()
    billing = pl.col(names["currency"]).cast(pl.String).str.strip_chars().str.to_uppercase()
    foreign = (pricing.is_not_null() & billing.is_not_null() & (pricing != billing)).fill_null(
        False
    )
    rate = pl.col(names[RATE]).cast(MONEY) if RATE in names else pl.lit(None, MONEY)
    priced = pl.any_horizontal(pl.col(f"_{column}").is_not_null() for column in prices)
    frame = frame.with_columns(_foreign=foreign, _rate=rate, _priced=priced)
    for column in prices:
        price = f"_{column}"
        # Prices repeat (one per meter): each distinct price and rate is converted once.
        pairs = frame.filter(pl.col("_foreign")).select(price, "_rate").unique()
        converted = pl.Series(
            "_converted", [_converted(p, r) for p, r in pairs.iter_rows()], dtype=MONEY
        )
        frame = (
            attach(frame, pairs.with_columns(converted), [price, "_rate"])
            .with_columns(
                pl.when(pl.col("_foreign"))
                .then(pl.col("_converted"))
                .otherwise(pl.col(price))
                .alias(price)
            )
            .drop("_converted")
        )
    unconvertible = pl.col("_foreign") & pl.col("_rate").is_null() & pl.col("_priced")
    rejects = reject_where(
        frame,
        unconvertible,
        names.get(RATE, "ExchangeRatePricingToBilling"),
        pl.concat_str(pricing, pl.lit(" pricing, "), billing, pl.lit(" billing")),
        NO_RATE,
    )
    return Parsed(frame.drop("_foreign", "_rate", "_priced"), rejects)
