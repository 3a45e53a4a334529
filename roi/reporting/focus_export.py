"""`roi export focus`: a month's cost as FOCUS 1.3 with roi's allocation as split charges, so
other FinOps tools (Vantage, the FinOps toolkit's hubs, a data warehouse) can take roi's
per-model view.

Every billing line becomes one row per model (or idle or unallocated share) roi attributed it
to: `AllocatedMethodId` names roi's rule, `AllocatedMethodDetails` the share, `AllocatedResourceId`
and `AllocatedResourceName` the model, `AllocatedTags` the line's tags plus `roi-model`. The split
rows of a line add up to it exactly (costs and quantities); unit prices (ListUnitPrice,
ContractedUnitPrice and Microsoft's `x_EffectiveUnitPrice`) and dimensions are the line's on
every row, as FOCUS 1.3 wants of allocated charges. `x_SourceFile`, `x_SourceRow` and
`x_RoiLoadId` name the line (and the load) each row comes from. Columns roi has no values for
are left empty, or out where the spec allows (`conform`).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl

from roi.attribution.split_charges import split_charges
from roi.config import ProjectConfig
from roi.connectors.focus_file import COLUMNS
from roi.vocabulary import FOCUS_13_COLUMNS, IDLE, IDLE_HELD, UNALLOCATED
from roi.warehouse import Connection

# Every FOCUS column the warehouse keeps, unit prices included: a split row keeps its line's
# (a unit price does not split; FOCUS 1.3's split cost allocation wants non-summable metrics
# equal to the origin charge's), while its costs and quantities are its share.
_FROM_WAREHOUSE = dict(COLUMNS) | {"Tags": "tags_json"}
# Microsoft's effective unit price, an extension column (`x_`) as the FinOps toolkit writes it
# (in the billing currency, as roi keeps it); unit prices do not split either.
EFFECTIVE_UNIT_PRICE = ("x_EffectiveUnitPrice", "x_effective_unit_price")
_TIMES = ("BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd")
_SENTINEL_NAMES = {
    IDLE: "Idle capacity",
    IDLE_HELD: "Idle capacity held by models",
    UNALLOCATED: "Unallocated",
}


def _details(share: float, rule: str) -> str:
    return json.dumps({"Elements": [{"AllocatedRatio": share, "x_RoiRule": rule}]})


def _with_model_tag(tags: str | None, model: str) -> str:
    found = json.loads(tags) if tags else {}
    return json.dumps({**(found if isinstance(found, dict) else {}), "roi-model": model})


def focus_frame(split: pl.DataFrame, names: dict[str, str]) -> pl.DataFrame:
    """Split rows (`split_charges`) as FOCUS 1.3 columns, every value text as FOCUS writes it."""
    columns: dict[str, pl.Expr] = {}
    for focus in FOCUS_13_COLUMNS:
        source = _FROM_WAREHOUSE.get(focus)
        if source is None or source not in split.columns:
            columns[focus] = pl.lit(None, pl.String)
        elif focus in _TIMES:
            columns[focus] = pl.col(source).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        else:
            columns[focus] = pl.col(source).cast(pl.String)
    provider = pl.col("provider").cast(pl.String)
    target = pl.col("target")
    columns |= {
        "ServiceProviderName": provider,
        "HostProviderName": provider,
        "InvoiceIssuerName": provider,
        "PublisherName": provider,
        "AllocatedMethodId": pl.col("rule_id"),
        "AllocatedMethodDetails": pl.struct("share", "rule_id").map_elements(
            lambda r: _details(r["share"], r["rule_id"]), return_dtype=pl.String
        ),
        "AllocatedResourceId": target,
        "AllocatedResourceName": target.replace_strict(names | _SENTINEL_NAMES, default=target),
        "AllocatedTags": pl.struct("tags_json", "target").map_elements(
            lambda r: _with_model_tag(r["tags_json"], r["target"]), return_dtype=pl.String
        ),
    }
    name, source = EFFECTIVE_UNIT_PRICE
    extensions = {
        name: pl.col(source).cast(pl.String)
        if source in split.columns
        else pl.lit(None, pl.String),
        "x_SourceFile": pl.col("source_file"),
        "x_SourceRow": pl.col("source_row"),
        "x_RoiLoadId": pl.col("_load_id"),
    }
    return split.select(**{focus: columns[focus] for focus in FOCUS_13_COLUMNS}, **extensions)


# Conditional columns roi has no values for: left out when no row has one (a column that is
# present must be filled where the spec says, and roi cannot make these values up).
OPTIONAL_WHEN_EMPTY = (
    "BillingAccountType",
    "SubAccountType",
    "CapacityReservationId",
    "CapacityReservationStatus",
    "InvoiceId",
    "SkuMeter",
    "AvailabilityZone",
    "ContractApplied",
)
_UNITS = (
    (r"^(\d+)K (.+)$", "${1}000 ${2}"),  # 1K Tokens → 1000 Tokens
    (r"-Mo$", "-Months"),  # GB-Mo → GB-Months
    (r"^Hrs$", "Hours"),
    (r"-Hrs$", "-Hours"),
    (r"^1 ([^/]+/.+)$", "${1}"),  # 1 GB/Month → GB/Month (a rate per one unit)
    (r"^1/(.+)$", "Units/${1}"),  # 1/Day → Units/Day
)


def unit_format(unit: pl.Expr) -> pl.Expr:
    """A provider's unit in FOCUS's UnitFormat where a known abbreviation differs."""
    for pattern, replacement in _UNITS:
        unit = unit.str.replace(pattern, replacement)
    return unit


def _mode_per(column: str, by: str) -> pl.Expr:
    """The most common value of `column` per `by` (FOCUS: one ServiceCategory per ServiceName)."""
    return pl.col(column).drop_nulls().mode().first().over(by)


def conform(frame: pl.DataFrame) -> pl.DataFrame:
    """Fill what FOCUS 1.3 requires from what roi has: pricing currency = billing currency (so
    the pricing-currency effective cost and unit prices are the billing-currency ones), a
    region name and resource type where an id is given, units in UnitFormat, one service
    category per service name; conditional columns with no value at all are left out."""
    frame = frame.with_columns(
        PricingCurrency=pl.col("BillingCurrency"),
        PricingCurrencyEffectiveCost=pl.col("EffectiveCost"),
        PricingCurrencyListUnitPrice=pl.col("ListUnitPrice"),
        PricingCurrencyContractedUnitPrice=pl.col("ContractedUnitPrice"),
        RegionName=pl.coalesce("RegionName", "RegionId"),
        ResourceType=pl.when(pl.col("ResourceId").is_not_null()).then(
            pl.coalesce("ResourceType", "ServiceSubcategory", "ServiceName")
        ),
        ConsumedUnit=unit_format(pl.col("ConsumedUnit")),
        PricingUnit=unit_format(pl.col("PricingUnit")),
        ServiceCategory=pl.coalesce(_mode_per("ServiceCategory", "ServiceName"), "ServiceCategory"),
        ServiceSubcategory=pl.coalesce(
            _mode_per("ServiceSubcategory", "ServiceName"), "ServiceSubcategory"
        ),
    )
    empty = [c for c in OPTIONAL_WHEN_EMPTY if frame[c].null_count() == frame.height]
    return frame.drop(empty)


def export_focus(con: Connection, project: ProjectConfig, month: date, out: Path) -> int:
    """Write the month as FOCUS 1.3 split charges to `out` (`.csv`, `.csv.gz` or `.parquet`);
    the number of rows written."""
    split = split_charges(con, project, month)
    names = {m.model_id: m.name for m in project.models}
    frame = conform(focus_frame(split, names))
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    if out.name.endswith(".parquet"):
        frame.write_parquet(partial)
    elif out.name.endswith(".gz"):
        frame.write_csv(partial, compression="gzip", check_extension=False)
    else:
        frame.write_csv(partial)
    partial.replace(out)
    return frame.height
