"""FOCUS 1.2 cost and usage exports of the sample: AWS and Azure, one line per resource-day.

Besides plain on-demand usage the exports carry what makes real bills hard: a compute savings
plan (monthly fee as a Purchase, covered usage at the plan rate, Unused commitment on the days a
node was drained), an Azure reservation bought up front and amortized over a year, promotional
credits, tax, a correction to an already invoiced month, a month AWS re-issued with fixes, and
tags that are missing, misspelt or stale.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
import polars as pl

from roi.sample.llm import daily_tokens
from roi.sample.meters import (
    AZURE_OPENAI_ID,
    BEDROCK_PROFILE,
    LLM_PRICES,
    NODE2_DOWN,
    RESERVATION_END,
    RESERVATION_ID,
    RESERVATION_START,
    RESERVATION_UPFRONT,
    SAVINGS_PLAN_ARN,
    SAVINGS_PLAN_RATE,
    Meter,
)
from roi.sample.meters_aws import AWS_METERS
from roi.sample.meters_azure import AZURE_METERS
from roi.sample.portfolio import (
    AWS_PLATFORM,
    AWS_PROD,
    AZURE_SUB,
    FIRST_MONTH,
    LAST_MONTH,
    MODELS_BY_ID,
    next_month,
)
from roi.sample.rng import rng_for


def _days(first: date, last_exclusive: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last_exclusive - first).days)]


def _active_window(meter: Meter) -> tuple[date, date]:
    start, end = meter.start, meter.end
    if meter.model:
        model = MODELS_BY_ID[meter.model]
        start = max(start, model.launched)
        if model.retired:
            end = min(end, model.retired + timedelta(days=1))
    return max(start, FIRST_MONTH), min(end, next_month(LAST_MONTH))


def _quantities(meter: Meter, days: list[date], rng: np.random.Generator) -> np.ndarray:
    weekday = np.array([d.weekday() for d in days])
    n = len(days)
    base = np.full(n, meter.quantity)
    if meter.pattern == "weekday":
        base = np.where(weekday < 5, base, base * 0.2)
    elif meter.pattern == "business_hours":
        base = np.where(weekday < 5, base, 0.0)
    elif meter.pattern == "training":
        base = np.where(weekday == 6, base, 0.0)
    elif meter.pattern == "growth":
        base = base * np.linspace(1.0, 1.6, n)
    if meter.noise:
        base = base * rng.lognormal(0.0, meter.noise, n)
    if meter.key == "eks-node-2":
        down = np.array([any(a <= d <= b for a, b in NODE2_DOWN) for d in days])
        base = np.where(down, 0.0, base)
    return np.round(base, 6)


def _tags(meter: Meter, rng: np.random.Generator, n: int) -> list[str | None]:
    text = json.dumps(meter.tags, separators=(",", ":")) if meter.tags else None
    if not meter.tag_dropout:
        return [text] * n
    keep = rng.random(n) >= meter.tag_dropout
    return [text if k else None for k in keep]


def _sku_details(meter: Meter) -> str | None:
    details: dict[str, object] = {}
    if meter.instance_type:
        details["InstanceType"] = meter.instance_type
    if meter.cores:
        details["CoreCount"] = meter.cores
    if meter.memory_gb:
        details["MemorySize"] = meter.memory_gb
    if meter.gpu_count:
        details["GpuCount"] = meter.gpu_count
    if meter.instance_type and meter.category == "Compute":
        details["OperatingSystem"] = "Linux"
    return json.dumps(details, separators=(",", ":")) if details else None


def _meter_lines(meter: Meter, rng: np.random.Generator) -> pl.DataFrame:
    start, end = _active_window(meter)
    days = _days(start, end) if start < end else []
    if not days:
        return pl.DataFrame()
    qty = _quantities(meter, days, rng)
    frame = pl.DataFrame(
        {
            "day": days,
            "quantity": qty,
            "tags": _tags(meter, rng, len(days)),
        },
        schema={"day": pl.Date, "quantity": pl.Float64, "tags": pl.String},
    ).filter(pl.col("quantity") > 0)
    list_cost = pl.col("quantity") * meter.price
    on_sp = meter.commitment == "savings_plan"
    in_ri = (
        (pl.col("day") >= RESERVATION_START) & (pl.col("day") <= RESERVATION_END)
        if meter.commitment == "reservation"
        else pl.lit(False)
    )
    daily_ri = RESERVATION_UPFRONT / 365 / 24
    effective = (
        list_cost * SAVINGS_PLAN_RATE
        if on_sp
        else pl.when(in_ri).then(pl.col("quantity") * daily_ri).otherwise(list_cost)
    )
    committed = pl.lit(True) if on_sp else in_ri
    return frame.with_columns(
        key=pl.lit(meter.key),
        provider=pl.lit(meter.provider),
        sub_account=pl.lit(meter.sub_account),
        charge_category=pl.lit("Usage"),
        charge_class=pl.lit(None, pl.String),
        charge_frequency=pl.lit("Usage-Based"),
        period_start=pl.col("day"),
        period_end=pl.col("day") + pl.duration(days=1),
        service=pl.lit(meter.service),
        category=pl.lit(meter.category),
        subcategory=pl.lit(meter.subcategory),
        resource_id=pl.lit(meter.resource_id, pl.String),
        resource_name=pl.lit(meter.resource_name, pl.String),
        resource_type=pl.lit(meter.resource_type, pl.String),
        sku_id=pl.lit(meter.sku_id),
        sku_meter=pl.lit(meter.sku_meter),
        description=pl.lit(meter.description),
        unit=pl.lit(meter.unit),
        list_price=pl.lit(meter.price),
        list_cost=list_cost,
        billed=pl.when(committed).then(0.0).otherwise(list_cost),
        effective=effective,
        pricing_category=pl.when(committed).then(pl.lit("Committed")).otherwise(pl.lit("Standard")),
        commitment_id=pl.when(committed)
        .then(pl.lit(SAVINGS_PLAN_ARN if on_sp else RESERVATION_ID))
        .otherwise(None),
        commitment_status=pl.when(committed).then(pl.lit("Used")).otherwise(None),
        sku_details=pl.lit(_sku_details(meter), pl.String),
        region=pl.lit(meter.region),
        service_code=pl.lit(meter.service_code, pl.String),
        operation=pl.lit(meter.operation, pl.String),
        resource_group=pl.lit(meter.resource_group, pl.String),
        meter_category=pl.lit(meter.meter_category, pl.String),
    )


def _llm_lines(seed: int, logs: pl.DataFrame) -> pl.DataFrame:
    """Token meters: Azure OpenAI (shared, untagged) and Bedrock (tagged inference profile)."""
    tokens = daily_tokens(seed, logs)
    parts = []
    meters = (
        ("input_tokens", "Inp", 1),
        ("cached_tokens", "Cached Inp", 2),
        ("cache_write_tokens", "Cache Write", 3),
        ("output_tokens", "Outp", 4),
    )
    for column, label, price_index in meters:
        frame = tokens.filter(pl.col(column) > 0).with_columns(
            provider=pl.col("model").replace_strict({m: p[0] for m, p in LLM_PRICES.items()}),
            list_price=pl.col("model").replace_strict(
                {m: p[price_index] for m, p in LLM_PRICES.items()}, return_dtype=pl.Float64
            ),
            quantity=pl.col(column).cast(pl.Float64) / 1000,
            label=pl.lit(label),
        )
        parts.append(frame.filter(pl.col("list_price") > 0))
    lines = pl.concat(parts)
    azure = pl.col("provider") == "Microsoft"
    return lines.select(
        "day",
        "quantity",
        pl.when(azure)
        .then(pl.lit(None, pl.String))
        .otherwise(pl.lit(json.dumps({"ml-model": "document-extraction"}, separators=(",", ":"))))
        .alias("tags"),
        pl.concat_str([pl.lit("llm-"), pl.col("model"), pl.lit("-"), pl.col("label")]).alias("key"),
        "provider",
        pl.when(azure).then(pl.lit(AZURE_SUB)).otherwise(pl.lit(AWS_PROD)).alias("sub_account"),
        pl.lit("Usage").alias("charge_category"),
        pl.lit(None, pl.String).alias("charge_class"),
        pl.lit("Usage-Based").alias("charge_frequency"),
        pl.col("day").alias("period_start"),
        (pl.col("day") + pl.duration(days=1)).alias("period_end"),
        pl.when(azure)
        .then(pl.lit("Azure AI Services"))
        .otherwise(pl.lit("Amazon Bedrock"))
        .alias("service"),
        pl.lit("AI and Machine Learning").alias("category"),
        pl.when(azure)
        .then(pl.lit("AI Platforms"))
        .otherwise(pl.lit("Generative AI"))
        .alias("subcategory"),
        pl.when(azure)
        .then(pl.lit(AZURE_OPENAI_ID))
        .otherwise(pl.lit(BEDROCK_PROFILE))
        .alias("resource_id"),
        pl.when(azure)
        .then(pl.lit("oai-northwind-shared"))
        .otherwise(pl.lit("docx-claude"))
        .alias("resource_name"),
        pl.when(azure)
        .then(pl.lit("microsoft.cognitiveservices/accounts"))
        .otherwise(pl.lit("ApplicationInferenceProfile"))
        .alias("resource_type"),
        pl.col("model")
        .str.to_uppercase()
        .str.replace_all(r"[^A-Z0-9]", "")
        .str.slice(0, 12)
        .alias("sku_id"),
        pl.concat_str([pl.col("model"), pl.lit(" "), pl.col("label"), pl.lit(" Tokens")]).alias(
            "sku_meter"
        ),
        pl.concat_str([pl.col("model"), pl.lit(" "), pl.col("label"), pl.lit(" 1K Tokens")]).alias(
            "description"
        ),
        pl.lit("1K Tokens").alias("unit"),
        "list_price",
        (pl.col("quantity") * pl.col("list_price")).alias("list_cost"),
        (pl.col("quantity") * pl.col("list_price")).alias("billed"),
        (pl.col("quantity") * pl.col("list_price")).alias("effective"),
        pl.lit("Standard").alias("pricing_category"),
        pl.lit(None, pl.String).alias("commitment_id"),
        pl.lit(None, pl.String).alias("commitment_status"),
        pl.lit(None, pl.String).alias("sku_details"),
        pl.when(azure).then(pl.lit("eastus")).otherwise(pl.lit("us-east-1")).alias("region"),
        pl.when(azure).then(None).otherwise(pl.lit("AmazonBedrock")).alias("service_code"),
        pl.when(azure).then(None).otherwise(pl.lit("InvokeModel")).alias("operation"),
        pl.when(azure).then(pl.lit("rg-genai-shared")).otherwise(None).alias("resource_group"),
        pl.when(azure).then(pl.lit("Cognitive Services")).otherwise(None).alias("meter_category"),
    )


def _monthly_lines(usage: pl.DataFrame) -> pl.DataFrame:
    """Savings-plan fee and unused commitment, the reservation purchase and credits."""
    rows: list[dict[str, object]] = []
    template: dict[str, object] = {
        "quantity": None,
        "tags": None,
        "charge_class": None,
        "charge_frequency": "Recurring",
        "resource_type": None,
        "sku_meter": None,
        "unit": None,
        "list_price": None,
        "pricing_category": None,
        "commitment_id": None,
        "commitment_status": None,
        "sku_details": None,
        "service_code": None,
        "operation": None,
        "resource_group": None,
        "meter_category": None,
        "resource_name": None,
    }
    sp_daily = 2 * 24 * 10.493 * SAVINGS_PLAN_RATE
    covered = (
        usage.filter(pl.col("commitment_id") == SAVINGS_PLAN_ARN)
        .group_by("day")
        .agg(pl.col("effective").sum())
    )
    covered_by_day = dict(
        zip(covered["day"].to_list(), covered["effective"].to_list(), strict=True)
    )
    for month in _months():
        days = _days(month, next_month(month))
        rows.append(
            {
                **template,
                "key": "savings-plan-fee",
                "provider": "AWS",
                "sub_account": AWS_PLATFORM,
                "charge_category": "Purchase",
                "period_start": month,
                "period_end": next_month(month),
                "day": month,
                "service": "Savings Plans for AWS Compute usage",
                "category": "Compute",
                "subcategory": "Other (Compute)",
                "resource_id": SAVINGS_PLAN_ARN,
                "resource_name": "ml-gpu-compute-sp",
                "sku_id": "SP-COMPUTE-1Y-NU",
                "description": "1 year No Upfront Compute Savings Plan recurring fee",
                "list_cost": round(sp_daily * len(days), 6),
                "billed": round(sp_daily * len(days), 6),
                "effective": 0.0,
                "pricing_category": "Committed",
                "commitment_id": SAVINGS_PLAN_ARN,
                "region": "us-east-1",
                "service_code": "ComputeSavingsPlans",
                "operation": "SavingsPlanRecurringFee",
            }
        )
        for day in days:
            unused = sp_daily - covered_by_day.get(day, 0.0)
            if unused > 0.005:
                rows.append(
                    {
                        **template,
                        "key": "savings-plan-unused",
                        "provider": "AWS",
                        "sub_account": AWS_PLATFORM,
                        "charge_category": "Usage",
                        "charge_frequency": "Usage-Based",
                        "period_start": day,
                        "period_end": day + timedelta(days=1),
                        "day": day,
                        "service": "Savings Plans for AWS Compute usage",
                        "category": "Compute",
                        "subcategory": "Other (Compute)",
                        "resource_id": SAVINGS_PLAN_ARN,
                        "resource_name": "ml-gpu-compute-sp",
                        "sku_id": "SP-COMPUTE-1Y-NU",
                        "description": "Unused Compute Savings Plan commitment",
                        "list_cost": 0.0,
                        "billed": 0.0,
                        "effective": round(unused, 6),
                        "pricing_category": "Committed",
                        "commitment_id": SAVINGS_PLAN_ARN,
                        "commitment_status": "Unused",
                        "region": "us-east-1",
                        "service_code": "ComputeSavingsPlans",
                        "operation": "SavingsPlanUnused",
                    }
                )
        if month == RESERVATION_START:
            rows.append(
                {
                    **template,
                    "key": "reservation-purchase",
                    "provider": "Microsoft",
                    "sub_account": AZURE_SUB,
                    "charge_category": "Purchase",
                    "charge_frequency": "One-Time",
                    "period_start": month,
                    "period_end": next_month(month),
                    "day": month,
                    "service": "Azure Reservations",
                    "category": "Management and Governance",
                    "subcategory": "Cost Management",
                    "resource_id": RESERVATION_ID,
                    "resource_name": "churn-d4sv3-1y",
                    "sku_id": "DZH318Z0BQ4L",
                    "description": "Reserved VM Instance, Standard_D4s_v3, US East, 1 Year",
                    "list_cost": RESERVATION_UPFRONT,
                    "billed": RESERVATION_UPFRONT,
                    "effective": 0.0,
                    "pricing_category": "Committed",
                    "commitment_id": RESERVATION_ID,
                    "region": "eastus",
                    "meter_category": "Virtual Machines Licenses",
                }
            )
        if date(2025, 1, 1) <= month <= date(2025, 4, 1):
            rows.append(
                {
                    **template,
                    "key": "credit",
                    "provider": "AWS",
                    "sub_account": AWS_PROD,
                    "charge_category": "Credit",
                    "charge_frequency": "One-Time",
                    "period_start": month,
                    "period_end": next_month(month),
                    "day": month,
                    "service": "AWS Support (Business)",
                    "category": "Other",
                    "subcategory": "Other (Other)",
                    "resource_id": None,
                    "sku_id": "CREDIT-MAP-2025",
                    "description": "AWS Migration Acceleration Program credit",
                    "list_cost": 0.0,
                    "billed": -2_500.0,
                    "effective": -2_500.0,
                    "region": "us-east-1",
                    "service_code": "AWSCredits",
                }
            )
    return pl.DataFrame(rows, infer_schema_length=None)


def _meter(key: str) -> Meter:
    return next(m for m in (*AWS_METERS, *AZURE_METERS) if m.key == key)


def _months() -> list[date]:
    out, m = [], FIRST_MONTH
    while m <= LAST_MONTH:
        out.append(m)
        m = next_month(m)
    return out


def _tax_lines(lines: pl.DataFrame) -> pl.DataFrame:
    """US sales tax on the AWS production account: 3.5% of the month's billed usage."""
    taxed = (
        lines.filter(
            (pl.col("provider") == "AWS")
            & (pl.col("sub_account") == AWS_PROD)
            & (pl.col("charge_category") == "Usage")
        )
        .with_columns(month=pl.col("period_start").dt.truncate("1mo"))
        .group_by("month")
        .agg(pl.col("billed").sum())
    )
    return taxed.select(
        pl.col("month").alias("day"),
        pl.lit(None, pl.Float64).alias("quantity"),
        pl.lit(None, pl.String).alias("tags"),
        pl.lit("tax").alias("key"),
        pl.lit("AWS").alias("provider"),
        pl.lit(AWS_PROD).alias("sub_account"),
        pl.lit("Tax").alias("charge_category"),
        pl.lit("Recurring").alias("charge_frequency"),
        pl.col("month").alias("period_start"),
        pl.col("month").dt.offset_by("1mo").alias("period_end"),
        pl.lit("Tax").alias("service"),
        pl.lit("Other").alias("category"),
        pl.lit("Other (Other)").alias("subcategory"),
        pl.lit("Sales tax").alias("description"),
        (pl.col("billed") * 0.035).round(6).alias("billed"),
        (pl.col("billed") * 0.035).round(6).alias("effective"),
        pl.lit(0.0).alias("list_cost"),
        pl.lit("us-east-1").alias("region"),
    )


