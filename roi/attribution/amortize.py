"""Training cost amortized over a model's declared life: the P&L view beside the expense view.

`allocated_costs` charges training when it is billed (the expense view, which reconciles with
the bills month by month). For a model declared `training = "amortize:N"`, `amortized_costs`
spreads each month's training cost evenly over that month and the N − 1 after it (an exact
split: the parts add up to the cost), and the view `allocated_costs_amortized` shows every cost
with those months' shares in place of the training as billed. Both are queryable.
"""

from __future__ import annotations

import polars as pl

from roi import tables
from roi.attribution.split import from_units, split_units, to_units
from roi.config import ModelConfig
from roi.vocabulary import add_months

AMORTIZED_SCHEMA = tables.AMORTIZED_COSTS.polars_schema(exclude=("attribution_id",))


def amortize(allocated: pl.DataFrame, models: tuple[ModelConfig, ...]) -> pl.DataFrame:
    """Amortization rows for the training cost of models that spread it."""
    spread = {m.model_id: m.amortize_months for m in models if m.amortize_months}
    training = allocated.filter(
        (pl.col("cost_type") == "training") & pl.col("model_id").is_in(list(spread))
    )
    rows = []
    for row in training.iter_rows(named=True):
        months = spread[row["model_id"]]
        assert months is not None
        parts = split_units(to_units(row["amount"]), {f"{i:04d}": 1.0 for i in range(months)})
        for key, units in sorted(parts.items()):
            rows.append(
                {
                    "incurred_month": row["month"],
                    "month": add_months(row["month"], int(key)),
                    "model_id": row["model_id"],
                    "rule_id": row["rule_id"],
                    "provider": row["provider"],
                    "currency": row["currency"],
                    "amount": from_units(units),
                }
            )
    return pl.DataFrame(rows, schema=AMORTIZED_SCHEMA)
