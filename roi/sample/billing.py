"""FOCUS 1.2 cost and usage exports of the sample: AWS and Azure, one line per resource-day.

Besides plain on-demand usage the exports carry what makes real bills hard: a compute savings
plan (monthly fee as a Purchase, covered usage at the plan rate, Unused commitment on the days a
node was drained), an Azure reservation bought up front and amortized over a year, promotional
credits, tax, a correction to an already invoiced month, a month AWS re-issued with fixes, and
tags that are missing, misspelt or stale.

The lines are built by kind: metered usage (`billing_usage`), LLM tokens (`billing_tokens`) and
the charges without usage (`billing_charges`); this module puts them together.
"""

from __future__ import annotations

import polars as pl

from roi.sample.billing_charges import correction_line, monthly_lines, tax_lines
from roi.sample.billing_tokens import llm_lines
from roi.sample.billing_usage import meter_lines
from roi.sample.meters_aws import AWS_METERS
from roi.sample.meters_azure import AZURE_METERS
from roi.sample.rng import rng_for


def billing_lines(seed: int, logs: pl.DataFrame) -> pl.DataFrame:
    """Every billed line of the sample (both providers, all months), in a working schema.

    `logs` are the LiteLLM spend logs: in the months they cover, the billed token volumes are
    the logged ones plus traffic that bypassed the proxy.
    """
    rng = rng_for(seed, "billing")
    parts = [meter_lines(m, rng) for m in (*AWS_METERS, *AZURE_METERS)]
    usage = pl.concat(
        [p for p in parts if p.height] + [llm_lines(seed, logs)], how="diagonal_relaxed"
    )
    lines = pl.concat([usage, monthly_lines(usage), correction_line()], how="diagonal_relaxed")
    lines = pl.concat([lines, tax_lines(lines)], how="diagonal_relaxed")
    # Billing period: the month the line is invoiced in (corrections arrive in a later month).
    return lines.with_columns(
        billing_month=pl.when(pl.col("key") == "correction")
        .then(pl.col("day"))
        .otherwise(pl.col("period_start").dt.truncate("1mo")),
    ).sort("provider", "billing_month", "period_start", "key")