def _correction_line() -> pl.DataFrame:
    """A refund, invoiced in 2025-09, of a day AWS billed twice in 2025-07."""
    day = date(2025, 7, 14)
    amount = -24 * 0.8048
    return pl.DataFrame(
        [
            {
                "day": date(2025, 9, 1),
                "quantity": -24.0,
                "tags": json.dumps({"ml-model": "recsys"}),
                "key": "correction",
                "provider": "AWS",
                "sub_account": AWS_PROD,
                "charge_category": "Usage",
                "charge_class": "Correction",
                "charge_frequency": "Usage-Based",
                "period_start": day,
                "period_end": day + timedelta(days=1),
                "service": "Amazon Elastic Compute Cloud",
                "category": "Compute",
                "subcategory": "Virtual Machines",
                "resource_id": _meter("recsys-gpu-1").resource_id,
                "resource_name": "recsys-infer-1",
                "resource_type": "Instance",
                "sku_id": "3MVK8TQ2RX5PJ6YA",
                "sku_meter": "BoxUsage:g6.xlarge",
                "description": "Correction: duplicate g6.xlarge usage billed on 2025-07-14",
                "unit": "Hours",
                "list_price": 0.8048,
                "list_cost": amount,
                "billed": amount,
                "effective": amount,
                "pricing_category": "Standard",
                "region": "us-east-1",
                "service_code": "AmazonEC2",
                "operation": "RunInstances",
            }
        ],
        infer_schema_length=None,
    )


def billing_lines(seed: int, logs: pl.DataFrame) -> pl.DataFrame:
    """Every billed line of the sample (both providers, all months), in a working schema.

    `logs` are the LiteLLM spend logs: in the months they cover, the billed token volumes are
    the logged ones plus traffic that bypassed the proxy.
    """
    rng = rng_for(seed, "billing")
    parts = [_meter_lines(m, rng) for m in (*AWS_METERS, *AZURE_METERS)]
    usage = pl.concat(
        [p for p in parts if p.height] + [_llm_lines(seed, logs)], how="diagonal_relaxed"
    )
    monthly = _monthly_lines(usage)
    lines = pl.concat([usage, monthly, _correction_line()], how="diagonal_relaxed")
    lines = pl.concat([lines, _tax_lines(lines)], how="diagonal_relaxed")
    # Billing period: the month the line is invoiced in (corrections arrive in a later month).
    return lines.with_columns(
        billing_month=pl.when(pl.col("key") == "correction")
        .then(pl.col("day"))
        .otherwise(pl.col("period_start").dt.truncate("1mo")),
    ).sort("provider", "billing_month", "period_start", "key")
