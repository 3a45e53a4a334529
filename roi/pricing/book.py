"""The price book: contracted prices over a library's list prices, in the project's currency.

`load_price_book(project)` builds it from roi.toml's `[pricing]`; `PriceBook.rate_table` gives,
for each (provider, model, service tier, day) asked about, the per-token prices that applied
then, which `roi.pricing.apply.price_usage` joins to usage rows.

The book's `version` names exactly what priced a row (`inference_usage.price_version`): the
library's version or file digest, plus the contracted file's digest and the FX rates when the
project uses them, e.g. `genai-prices==0.2.5+contracted@sha256:3f2a9c1b0d4e`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

import polars as pl

from roi.errors import ConfigError
from roi.pricing.contracted import ContractedPrices, read_contracted
from roi.pricing.entries import COMPONENTS, TIERS, PriceEntry, Rate, Tier
from roi.pricing.sources import PriceLibrary, open_library

# Per-token prices carry 18 decimals (0.075 per 1M tokens is 7.5e-8 a token); amounts are
# rounded once, per row, to the warehouse's 10 decimals.
PER_TOKEN = pl.Decimal(38, 18)
_MILLION = Decimal(1_000_000)


def price_column(component: str, level: int) -> str:
    """The rate table's column of a component's per-token price at a long-context level."""
    return f"_p_{component}_{level}"


def above_column(level: int) -> str:
    """The rate table's column of a long-context level's threshold (input tokens/request)."""
    return f"_above_{level}"


@dataclass
class PriceBook:
    """Contracted prices over a library's, converted to the project's currency."""

    currency: str
    library: PriceLibrary | None
    contracted: ContractedPrices | None = None
    fx: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def version(self) -> str:
        """What priced a row: library version, contracted digest, FX rates used."""
        parts = [self.library.version if self.library else "no-library"]
        if self.contracted is not None:
            parts.append(f"contracted@sha256:{self.contracted.digest}")
        used = {c: self.fx[c] for c in sorted(self._currencies()) if c != self.currency}
        if used:
            text = json.dumps(used, sort_keys=True)
            parts.append(f"fx@sha256:{hashlib.sha256(text.encode()).hexdigest()[:12]}")
        return "+".join(parts)

    def _currencies(self) -> set[str]:
        found = {"USD"} if self.library is not None else set()
        if self.contracted is not None:
            found.add(self.contracted.currency)
        return found

    def rate(self, currency: str) -> Decimal:
        """Project currency per unit of `currency`.

        Raises:
            ConfigError: no rate for a currency other than the project's.
        """
        if currency == self.currency:
            return Decimal(1)
        if currency not in self.fx:
            raise ConfigError(
                f"prices in {currency} while the project's currency is {self.currency}, and "
                f"roi.toml's [pricing] fx has no rate for {currency}; add e.g. "
                f"[pricing] fx = {{ {currency} = 1.0 }} ({self.currency} per {currency})"
            )
        return Decimal(repr(float(self.fx[currency])))

    def rates(self, provider: str | None, model: str, tier: Tier) -> list[tuple[PriceEntry, Rate]]:
        """The rates that price a model's tier, earliest first: the contracted ones, and the
        library's before the first contracted date (list prices applied until the contract)."""
        found: list[tuple[PriceEntry, Rate]] = []
        if self.contracted is not None:
            entry = self.contracted.lookup(provider, model)
            if entry is not None:
                found = [(entry, r) for r in entry.rates_for(tier)]
        listed = self.library.lookup(provider, model) if self.library else None
        if listed is not None:
            first = found[0][1].valid_from if found else None
            found = [
                (listed, r) for r in listed.rates_for(tier) if first is None or r.valid_from < first
            ] + found
        return found

    def entry(self, provider: str | None, model: str) -> PriceEntry | None:
        """The entry a model matches: the contracted one, else the library's."""
        if self.contracted is not None:
            found = self.contracted.lookup(provider, model)
            if found is not None:
                return found
        return self.library.lookup(provider, model) if self.library else None

    def describe(self) -> str:
        """Where the book's prices come from, in words."""
        what = self.library.version if self.library else "no library"
        if self.contracted is not None:
            what += f" with contracted prices from {self.contracted.path.name}"
        return what

    def rate_table(self, keys: pl.DataFrame) -> pl.DataFrame:
        """Per-token prices for each (provider, model, service_tier, day) of `keys`.

        Columns: the keys, `_entry` (the entry's id, null when no entry matched), `_problem`
        (why an entry cannot price), `_above_<k>` (long-context thresholds) and
        `_p_<component>_<k>` (per-token prices after fallbacks; null: no price).
        """
        table = self._rates_frame(keys)
        # As-of joins match no null keys: a missing provider joins as "" (and is null again).
        wanted = keys.with_columns(pl.col("day").cast(pl.Date), pl.col("provider").fill_null(""))
        wanted = wanted.sort("day")
        table = table.with_columns(pl.col("provider").fill_null(""))
        dated = table.filter(pl.col("_valid_from").is_not_null()).sort("_valid_from")
        undated = table.filter(pl.col("_valid_from").is_null()).drop("_valid_from")
        by = ["provider", "model", "service_tier"]
        joined = wanted.join_asof(
            dated,
            left_on="day",
            right_on="_valid_from",
            by=by,
            strategy="backward",
            check_sortedness=False,
        ).drop("_valid_from")
        # Days before an entry's first rate, and entries without rates or no entry at all.
        missing = joined.filter(pl.col("_entry").is_null()).select(*keys.columns)
        first = dated.group_by(by).agg(pl.col("_entry").first(), pl.col("_valid_from").min())
        filled = (
            missing.join(undated, on=by, how="left", nulls_equal=True)
            .join(first, on=by, how="left", nulls_equal=True, suffix="_first")
            .with_columns(
                _entry=pl.coalesce("_entry", "_entry_first"),
                _problem=pl.when(pl.col("_valid_from").is_not_null())
                .then(
                    pl.format(
                        "{} has no price before {}", pl.col("_entry_first"), pl.col("_valid_from")
                    )
                )
                .otherwise(pl.col("_problem")),
            )
            .drop("_entry_first", "_valid_from")
        )
        return (
            pl.concat(
                [joined.filter(pl.col("_entry").is_not_null()), filled], how="diagonal_relaxed"
            )
            .select(*keys.columns, *[c for c in table.columns if c not in (*by, "_valid_from")])
            .with_columns(provider=pl.col("provider").replace("", None))
        )

    def _rates_frame(self, keys: pl.DataFrame) -> pl.DataFrame:
        """Every rate of every (provider, model) of `keys`, per tier, as per-token prices; a
        row without `_valid_from` for a model or tier without any."""
        levels = 0
        rows: list[dict[str, Any]] = []
        pairs = keys.select("provider", "model").unique().rows()
        for provider, model in pairs:
            for tier in TIERS:
                base = {"provider": provider, "model": model, "service_tier": tier}
                rates = self.rates(provider, model, tier)
                if not rates:
                    entry = self.entry(provider, model)
                    problem = None if entry is None else f"{entry.entry_id} has no {tier} price"
                    rows.append(
                        {
                            **base,
                            "_valid_from": None,
                            "_problem": problem,
                            "_entry": None if entry is None else entry.entry_id,
                        }
                    )
                    continue
                for entry, r in rates:
                    levels = max(levels, len(r.long_context))
                    rows.append({**base, **_rate_row(entry, r, self.rate(entry.currency))})
        schema: dict[str, pl.DataType] = {
            "provider": pl.String(),
            "model": pl.String(),
            "service_tier": pl.String(),
            "_valid_from": pl.Date(),
            "_entry": pl.String(),
            "_problem": pl.String(),
        }
        for level in range(levels + 1):
            if level:
                schema[above_column(level)] = pl.Int64()
            for c in COMPONENTS:
                schema[price_column(c, level)] = PER_TOKEN
        table = pl.DataFrame(
            [{k: row.get(k) for k in schema} for row in rows], schema=schema, orient="row"
        )
        return table


