"""Self-hosted vs API unit cost (`llm_unit_costs`): what an LLM model pays per 1M tokens.

Per month, model and way of serving, from the gateway's requests (`inference_usage`, matched to
models as attribution matches them: portfolio id, else the feature's selector):
- `api`: tokens sent to a provider's API, at the cost the gateway reported for them (the bill
  may differ by the few percent `roi reconcile` lists; a model's billed `inference_api` cost can
  hold other AI services, such as OCR, that are not tokens);
- `self_hosted`: tokens served by the model's own deployments (a provider in
  `[llm] self_hosted_providers`: vLLM, Ollama, Triton...), and the model's GPU cost (what GPU
  pools charged it and its direct `gpu_compute` lines) plus its share of the pools' idle GPUs
  kept apart (idle GPU-hours × its share of the used GPU-hours): idle capacity is part of what
  self-hosting costs. All of the model's GPU cost counts as serving cost.
Beside each, what the model's reference API (`[llm] api_reference`, at `[llm] api_prices` per 1M
tokens) would charge for the same token mix: uncached input, cached input, cache writes and
output each at its price, so "should we self-host" has a number; and for self-hosted serving,
OpenCost's own blended, input and output rates where its inference-cost API is loaded
(`roi.value.opencost_rates`: a reference, never cost).
"""

from __future__ import annotations

import polars as pl

from roi import tables, warehouse
from roi.attribution.pool_bases.gpu_hours import gpu_cost_sql, gpu_pool_rules
from roi.attribution.pool_bases.tokens import llm_model_matcher
from roi.config import ProjectConfig
from roi.config.models import ApiPrices
from roi.value.opencost_rates import RATES_SCHEMA, opencost_rates, served_names
from roi.value.self_hosted import self_hosted_unit_cost
from roi.vocabulary import IDLE, IDLE_HELD
from roi.warehouse import Connection

TOKEN_COLUMNS = (
    "uncached_input_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "output_tokens",
)


def _usage(con: Connection, project: ProjectConfig) -> pl.DataFrame:
    """LLM requests per month, model (the project's, by model id and feature), serving (API or
    self-hosted) and provider: requests, tokens by kind and the reported cost."""
    # Summed by UTC day first (days since 1970 from the microseconds, rounded down: integer
    # arithmetic), and the days by month: truncating each request's timestamp to its month
    # with time-zone rules took three times as long over 10M requests.
    frame = warehouse.fetch_frame(
        con,
        """SELECT date_trunc('month', DATE '1970-01-01' + day::INTEGER)::DATE AS month,
                  provider, model_id, feature,
                  sum(requests)::BIGINT AS requests,
                  sum(uncached)::BIGINT AS uncached_input_tokens,
                  sum(cached)::BIGINT AS cached_input_tokens,
                  sum(written)::BIGINT AS cache_write_tokens,
                  sum(output)::BIGINT AS output_tokens,
                  sum(cost)::DOUBLE AS reported_cost
           FROM (SELECT fdiv(epoch_us(ts), 86400000000)::BIGINT AS day, provider, model_id, feature,
                        sum(requests) AS requests,
                        sum(input_tokens - cached_input_tokens - cache_write_tokens)
                            AS uncached,
                        sum(cached_input_tokens) AS cached,
                        sum(cache_write_tokens) AS written,
                        sum(output_tokens) AS output, sum(cost) AS cost
                 FROM inference_usage GROUP BY ALL)
           GROUP BY ALL""",
    )
    if not frame.height:
        return frame
    names = frame.select("model_id", "feature").unique()
    model_of = llm_model_matcher(project.models)
    targets = names.with_columns(
        target=pl.struct("model_id", "feature").map_elements(
            lambda r: model_of(r["model_id"], r["feature"]), return_dtype=pl.String
        )
    )
    frame = frame.join(targets, on=["model_id", "feature"], how="left", nulls_equal=True)
    own = {m.model_id: m.llm.self_hosted_providers for m in project.models}
    serving = pl.struct("target", "provider").map_elements(
        lambda r: "self_hosted" if r["provider"] in own.get(r["target"], ()) else "api",
        return_dtype=pl.String,
    )
    return (
        frame.filter(pl.col("target").is_not_null())
        .with_columns(serving=serving)
        .group_by("month", pl.col("target").alias("model_id"), "serving")
        .agg(
            pl.col("provider").drop_nulls().unique().sort().str.join(", ").alias("providers"),
            *(pl.col(c).sum() for c in ("requests", *TOKEN_COLUMNS, "reported_cost")),
        )
    )


