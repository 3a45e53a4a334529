"""OpenCost's own cost per token for a self-hosted model (`inference_costs`), beside roi's.

OpenCost's inference-cost API prices each vLLM-served model from its allocations and the tokens
vLLM counted, split between input and output by prefill and decode time. That cost is GPU time
the bills already hold, so roi never adds it to cost: it is shown next to the model's own
self-hosted unit cost (`llm_unit_costs`), per month, as three rates recomputed from OpenCost's
sums (not by averaging its per-window rates):

- blended: Σ total cost / Σ (prompt + generated tokens) × 1M;
- input: Σ input cost / Σ effective input tokens × 1M (prompt tokens less those served from the
  KV cache, where OpenCost gives `cacheSavingsFraction`; else every prompt token);
- output: Σ output cost / Σ generated tokens × 1M.

OpenCost's worked example (3.20 USD, 12M prompt tokens of which 800k cached, 3M generated, equal
prefill and decode time) gives 0.213, 0.143 and 0.533 USD per 1M, as `roi.value.self_hosted`
does. A model's rows are the OpenCost entries whose model name is one its self-hosted requests
used that month (case aside, a LiteLLM provider prefix such as `hosted_vllm/` aside), in the
project's currency, on the `allocation` basis (it reconciles to the bill) where OpenCost gave
it, else `usage`.
"""

from __future__ import annotations

import polars as pl

from roi import warehouse
from roi.vocabulary import SELF_HOSTED_PROVIDERS
from roi.warehouse import Connection

RATES_SCHEMA: dict[str, pl.DataType] = {
    "month": pl.Date(),
    "model_id": pl.String(),
    "opencost_per_1m_tokens": pl.Float64(),
    "opencost_input_per_1m_tokens": pl.Float64(),
    "opencost_output_per_1m_tokens": pl.Float64(),
    "opencost_basis": pl.String(),
}
_PREFIX = "^(" + "|".join(SELF_HOSTED_PROVIDERS) + ")/"


def served_names(con: Connection, providers: tuple[str, ...]) -> pl.DataFrame:
    """Per month, provider, portfolio id and feature: the model names requests to `providers` used,
    lower-cased and without a LiteLLM provider prefix."""
    if not providers:
        return pl.DataFrame(
            schema={
                "month": pl.Date,
                "model_id": pl.String,
                "feature": pl.String,
                "name": pl.String,
            }
        )
    marks = ", ".join("?" for _ in providers)
    return warehouse.fetch_frame(
        con,
        f"""SELECT DISTINCT date_trunc('month', timezone('UTC', ts))::DATE AS month, provider,
                   model_id, feature, regexp_replace(lower(model), '{_PREFIX}', '') AS name
            FROM inference_usage WHERE provider IN ({marks})""",
        list(providers),
    )


def _sums(con: Connection, currency: str) -> pl.DataFrame:
    """OpenCost's sums per month, model name and cost basis in the project's currency."""
    return warehouse.fetch_frame(
        con,
        f"""SELECT date_trunc('month', timezone('UTC', window_start))::DATE AS month,
                   regexp_replace(lower(model_name), '{_PREFIX}', '') AS name, cost_basis,
                   sum(total_cost) AS total_cost, sum(input_cost) AS input_cost,
                   sum(output_cost) AS output_cost,
                   sum(prompt_tokens - coalesce(cached_tokens, 0)) AS effective_input,
                   sum(prompt_tokens + generation_tokens) AS tokens,
                   sum(generation_tokens) AS generated
            FROM inference_costs WHERE currency = ? GROUP BY ALL""",
        [currency],
    )


def opencost_rates(con: Connection, names: pl.DataFrame, currency: str) -> pl.DataFrame:
    """Per month and model (`names`: month, model_id as roi's model, name), OpenCost's blended,
    input and output cost per 1M tokens and the basis they are on."""
    sums = _sums(con, currency)
    if not sums.height or not names.height:
        return pl.DataFrame(schema=RATES_SCHEMA)
    matched = names.select("month", "model_id", "name").unique().join(sums, on=["month", "name"])
    # The allocation basis where OpenCost gave it for the model that month, else usage.
    chosen = matched.group_by("month", "model_id").agg(
        pl.when((pl.col("cost_basis") == "allocation").any())
        .then(pl.lit("allocation"))
        .otherwise(pl.lit("usage"))
        .alias("opencost_basis")
    )
    amounts = ("total_cost", "input_cost", "output_cost", "effective_input", "tokens", "generated")
    totals = (
        matched.join(chosen, on=["month", "model_id"])
        .filter(pl.col("cost_basis") == pl.col("opencost_basis"))
        .group_by("month", "model_id", "opencost_basis")
        .agg(
            *(pl.col(c).sum() for c in amounts),
            (pl.col("input_cost").is_null() | pl.col("output_cost").is_null())
            .any()
            .alias("no_split"),
        )
    )

    def per_1m(amount: str, tokens: str) -> pl.Expr:
        return pl.when(pl.col(tokens) > 0).then(pl.col(amount) / pl.col(tokens) * 1e6)

    split = ~pl.col("no_split")
    return totals.select(
        "month",
        "model_id",
        per_1m("total_cost", "tokens").alias("opencost_per_1m_tokens"),
        pl.when(split)
        .then(per_1m("input_cost", "effective_input"))
        .alias("opencost_input_per_1m_tokens"),
        pl.when(split)
        .then(per_1m("output_cost", "generated"))
        .alias("opencost_output_per_1m_tokens"),
        "opencost_basis",
    ).cast(RATES_SCHEMA)  # type: ignore[arg-type]
