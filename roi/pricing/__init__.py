"""The dated price book: LLM requests without a reported cost priced from list and contracted
prices (`[pricing]` in roi.toml).

The shared API:

- `book_for(project) -> PriceBook`, or `load_price_book(root, currency, library, contracted,
  fx)`: the book (genai-prices' dated list prices, or a LiteLLM-format price file; contracted
  prices per model from a TOML file win; prices converted to the project's currency).
- `price_usage(frame, book) -> pl.DataFrame`: a frame with `inference_usage`'s columns, its rows
  of null `cost` priced (`cost_source` "priced" or "unpriced", `price_version` = `book.version`).
- `explain_prices(frame, book)`: which entry prices each (provider, model, tier, day), at what
  prices per 1M tokens, or why none does.
"""

from roi.pricing.apply import explain_prices, price_usage
from roi.pricing.book import PriceBook, book_for, load_price_book
from roi.pricing.entries import COMPONENTS, TIERS, PriceEntry, Rate

__all__ = [
    "COMPONENTS",
    "TIERS",
    "PriceBook",
    "PriceEntry",
    "Rate",
    "book_for",
    "explain_prices",
    "load_price_book",
    "price_usage",
]