def _costs(con: Connection, project: ProjectConfig) -> pl.DataFrame:
    """Per month and model: API cost, GPU cost and the idle share of GPU pools kept apart."""
    currency = project.project.currency
    gpu, gpu_params = gpu_cost_sql(project.pools)
    idle_pools = gpu_pool_rules(project.pools)
    idle = (IDLE, IDLE_HELD)  # capacity nobody held, and held but not busy
    idle_marks = ", ".join("?" for _ in idle_pools) or "NULL"
    return warehouse.fetch_frame(
        con,
        f"""WITH costs AS (
                SELECT month, model_id,
                       sum(amount) FILTER (WHERE {gpu})::DOUBLE AS gpu
                FROM model_costs WHERE currency = ? GROUP BY ALL),
            idle AS (
                SELECT month, rule_id, sum(amount)::DOUBLE AS idle_amount
                FROM allocated_costs
                WHERE model_id IN (?, ?) AND currency = ? AND rule_id IN ({idle_marks})
                GROUP BY ALL),
            used AS (
                SELECT month, rule_id, model_id,
                       quantity / sum(quantity) OVER (PARTITION BY month, rule_id) AS used_share
                FROM allocation_bases
                WHERE model_id NOT IN (?, ?) AND rule_id IN ({idle_marks})),
            idle_share AS (
                SELECT u.month, u.model_id, sum(u.used_share * i.idle_amount) AS idle_cost
                FROM used u JOIN idle i USING (month, rule_id) GROUP BY ALL)
            SELECT c.month, c.model_id, c.gpu, coalesce(s.idle_cost, 0) AS idle_cost
            FROM costs c LEFT JOIN idle_share s USING (month, model_id)""",
        [*gpu_params, currency, *idle, currency, *idle_pools, *idle, *idle_pools],
    )


def _self_hosted_per_1m(row: dict[str, float | None]) -> float | None:
    """The blended cost per 1M tokens of a self-hosted row (prompt: uncached, cached and
    cache-write tokens; generated: output tokens)."""
    if row["cost"] is None:
        return None
    if row["cost"] < 0:  # credits larger than the GPU cost: no rate to split
        tokens = sum(float(row[c] or 0) for c in TOKEN_COLUMNS)
        return row["cost"] / tokens * 1e6 if tokens else None
    cached = float(row["cached_input_tokens"] or 0)
    prompt = (
        float(row["uncached_input_tokens"] or 0) + cached + float(row["cache_write_tokens"] or 0)
    )
    rates = self_hosted_unit_cost(
        float(row["cost"]), prompt, float(row["output_tokens"] or 0), cached
    )
    return rates.blended_per_1m


def same_mix_cost(prices: ApiPrices) -> pl.Expr:
    """What an API at `prices` (per 1M tokens) charges for a row's token mix."""
    cached = prices.cached_input if prices.cached_input is not None else prices.input
    write = prices.cache_write if prices.cache_write is not None else prices.input
    return (
        pl.col("uncached_input_tokens") * prices.input
        + pl.col("cached_input_tokens") * cached
        + pl.col("cache_write_tokens") * write
        + pl.col("output_tokens") * prices.output
    ) / 1e6


