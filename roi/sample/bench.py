"""Large benchmark sets: millions of FOCUS 1.2 lines of the sample's shape, written chunk by chunk.

The lines come from a pool of resources cloned from the sample's meters (same services, SKUs,
prices, GPU details and tag habits: mostly tagged for a model, some aliased, some untagged) and
are spread over the sample's 24 months as hourly lines. Each month is written as one AWS and one
Azure delivery in files of at most a million lines, so memory stays bounded at any size.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from roi.progress import SILENT, Progress
from roi.sample import gzip_bytes
from roi.sample.focus_export import REGION_NAMES, SUB_ACCOUNT_NAMES
from roi.sample.meters import Meter
from roi.sample.meters_aws import AWS_METERS
from roi.sample.meters_azure import AZURE_METERS
from roi.sample.portfolio import AWS_PAYER, AZURE_BILLING_ACCOUNT, SAMPLE_MODELS, months, next_month
from roi.sample.rng import rng_for
from roi.vocabulary import FOCUS_12_COLUMNS

CHUNK_ROWS = 1_000_000
AZURE_SHARE = 0.25


@dataclass(frozen=True)
class BenchmarkSet:
    """What `write_benchmark_set` wrote."""

    out: Path
    rows: int
    files: int
    bytes: int
    seconds: float
    effective_cost_total: float

    def as_row(self) -> dict[str, Any]:
        """One summary row for the CLI."""
        return {
            "out": str(self.out),
            "rows": self.rows,
            "files": self.files,
            "megabytes": round(self.bytes / 1e6, 1),
            "seconds": round(self.seconds, 1),
        }


def resource_pool(provider: str, size: int, seed: int) -> pl.DataFrame:
    """`size` resources of one provider, cloned from the sample's meters with varied tags."""
    rng = rng_for(seed, f"bench-pool-{provider}")
    meters: list[Meter] = [
        m for m in (AWS_METERS if provider == "AWS" else AZURE_METERS) if m.commitment is None
    ]
    model_ids = [m.model_id for m in SAMPLE_MODELS]
    rows = []
    for i in range(size):
        meter = meters[int(rng.integers(0, len(meters)))]
        roll = rng.random()
        model = model_ids[int(rng.integers(0, len(model_ids)))]
        if roll < 0.70:
            tags: dict[str, str] | None = {"ml-model": model, "env": "prod"}
        elif roll < 0.78:
            tags = {"ML_Model": model.replace("-", "_")}  # a spelling no selector expects
        elif roll < 0.85:
            tags = {"team": "ml-platform"}
        else:
            tags = None
        suffix = f"{i:08x}"
        resource_id = f"{meter.resource_id}-{suffix}" if meter.resource_id else None
        details = {
            k: v
            for k, v in (("InstanceType", meter.instance_type), ("GpuCount", meter.gpu_count))
            if v
        }
        rows.append(
            {
                "provider": provider,
                "sub_account": meter.sub_account,
                "service": meter.service,
                "category": meter.category,
                "subcategory": meter.subcategory,
                "resource_id": resource_id,
                "resource_name": (meter.resource_name or "") + f"-{suffix}",
                "resource_type": meter.resource_type,
                "sku_id": meter.sku_id,
                "sku_meter": meter.sku_meter,
                "description": meter.description,
                "unit": meter.unit,
                "price": meter.price,
                "hourly_quantity": meter.quantity / 24,
                "region": meter.region,
                "tags": json.dumps(tags, separators=(",", ":")) if tags else None,
                "sku_details": json.dumps(details, separators=(",", ":")) if details else None,
            }
        )
    return pl.DataFrame(rows, infer_schema_length=None)


