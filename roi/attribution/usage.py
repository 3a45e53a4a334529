"""LLM usage with no bill behind it: a cost of its own, priced as the gateway reported it.

Usage of a provider whose bill is in `cost_lines` (Azure OpenAI on the Azure bill, Bedrock on
the AWS bill) is only an allocation key for that bill: a pool splits the bill by it and the
gateway's figure never adds to cost. Usage of a provider billed elsewhere (a direct OpenAI or
Anthropic API account paid by card) has no bill in the warehouse: it becomes `usage_costs`
rows, per month, model and provider, priced at the cost the gateway reported, and says so.
They sit beside `allocated_costs` (which reconciles to the bills) and are added to a model's
cost in the `model_costs` view.

Where the provider's own invoice is loaded (`provider_invoices`: OpenAI's Costs API,
Anthropic's cost report), that month's usage costs the invoice, spread over the models by usage
(`roi.attribution.trueup`), not what the gateway reported.

Which cloud bills which gateway provider is `USAGE_BILLED_BY`; `[attribution]
usage_billed_by` adds to it (e.g. `{ openai = "OpenAI" }` once OpenAI's invoices are loaded).
Usage counts as billed when its provider's bill has lines in that month, or when a pool
takes it as its basis. Self-hosted serving (vLLM, Ollama: `SELF_HOSTED_PROVIDERS`) is never
priced per token: its cost is the GPU time the bills already hold.
"""

from __future__ import annotations

import polars as pl

from roi import tables, warehouse
from roi.attribution.ledger import MonthFilter, month_column
from roi.attribution.pool_bases.tokens import pool_requests, with_target_model
from roi.attribution.trueup import invoiced_usage
from roi.config import AttributionSettings, EngineSettings, ModelConfig, PoolConfig
from roi.vocabulary import SELF_HOSTED_PROVIDERS, UNALLOCATED, USAGE_BILLED_BY
from roi.warehouse import Connection

USAGE_COSTS_SCHEMA = tables.USAGE_COSTS.polars_schema(exclude=("attribution_id",))


def billed_by(settings: AttributionSettings) -> dict[str, str]:
    """Gateway provider → the billing provider whose bill holds its cost."""
    return {**USAGE_BILLED_BY, **dict(settings.usage_billed_by)}


def billed_months(con: Connection, settings: AttributionSettings) -> pl.DataFrame:
    """(month, provider) of every bill in `cost_lines`."""
    if settings.month_basis == "billing_period":  # the file manifest knows, without a scan
        sql = """SELECT DISTINCT date_trunc('month', billing_period_start)::DATE AS month,
                        provider FROM _cost_files WHERE superseded_by IS NULL"""
    else:
        sql = f"""SELECT DISTINCT date_trunc('month', {month_column(settings)})::DATE AS month,
                         provider FROM cost_lines"""
    return warehouse.fetch_frame(con, sql)


def _unpooled(
    con: Connection,
    pools: tuple[PoolConfig, ...],
    month: MonthFilter,
    engine: EngineSettings | None,
) -> pl.DataFrame:
    """Per month, provider, model id, feature and currency: the requests no pool takes (the
    engine's groups are per load as well; their load ids become a list here)."""
    from roi.fold.engines import DUCKDB, unpooled_usage_frame

    pooled = tuple(pool_requests(pool) for pool in pools)
    groups = unpooled_usage_frame(con, pooled, SELF_HOSTED_PROVIDERS, month, engine or DUCKDB)
    return groups.group_by(
        "month", "provider", "model_id", "feature", "currency", maintain_order=True
    ).agg(
        pl.col("amount").sum(),
        pl.col("requests").sum(),
        pl.col("input_tokens").sum(),
        pl.col("output_tokens").sum(),
        pl.col("unpriced_requests").sum(),
        pl.col("_load_id").drop_nulls().unique().sort().alias("load_ids"),
    )


def unbilled_usage(
    con: Connection,
    models: tuple[ModelConfig, ...],
    pools: tuple[PoolConfig, ...],
    settings: AttributionSettings,
    month: MonthFilter = None,
    engine: EngineSettings | None = None,
    ledger: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """`usage_costs` rows: per month, model and provider, usage that no loaded bill covers
    (the requests folded by `engine`, DuckDB on `con` by default: `roi.fold.usage`).

    `ledger`: the line groups of the months attributed; where the engine reads the billing
    lines outside the warehouse (`[engine] billing`), its months and providers are the bills.
    """
    mapping = billed_by(settings)
    usage = _unpooled(con, pools, month, engine)
    usage = usage.with_columns(reason=pl.lit(None, pl.String))
    invoiced = invoiced_usage(con, month)
    if invoiced.height:  # the provider's invoice is the cost of those months, not the gateway
        covered = invoiced.select("month", "provider").unique()
        usage = pl.concat(
            [usage.join(covered, on=["month", "provider"], how="anti"), invoiced],
            how="diagonal_relaxed",
        )
    if usage.height:
        lake = engine is not None and engine.reads_elsewhere and engine.billing is not None
        if lake and ledger is not None:
            bills = ledger.select("month", "provider").unique()
        else:
            bills = billed_months(con, settings)
        bills = bills.with_columns(billed=pl.lit(True))
        usage = (
            usage.with_columns(bill=pl.col("provider").replace_strict(mapping, default=None))
            .join(bills, left_on=["month", "bill"], right_on=["month", "provider"], how="left")
            .filter(pl.col("billed").is_null())
            .drop("bill", "billed")
        )
    if not usage.height:
        return pl.DataFrame(schema=USAGE_COSTS_SCHEMA)
    usage = with_target_model(usage, models)
    bill = pl.col("provider").replace_strict(mapping, default=None)
    reason = (
        pl.lit("priced as the gateway reported: no ")
        + pl.coalesce(bill, pl.col("provider"))
        + pl.lit(" bill in the warehouse for this month")
    )
    unmatched = (
        pl.lit("; LLM feature ")
        + pl.coalesce("feature", pl.lit("(none)"))
        + pl.lit(" matches no model")
    )
    rows = usage.with_columns(
        model_id=pl.col("target").fill_null(UNALLOCATED),
        reason=pl.when(pl.col("reason").is_not_null())
        .then(pl.col("reason"))
        .when(pl.col("target").is_null())
        .then(reason + unmatched)
        .otherwise(reason),
    )
    return (
        rows.group_by("month", "model_id", "provider", "currency", "reason")
        .agg(
            pl.col("amount").sum(),
            pl.col("requests").sum(),
            pl.col("input_tokens").sum(),
            pl.col("output_tokens").sum(),
            pl.col("unpriced_requests").sum(),
            pl.col("load_ids").explode().drop_nulls().unique().sort(),
        )
        .select(list(USAGE_COSTS_SCHEMA))
        .cast(USAGE_COSTS_SCHEMA)  # type: ignore[arg-type]
        .sort("month", "model_id", "provider", "currency")
    )
