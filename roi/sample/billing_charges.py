"""The sample's billing lines that are not metered usage, one function per kind of line: the
savings plan's monthly fee and its unused commitment, the Azure reservation bought up front,
promotional credits, sales tax, and a correction of an already invoiced month."""

from __future__ import annotations

import json
from datetime import date, timedelta

import polars as pl

from roi.sample.billing_usage import days_between
from roi.sample.meters import (
    RESERVATION_ID,
    RESERVATION_START,
    RESERVATION_UPFRONT,
    SAVINGS_PLAN_ARN,
    SAVINGS_PLAN_RATE,
    Meter,
)
from roi.sample.meters_aws import AWS_METERS
from roi.sample.meters_azure import AZURE_METERS
from roi.sample.portfolio import AWS_PLATFORM, AWS_PROD, AZURE_SUB, months, next_month

Row = dict[str, object]

# Working columns a charge without usage leaves empty unless it says otherwise.
CHARGE_TEMPLATE: Row = {
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
# What the savings plan commits to a day: both shared GPU nodes' on-demand hours at the plan rate.
SAVINGS_PLAN_DAILY = 2 * 24 * 10.493 * SAVINGS_PLAN_RATE
SAVINGS_PLAN: Row = {
    "provider": "AWS",
    "sub_account": AWS_PLATFORM,
    "service": "Savings Plans for AWS Compute usage",
    "category": "Compute",
    "subcategory": "Other (Compute)",
    "resource_id": SAVINGS_PLAN_ARN,
    "resource_name": "ml-gpu-compute-sp",
    "sku_id": "SP-COMPUTE-1Y-NU",
    "pricing_category": "Committed",
    "commitment_id": SAVINGS_PLAN_ARN,
    "region": "us-east-1",
    "service_code": "ComputeSavingsPlans",
}
CREDIT_MONTHS = (date(2025, 1, 1), date(2025, 4, 1))  # first and last month of the credit


def savings_plan_fee(month: date) -> Row:
    """The savings plan's recurring fee of `month`, billed as a Purchase."""
    fee = round(SAVINGS_PLAN_DAILY * len(days_between(month, next_month(month))), 6)
    return {
        **CHARGE_TEMPLATE,
        **SAVINGS_PLAN,
        "key": "savings-plan-fee",
        "charge_category": "Purchase",
        "period_start": month,
        "period_end": next_month(month),
        "day": month,
        "description": "1 year No Upfront Compute Savings Plan recurring fee",
        "list_cost": fee,
        "billed": fee,
        "effective": 0.0,
        "operation": "SavingsPlanRecurringFee",
    }


def savings_plan_unused(day: date, unused: float) -> Row:
    """The commitment the savings plan's covered usage left unused on `day`."""
    return {
        **CHARGE_TEMPLATE,
        **SAVINGS_PLAN,
        "key": "savings-plan-unused",
        "charge_category": "Usage",
        "charge_frequency": "Usage-Based",
        "period_start": day,
        "period_end": day + timedelta(days=1),
        "day": day,
        "description": "Unused Compute Savings Plan commitment",
        "list_cost": 0.0,
        "billed": 0.0,
        "effective": round(unused, 6),
        "commitment_status": "Unused",
        "operation": "SavingsPlanUnused",
    }


def reservation_purchase(month: date) -> Row:
    """The Azure reservation, bought up front in `month` (its use is amortized on the usage)."""
    return {
        **CHARGE_TEMPLATE,
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


def credit(month: date) -> Row:
    """A promotional credit on the AWS production account in `month`."""
    return {
        **CHARGE_TEMPLATE,
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


def monthly_lines(usage: pl.DataFrame) -> pl.DataFrame:
    """Savings-plan fee and unused commitment, the reservation purchase and credits, month by
    month; `usage` says how much of the savings plan each day used."""
    covered = (
        usage.filter(pl.col("commitment_id") == SAVINGS_PLAN_ARN)
        .group_by("day")
        .agg(pl.col("effective").sum())
    )
    covered_by_day = dict(
        zip(covered["day"].to_list(), covered["effective"].to_list(), strict=True)
    )
    rows: list[Row] = []
    for month in months():
        rows.append(savings_plan_fee(month))
        for day in days_between(month, next_month(month)):
            unused = SAVINGS_PLAN_DAILY - covered_by_day.get(day, 0.0)
            if unused > 0.005:
                rows.append(savings_plan_unused(day, unused))
        if month == RESERVATION_START:
            rows.append(reservation_purchase(month))
        if CREDIT_MONTHS[0] <= month <= CREDIT_MONTHS[1]:
            rows.append(credit(month))
    return pl.DataFrame(rows, infer_schema_length=None)


def tax_lines(lines: pl.DataFrame) -> pl.DataFrame:
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


def _meter(key: str) -> Meter:
    return next(m for m in (*AWS_METERS, *AZURE_METERS) if m.key == key)


def correction_line() -> pl.DataFrame:
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