def _opencost(con: Connection, project: ProjectConfig) -> pl.DataFrame:
    """OpenCost's rates per month for each model's self-hosted serving (`inference_costs`)."""
    own = {m.model_id: m.llm.self_hosted_providers for m in project.models}
    providers = tuple(sorted({p for ps in own.values() for p in ps}))
    names = served_names(con, providers)
    if not names.height:
        return pl.DataFrame(schema=RATES_SCHEMA)
    model_of = llm_model_matcher(project.models)
    names = names.with_columns(
        target=pl.struct("model_id", "feature").map_elements(
            lambda r: model_of(r["model_id"], r["feature"]), return_dtype=pl.String
        )
    )
    names = names.filter(
        pl.struct("target", "provider").map_elements(
            lambda r: r["provider"] in own.get(r["target"], ()), return_dtype=pl.Boolean
        )
    ).select("month", pl.col("target").alias("model_id"), "name")
    return opencost_rates(con, names, project.project.currency)


def compute_llm_unit_costs(con: Connection, project: ProjectConfig) -> pl.DataFrame:
    """`llm_unit_costs` rows for every model with LLM requests."""
    schema = tables.LLM_UNIT_COSTS.polars_schema()
    usage = _usage(con, project)
    if not usage.height:
        return pl.DataFrame(schema=schema)
    costs = _costs(con, project)
    rates = _opencost(con, project).with_columns(serving=pl.lit("self_hosted"))
    frame = usage.join(costs, on=["month", "model_id"], how="left").join(
        rates, on=["month", "model_id", "serving"], how="left"
    )
    self_hosted = pl.col("serving") == "self_hosted"
    frame = frame.with_columns(
        tokens=pl.sum_horizontal(*TOKEN_COLUMNS),
        idle_cost=pl.when(self_hosted).then(pl.col("idle_cost")),
        cost=pl.when(self_hosted)
        .then(pl.col("gpu").fill_null(0.0) + pl.col("idle_cost").fill_null(0.0))
        .otherwise(pl.col("reported_cost")),
    )
    parts = []
    for model in project.models:
        part = frame.filter(pl.col("model_id") == model.model_id)
        if not part.height:
            continue
        prices = model.llm.api_prices
        if prices is None:
            part = part.with_columns(
                api_reference=pl.lit(None, pl.String),
                api_cost_same_mix=pl.lit(None, pl.Float64),
                note=pl.when(self_hosted)
                .then(pl.lit("GPU cost with its idle share; no [llm] api_prices to compare with"))
                .otherwise(pl.lit("API requests at the cost the gateway reported")),
            )
        else:
            part = part.with_columns(
                api_reference=pl.lit(model.llm.api_reference or "declared API prices"),
                api_cost_same_mix=same_mix_cost(prices),
                note=pl.when(self_hosted)
                .then(pl.lit("GPU cost with its idle share, against the reference API's prices"))
                .otherwise(
                    pl.lit("API requests at the gateway's cost, against the reference API's")
                ),
            )
        parts.append(part)
    per_1m = 1e6 / pl.col("tokens")
    # Self-hosted: OpenCost's blended rate over the tokens served (roi.value.self_hosted).
    served = pl.struct("cost", *TOKEN_COLUMNS).map_elements(
        _self_hosted_per_1m, return_dtype=pl.Float64
    )
    return (
        pl.concat(parts, how="diagonal_relaxed")
        .with_columns(
            cost_per_1m_tokens=pl.when(pl.col("tokens") > 0).then(
                pl.when(self_hosted).then(served).otherwise(pl.col("cost") * per_1m)
            ),
            api_per_1m_tokens=pl.when(pl.col("tokens") > 0).then(
                pl.col("api_cost_same_mix") * per_1m
            ),
            currency=pl.lit(project.project.currency),
            note=pl.when(pl.col("opencost_basis").is_not_null())
            .then(
                pl.col("note")
                + pl.lit("; OpenCost's own rates beside it (")
                + pl.col("opencost_basis")
                + pl.lit(" basis)")
            )
            .otherwise(pl.col("note")),
        )
        .select(list(schema))
        .cast(schema)  # type: ignore[arg-type]
        .sort("month", "model_id", "serving")
    )