def _chunk(pool: pl.DataFrame, month: datetime, n: int, rng: np.random.Generator) -> pl.DataFrame:
    """`n` hourly lines of one month, drawn from the resource pool."""
    hours = int((next_month(month.date()) - month.date()).days * 24)
    idx = rng.integers(0, pool.height, n)
    start = np.datetime64(month.replace(tzinfo=None), "ms") + rng.integers(0, hours, n).astype(
        "timedelta64[h]"
    ).astype("timedelta64[ms]")
    lines = pool[idx].with_columns(
        start=pl.Series(start).dt.replace_time_zone("UTC"),
        quantity=pl.Series(rng.lognormal(0.0, 0.3, n)) * pl.col("hourly_quantity"),
    )
    aws = pool["provider"][0] == "AWS"
    cost = (pl.col("quantity") * pl.col("price")).round(10)
    period_start = pl.lit(month).dt.cast_time_unit("ms")
    return lines.select(
        AvailabilityZone=pl.lit(None, pl.String),
        BilledCost=cost,
        BillingAccountId=pl.lit(AWS_PAYER if aws else AZURE_BILLING_ACCOUNT),
        BillingAccountName=pl.lit(
            "Northwind Holdings" if aws else "Northwind Enterprise Agreement"
        ),
        BillingAccountType=pl.lit("Management Account" if aws else "Billing Account"),
        BillingCurrency=pl.lit("USD"),
        BillingPeriodEnd=pl.lit(
            datetime.combine(next_month(month.date()), datetime.min.time(), UTC)
        ).dt.cast_time_unit("ms"),
        BillingPeriodStart=period_start,
        CapacityReservationId=pl.lit(None, pl.String),
        CapacityReservationStatus=pl.lit(None, pl.String),
        ChargeCategory=pl.lit("Usage"),
        ChargeClass=pl.lit(None, pl.String),
        ChargeDescription=pl.col("description"),
        ChargeFrequency=pl.lit("Usage-Based"),
        ChargePeriodEnd=pl.col("start") + pl.duration(hours=1),
        ChargePeriodStart=pl.col("start"),
        CommitmentDiscountCategory=pl.lit(None, pl.String),
        CommitmentDiscountId=pl.lit(None, pl.String),
        CommitmentDiscountName=pl.lit(None, pl.String),
        CommitmentDiscountQuantity=pl.lit(None, pl.Float64),
        CommitmentDiscountStatus=pl.lit(None, pl.String),
        CommitmentDiscountType=pl.lit(None, pl.String),
        CommitmentDiscountUnit=pl.lit(None, pl.String),
        ConsumedQuantity=pl.col("quantity"),
        ConsumedUnit=pl.col("unit"),
        ContractedCost=cost,
        ContractedUnitPrice=pl.col("price"),
        EffectiveCost=cost,
        InvoiceId=pl.lit(f"BENCH-{month:%Y%m}"),
        InvoiceIssuerName=pl.lit("Amazon Web Services, Inc." if aws else "Microsoft"),
        ListCost=cost,
        ListUnitPrice=pl.col("price"),
        PricingCategory=pl.lit("Standard"),
        PricingCurrency=pl.lit("USD"),
        PricingCurrencyContractedUnitPrice=pl.col("price"),
        PricingCurrencyEffectiveCost=cost,
        PricingCurrencyListUnitPrice=pl.col("price"),
        PricingQuantity=pl.col("quantity"),
        PricingUnit=pl.col("unit"),
        ProviderName=pl.col("provider"),
        PublisherName=pl.lit("Amazon Web Services, Inc." if aws else "Microsoft"),
        RegionId=pl.col("region"),
        RegionName=pl.col("region").replace_strict(REGION_NAMES, default=None),
        ResourceId=pl.col("resource_id"),
        ResourceName=pl.col("resource_name"),
        ResourceType=pl.col("resource_type"),
        ServiceCategory=pl.col("category"),
        ServiceName=pl.col("service"),
        ServiceSubcategory=pl.col("subcategory"),
        SkuId=pl.col("sku_id"),
        SkuMeter=pl.col("sku_meter"),
        SkuPriceDetails=pl.col("sku_details"),
        SkuPriceId=pl.col("sku_id") + pl.lit(".BENCH"),
        SubAccountId=pl.col("sub_account"),
        SubAccountName=pl.col("sub_account").replace_strict(SUB_ACCOUNT_NAMES, default=None),
        SubAccountType=pl.lit("Member Account" if aws else "Subscription"),
        Tags=pl.col("tags"),
    )


def write_benchmark_set(
    out: Path, rows: int, seed: int, file_format: str = "parquet", progress: Progress = SILENT
) -> BenchmarkSet:
    """Write `rows` FOCUS lines under `out/aws` and `out/azure`, one month and chunk at a time."""
    started = time.perf_counter()
    window = months()
    pool_size = max(500, min(50_000, rows // 2_000))
    azure_rows = int(rows * AZURE_SHARE)
    plans: list[tuple[str, int]] = [("AWS", rows - azure_rows), ("Microsoft", azure_rows)]
    written_files = 0
    written_bytes = 0
    total = 0.0
    jobs: list[tuple[str, pl.DataFrame, Any, int, int]] = []
    for provider, provider_rows in plans:
        pool = resource_pool(provider, pool_size, seed)
        per_month = [provider_rows // len(window)] * len(window)
        per_month[-1] += provider_rows - sum(per_month)
        for month, n in zip(window, per_month, strict=True):
            for part, start in enumerate(range(0, n, CHUNK_ROWS), 1):
                jobs.append((provider, pool, month, part, min(CHUNK_ROWS, n - start)))
    for provider, pool, month, part, n in progress.track(jobs, f"writing {rows:,} billing lines"):
        if n <= 0:
            continue
        rng = rng_for(seed, f"bench-{provider}-{month}-{part}")
        frame = _chunk(pool, datetime.combine(month, datetime.min.time(), UTC), n, rng)
        assert tuple(frame.columns) == FOCUS_12_COLUMNS
        total += float(frame["EffectiveCost"].sum())
        folder = "aws" if provider == "AWS" else "azure"
        target = (
            out / folder / f"BILLING_PERIOD={month:%Y-%m}" / f"{next_month(month):%Y%m}02T000000Z"
        )
        target.mkdir(parents=True, exist_ok=True)
        if file_format == "parquet":
            path = target / f"part-{part:05d}.parquet"
            frame.write_parquet(path, compression="zstd")
        else:
            path = target / f"part-{part:05d}.csv.gz"
            text = frame.with_columns(
                pl.col(pl.Datetime).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
            ).write_csv(null_value="")
            path.write_bytes(gzip_bytes(text.encode("utf-8")))
        written_files += 1
        written_bytes += path.stat().st_size
    seconds = time.perf_counter() - started
    progress.info(
        f"wrote {rows:,} lines in {written_files} files ({written_bytes / 1e6:,.0f} MB) to {out} "
        f"in {seconds:,.0f} s"
    )
    return BenchmarkSet(out, rows, written_files, written_bytes, seconds, total)
