"""Why a model's cost moved: the month-over-month change in volume, unit price and mix.

For the cost a model (or `__unallocated__`, `__idle__`) took whole, lines are compared item by
item (service, resource and unit of measure), price-volume-mix style, within each unit:

    volume = (Q1 − Q0) × P0        where Q is the unit's total quantity, P0 = C0 / Q0
    mix    = Σ (q1 − Q1 × q0/Q0) × p0    (more of the dearer items, or of the cheaper ones)
    price  = Σ q1 × (p1 − p0)

Items that exist in one month only, or carry no quantity (tax, credits, fees), change by their
whole cost (`new, gone or unmetered`). For cost a pool split to the model:

    pool cost = (P1 − P0) × s0     (the pool got dearer or cheaper)
    share     = (s1 − s0) × P1     (the model used more or less of it)

Every effect sums to the change exactly (amounts to the cent; the split between volume, mix and
price carries float rounding, so price takes the rest).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import polars as pl

from roi import warehouse
from roi.attribution.engine import plan_attribution
from roi.config import ProjectConfig
from roi.errors import RoiError
from roi.vocabulary import MONEY, SENTINELS, to_decimal
from roi.warehouse import Connection

ZERO = Decimal(0)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Explanation:
    """A model's month-over-month change and what it is made of."""

    model_id: str
    month: date
    previous: date
    before: Decimal
    after: Decimal
    effects: pl.DataFrame  # effect, amount (they add up to after − before)
    movers: pl.DataFrame  # the items that moved most

    @property
    def change(self) -> Decimal:
        """After minus before."""
        return self.after - self.before


def previous_month(month: date) -> date:
    """The first day of the month before."""
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def _items(ledger: pl.DataFrame, model_id: str) -> pl.DataFrame:
    """The model's whole-group cost per item (service, resource, unit) with quantities."""
    return (
        ledger.filter(pl.col("model_id") == model_id)
        .group_by("service_name", "resource_id", "consumed_unit")
        .agg(pl.col("amount").sum(), pl.col("quantity").sum())
    )


def _pvm(before: pl.DataFrame, after: pl.DataFrame) -> tuple[dict[str, Decimal], pl.DataFrame]:
    """Volume, mix, price and new-or-gone effects of whole-group items; and the item changes."""
    keys = ["service_name", "resource_id", "consumed_unit"]
    both = before.join(
        after, on=keys, how="full", coalesce=True, suffix="_1", nulls_equal=True
    ).with_columns(
        pl.col("amount").fill_null(ZERO),
        pl.col("amount_1").fill_null(ZERO),
    )
    effects = {"volume": ZERO, "mix": ZERO, "price": ZERO, "new, gone or unmetered": ZERO}
    priced = both.filter(
        (pl.col("quantity").fill_null(0) > 0) & (pl.col("quantity_1").fill_null(0) > 0)
    )
    rest = both.join(priced.select(keys), on=keys, how="anti", nulls_equal=True)
    effects["new, gone or unmetered"] = to_decimal(rest["amount_1"].sum()) - to_decimal(
        rest["amount"].sum()
    )
    for _, unit in priced.group_by("consumed_unit"):
        c0 = float(unit["amount"].sum())
        c1 = float(unit["amount_1"].sum())
        q0 = float(unit["quantity"].sum())
        q1 = float(unit["quantity_1"].sum())
        p0 = unit["amount"].cast(pl.Float64) / unit["quantity"]
        volume = (q1 - q0) * (c0 / q0)
        mix = float(((unit["quantity_1"] - q1 * unit["quantity"] / q0) * p0).sum())
        change = to_decimal(unit["amount_1"].sum()) - to_decimal(unit["amount"].sum())
        volume_d = Decimal(repr(volume)).quantize(Decimal("1e-10"))
        mix_d = Decimal(repr(mix)).quantize(Decimal("1e-10"))
        effects["volume"] += volume_d
        effects["mix"] += mix_d
        effects["price"] += change - volume_d - mix_d  # the rest: exact in sum
        del c1
    movers = both.with_columns(change=pl.col("amount_1") - pl.col("amount")).select(
        *keys, pl.col("amount").alias("before"), pl.col("amount_1").alias("after"), "change"
    )
    return effects, movers


