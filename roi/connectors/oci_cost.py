"""Oracle Cloud Infrastructure cost reports (`reports/cost-csv/*.csv.gz`) → `cost_lines`.

Columns are slash-style (`cost/myCost`, `lineItem/intervalUsageStart`); start times come without
seconds (`2023-11-13T10:00Z`) and tiny costs in E-notation (`2.32376E-9`), both read as
written. OCI writes no billing period: a line's period is the calendar month its usage starts
in. The cost is `cost/myCost` plus any `cost/myCostOverage` (already net of your discounts, so
billed and effective cost are the same). Tags are one `tags/<namespace>.<key>` column each,
kept as `<namespace>.<key>`.

A correction (`lineItem/isCorrection = true`) restates the line its `lineItem/backreferenceNo`
names: the corrected line is replaced by it, never added to it. Corrections can arrive in a
later file than the line they correct, so the connector reads all its files together.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import polars as pl

from roi.connectors import register
from roi.connectors.base import SourceSample
from roi.connectors.native_billing import (
    NativeBilling,
    focus_shaped,
    number_or_zero,
    parse_source,
    read_columns,
    read_source,
    require,
    tags_json,
    text_or_null,
)
from roi.loading.parsing import Parsed

KINDS = {
    "lineItem/intervalUsageStart": "utc",
    "lineItem/intervalUsageEnd": "utc",
    "cost/myCost": "money",
    "cost/myCostOverage": "money",
    "usage/billedQuantity": "float",
}
MANDATORY = (
    "lineItem/referenceNo",
    "lineItem/tenantId",
    "lineItem/intervalUsageStart",
    "lineItem/intervalUsageEnd",
    "cost/myCost",
    "cost/currencyCode",
)


def gpu_count(frame: pl.DataFrame) -> pl.Expr:
    """GPUs of a line billed per GPU-hour (`GPU Per Hour`): its GPU-hours over the hours of its
    interval (OCI names no shape in the report; its GPU SKUs are priced per GPU and hour)."""
    unit = text_or_null(frame, "cost/skuUnitDescription").str.to_lowercase()
    if "usage/billedQuantity" not in frame.columns:
        return pl.lit(None, pl.String)
    hours = (
        pl.col("lineItem/intervalUsageEnd") - pl.col("lineItem/intervalUsageStart")
    ).dt.total_seconds() / 3600
    return (
        pl.when(unit.str.contains("gpu", literal=True) & unit.str.contains("hour", literal=True))
        .then((pl.col("usage/billedQuantity").cast(pl.Float64) / hours).round(0).cast(pl.Int32))
        .cast(pl.String)
    )


def read_oci_file(path: Path, relative: str) -> Parsed:
    """One cost report file as FOCUS-shaped warehouse columns, with rejects.

    Raises:
        SourceError: the file cannot be read or lacks a mandatory column.
    """
    raw = read_source(path, relative)
    require(raw, relative, MANDATORY, "OCI cost report")
    parsed = parse_source(raw, KINDS, MANDATORY)
    frame = parsed.frame
    tags = {c: c.removeprefix("tags/") for c in frame.columns if c.startswith("tags/")}
    start = pl.col("lineItem/intervalUsageStart")
    period = start.dt.truncate("1mo")
    correction = text_or_null(frame, "lineItem/isCorrection").str.to_lowercase() == "true"
    cost = pl.col("cost/myCost") + number_or_zero(frame, "cost/myCostOverage")
    columns = {
        "provider": pl.lit("Oracle"),
        "billing_account_id": text_or_null(frame, "lineItem/tenantId"),
        "sub_account_id": text_or_null(frame, "product/compartmentId"),
        "sub_account_name": text_or_null(frame, "product/compartmentName"),
        "billing_period_start": period,
        "billing_period_end": period.dt.offset_by("1mo"),
        "charge_period_start": start,
        "charge_period_end": pl.col("lineItem/intervalUsageEnd"),
        "charge_category": pl.lit("Usage"),
        "charge_class": pl.when(correction.fill_null(False)).then(pl.lit("Correction")),
        "charge_description": text_or_null(frame, "product/Description"),
        "service_name": text_or_null(frame, "product/service"),
        "region_id": text_or_null(frame, "product/region"),
        "resource_id": text_or_null(frame, "product/resourceId"),
        "sku_id": text_or_null(frame, "cost/productSku"),
        "billed_cost": cost,
        "effective_cost": cost,
        "consumed_quantity": pl.col("usage/billedQuantity")
        if "usage/billedQuantity" in frame.columns
        else pl.lit(None),
        "consumed_unit": text_or_null(frame, "cost/skuUnitDescription"),
        "x_gpu_count_raw": gpu_count(frame),
        "billing_currency": text_or_null(frame, "cost/currencyCode"),
        "tags_raw": tags_json(frame, tags),
        "_reference": text_or_null(frame, "lineItem/referenceNo"),
        "_corrects": pl.when(correction.fill_null(False)).then(
            text_or_null(frame, "lineItem/backreferenceNo")
        ),
    }
    return Parsed(focus_shaped(frame, columns, "OCI cost report"), parsed.rejects)


def survey_corrections(path: Path, relative: str) -> pl.DataFrame:
    """The lines a file's corrections restate (`_corrects`): a light read of two columns."""
    wanted = {"lineitem/iscorrection": "_correction", "lineitem/backreferenceno": "_corrects"}
    frame = read_columns(path, wanted)
    if frame is None or set(wanted.values()) - set(frame.columns):
        return corrections_of_read(read_oci_file(path, relative).frame)
    frame = frame.filter(pl.col("_correction").str.to_lowercase() == "true")
    return frame.select("_corrects").drop_nulls().unique()


def corrections_of_read(frame: pl.DataFrame) -> pl.DataFrame:
    """`survey_corrections`'s rows told from a file's full read (`read_oci_file`'s frame)."""
    return frame.select("_corrects").drop_nulls().unique()


def apply_corrections(frame: pl.DataFrame, surveys: pl.DataFrame) -> pl.DataFrame:
    """Drop each line a correction (in any file) restates: the correction takes its place."""
    corrected = surveys["_corrects"].implode() if surveys.height else pl.lit([], pl.List(pl.String))
    return frame.filter(~pl.col("_reference").is_in(corrected).fill_null(False)).drop(
        "_reference", "_corrects"
    )


@register
class OciCostConnector(NativeBilling):
    """Oracle Cloud Infrastructure cost reports."""

    type_name = "oci_cost"
    description = "OCI cost reports (CSV, CSV.gz)"
    reads_together: ClassVar[bool] = True

    @classmethod
    def recognises(cls, sample: SourceSample) -> str | None:
        """The cost report's `lineItem/` and `cost/myCost` columns."""
        if sample.has("lineitem/referenceno", "lineitem/tenantid", "cost/mycost"):
            return "OCI cost report columns"
        return None

    def read_file(self, path: Path, relative: str) -> Parsed:
        """One cost report file as FOCUS-shaped warehouse columns."""
        return read_oci_file(path, relative)

    def survey(self, path: Path, relative: str) -> pl.DataFrame:
        """The lines the file's corrections restate."""
        return survey_corrections(path, relative)

    def survey_read(self, frame: pl.DataFrame, relative: str) -> pl.DataFrame:
        """The lines the file's corrections restate, from its full read."""
        return corrections_of_read(frame)

    def combine(self, frame: pl.DataFrame, surveys: pl.DataFrame) -> pl.DataFrame:
        """Corrections replace the lines they restate."""
        return apply_corrections(frame, surveys)
