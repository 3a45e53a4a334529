"""Pricing at load: what the loader does to every checked batch of `inference_usage` rows
(the price book itself is `roi.pricing`).

1. A cost reported in a currency other than the project's is converted with `[pricing] fx`.
   Without a rate, a source whose rows state their currency (usage events) has the row
   rejected, naming file, row and the missing rate; a gateway that always reports USD
   (LiteLLM, Langfuse) keeps its USD figures, as billing lines keep theirs, and the reports
   say when nothing is in the project's currency.
2. Rows without a reported cost are priced from the book (`price_usage`). The book is opened
   only when a batch holds such rows, once per load.
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from roi.config import ProjectConfig
from roi.loading.rejects import empty_rejects, reject_where
from roi.pricing.apply import price_usage
from roi.pricing.book import PriceBook, book_for
from roi.vocabulary import MONEY


class LoadPricing:
    """The pricing step of one load (it keeps the book between the load's batches)."""

    def __init__(self, project: ProjectConfig, strict: bool = False) -> None:
        self.project = project
        self.strict = strict  # a foreign currency without a rate is a reject
        self._book: PriceBook | None = None

    @property
    def book(self) -> PriceBook:
        """The project's price book, opened on first use."""
        if self._book is None:
            self._book = book_for(self.project)
        return self._book

    def __call__(self, frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        """(rows converted and priced, rejects for costs in a currency without a rate)."""
        if not frame.height:
            return frame, empty_rejects()
        frame, rejects = self._convert(frame)
        if frame.select(pl.col("cost").is_null().any()).item():
            frame = price_usage(frame, self.book)
        return frame, rejects

    def _convert(self, frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        home = self.project.project.currency
        foreign = pl.col("cost").is_not_null() & (pl.col("currency") != home)
        found = frame.filter(foreign).get_column("currency").unique().to_list()
        if not found:
            return frame, empty_rejects()
        rates = self.project.pricing.fx
        missing = sorted(c for c in found if c not in rates) if self.strict else []
        rejects = reject_where(
            frame,
            foreign & pl.col("currency").is_in(missing),
            "currency",
            pl.col("currency"),
            f"a cost in a currency other than the project's ({home}) and no rate for it in "
            "roi.toml's [pricing] fx; add e.g. [pricing] fx = { "
            + ", ".join(f"{c} = 1.0" for c in missing)
            + f" }} ({home} per unit)",
        )
        convert = [c for c in found if c in rates]
        if convert:
            rate = pl.col("currency").replace_strict(
                {c: Decimal(repr(float(rates[c]))) for c in convert},
                default=None,
                return_dtype=pl.Decimal(38, 10),
            )
            hit = foreign & pl.col("currency").is_in(convert)
            frame = frame.with_columns(
                cost=pl.when(hit)
                .then((pl.col("cost") * rate).round(10).cast(MONEY))
                .otherwise(pl.col("cost")),
                currency=pl.when(hit).then(pl.lit(home)).otherwise(pl.col("currency")),
            )
        return frame, rejects


__all__ = ["LoadPricing"]