def _pool_effects(
    con: Connection, model_id: str, month: date, previous: date
) -> tuple[dict[str, Decimal], pl.DataFrame]:
    """Pool-cost and share effects of the cost pools split to the model."""
    rows = warehouse.fetch_frame(
        con,
        """SELECT rule_id, month, sum(amount) FILTER (WHERE model_id = ?) AS mine,
                  sum(amount) AS pool
           FROM allocated_costs WHERE rule_id LIKE 'pool:%' AND month IN (?, ?)
           GROUP BY ALL""",
        [model_id, month, previous],
    )
    effects = {"pool cost": ZERO, "pool share": ZERO}
    movers = []
    for (rule_id,), pool in rows.group_by("rule_id"):
        by_month = {r["month"]: r for r in pool.iter_rows(named=True)}
        before, after = by_month.get(previous), by_month.get(month)
        mine0 = (before or {}).get("mine") or ZERO
        mine1 = (after or {}).get("mine") or ZERO
        total0 = (before or {}).get("pool") or ZERO
        total1 = (after or {}).get("pool") or ZERO
        if mine0 == 0 and mine1 == 0:
            continue
        share0 = mine0 / total0 if total0 else ZERO
        pool_cost = ((total1 - total0) * share0).quantize(Decimal("1e-10"))
        effects["pool cost"] += pool_cost
        effects["pool share"] += (mine1 - mine0) - pool_cost
        movers.append(
            {
                "service_name": f"shared pool {str(rule_id).removeprefix('pool:')}",
                "resource_id": None,
                "consumed_unit": None,
                "before": mine0,
                "after": mine1,
                "change": mine1 - mine0,
            }
        )
    frame = pl.DataFrame(
        movers,
        schema={
            "service_name": pl.String,
            "resource_id": pl.String,
            "consumed_unit": pl.String,
            "before": MONEY,
            "after": MONEY,
            "change": MONEY,
        },
    )
    return effects, frame


def _in_cents(effects: dict[str, Decimal], change: Decimal) -> dict[str, Decimal]:
    """Effects in cents that still add up to the change (in cents): price takes the rounding."""
    out = {k: v.quantize(CENT) for k, v in effects.items()}
    out["price"] += change.quantize(CENT) - sum(out.values(), ZERO)
    return out


def explain(
    con: Connection,
    project: ProjectConfig,
    model_id: str,
    month: date,
    top: int = 10,
    ledgers: dict[date, pl.DataFrame] | None = None,
) -> Explanation:
    """Decompose a model's change in cost from the month before to `month`.

    `ledgers` keeps each month's ledger (with quantities) for the next call: explaining
    several models of one month folds its lines once.

    Raises:
        RoiError: the model is unknown, or the month has not been attributed.
    """
    known = {m.model_id for m in project.models} | set(SENTINELS)
    if model_id not in known:
        raise RoiError(f"no model {model_id!r}; known: {', '.join(sorted(known))} (models/*.toml)")
    previous = previous_month(month)
    totals = dict(
        warehouse.fetch_all(
            con,
            "SELECT month, sum(amount) FROM allocated_costs WHERE model_id = ? "
            "AND month IN (?, ?) GROUP BY 1",
            [model_id, month, previous],
        )
    )
    if month not in {
        r[0] for r in warehouse.fetch_all(con, "SELECT DISTINCT month FROM allocated_costs")
    }:
        raise RoiError(f"{month:%Y-%m} is not attributed; run `roi attribute` first")
    kept = {} if ledgers is None else ledgers
    for m in (previous, month):
        if m not in kept:
            kept[m] = plan_attribution(
                con, project.models, project.attribution, m, project.pools, quantities=True
            ).ledger
    effects, movers = _pvm(_items(kept[previous], model_id), _items(kept[month], model_id))
    pool_effects, pool_movers = _pool_effects(con, model_id, month, previous)
    effects |= pool_effects
    effects = _in_cents(effects, totals.get(month, ZERO) - totals.get(previous, ZERO))
    frame = pl.DataFrame(
        {"effect": list(effects), "amount": list(effects.values())},
        schema={"effect": pl.String, "amount": MONEY},
    )
    movers = (
        pl.concat([movers.cast(pool_movers.schema), pool_movers])
        .filter(pl.col("change") != 0)
        .sort(pl.col("change").abs(), descending=True)
        .head(top)
    )
    return Explanation(
        model_id,
        month,
        previous,
        totals.get(previous, ZERO),
        totals.get(month, ZERO),
        frame,
        movers,
    )