def _rate_row(entry: PriceEntry, rate: Rate, fx: Decimal) -> dict[str, Any]:
    row: dict[str, Any] = {"_valid_from": rate.valid_from, "_entry": entry.entry_id}
    if entry.problem:
        row["_problem"] = entry.problem
        return row
    if not rate.prices:
        row["_problem"] = f"{entry.entry_id} has no {rate.tier} price from {rate.valid_from}"
        return row
    for level in range(len(rate.long_context) + 1):
        if level:
            row[above_column(level)] = rate.long_context[level - 1].above
        for c in COMPONENTS:
            value = rate.price(c, level)
            row[price_column(c, level)] = None if value is None else value * fx / _MILLION
    return row


def load_price_book(
    root: Path,
    currency: str,
    library: str | None = "genai-prices",
    contracted: str | None = None,
    fx: Mapping[str, float] | None = None,
) -> PriceBook:
    """The book `[pricing]` describes (paths relative to the project's root).

    Raises:
        ConfigError: an unreadable library or contracted file, a contracted price that is not
            plausible, or prices in a currency other than the project's without a rate.
    """
    book = PriceBook(
        currency,
        open_library(library, root) if library else None,
        read_contracted(_path(root, contracted)) if contracted else None,
        MappingProxyType(dict(fx or {})),
    )
    for other in book._currencies():
        book.rate(other)  # fails now, naming the missing rate, rather than per row later
    return book


def _path(root: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else root / path


def book_for(project: Any) -> PriceBook:
    """The price book of a `ProjectConfig`."""
    settings = project.pricing
    return load_price_book(
        project.root,
        project.project.currency,
        settings.library,
        settings.contracted,
        settings.fx,
    )


__all__ = ["PER_TOKEN", "PriceBook", "above_column", "book_for", "load_price_book", "price_column"]
