"""Google Cloud Billing export (standard and detailed) → `cost_lines`.

Read as BigQuery exports it (Parquet, or JSON lines, with nested records) or flattened to CSV
(nested fields as dotted columns, `service.description`; `credits` and `labels` as JSON, or as
Python-style lists the way some tools write them, read as literals, never run). The billing
period is `invoice.month` (`202208`); `cost_type` gives the charge category (regular, tax,
adjustment, rounding error). Credits are summed per line (never joined with labels, which would
count a line once per label, formats-cost.md §6) and netted into the cost: billed and effective
cost are `cost + sum(credits.amount)`, list cost `cost_at_list` where the export has it. Labels
(the resource's, over its project's) are the tags; the GPU count comes from the machine type in
`system_labels` (`a2-highgpu-8g`: 8).
"""

from __future__ import annotations

import ast
import json
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, ClassVar

import polars as pl

from roi.connectors import register
from roi.connectors.base import SourceSample
from roi.connectors.native_billing import (
    NativeBilling,
    focus_shaped,
    parse_source,
    read_source,
    require,
)
from roi.errors import SourceError
from roi.loading.parsing import Parsed, map_distinct
from roi.loading.rejects import reject_where

KINDS = {
    "usage_start_time": "utc",
    "usage_end_time": "utc",
    "cost": "money",
    "cost_at_list": "money",
    "usage.amount": "float",
    "usage.amount_in_pricing_units": "float",
}
MANDATORY = (
    "billing_account_id",
    "invoice.month",
    "usage_start_time",
    "usage_end_time",
    "cost",
    "currency",
)
CHARGE_CATEGORY = {
    "regular": "Usage",
    "tax": "Tax",
    "adjustment": "Adjustment",
    "rounding_error": "Adjustment",
}
INVALID = "\x00invalid"
G2_GPUS = {"4": 1, "8": 1, "12": 1, "16": 1, "24": 2, "32": 1, "48": 4, "96": 8}


def _flatten(frame: pl.DataFrame) -> pl.DataFrame:
    """Nested records as dotted columns (`service.description`), as the CSV flattening names
    them; lists stay lists."""
    while any(isinstance(t, pl.Struct) for t in frame.schema.values()):
        columns = []
        for name, dtype in frame.schema.items():
            if isinstance(dtype, pl.Struct):
                columns += [
                    pl.col(name).struct.field(f.name).alias(f"{name}.{f.name}")
                    for f in dtype.fields
                ]
            else:
                columns.append(pl.col(name))
        frame = frame.select(columns)
    return frame


def read_export(path: Path, relative: str) -> pl.DataFrame:
    """A billing export file: CSV (flattened), JSON lines or Parquet (nested, flattened here)."""
    if path.name.endswith((".json", ".jsonl", ".json.gz", ".jsonl.gz")):
        try:
            frame = pl.read_ndjson(path, infer_schema_length=None)
        except (pl.exceptions.PolarsError, OSError) as exc:
            first = (str(exc).strip() or type(exc).__name__).splitlines()[0]
            raise SourceError(f"{relative}: not JSON lines ({first}); re-export it") from exc
        frame = frame.with_columns(
            source_row=pl.int_range(1, pl.len() + 1, dtype=pl.Int64),
            source_file=pl.lit(relative),
        )
    else:
        frame = read_source(path, relative)
    frame = _flatten(frame)
    nested = [c for c, t in frame.schema.items() if isinstance(t, pl.List | pl.Array)]
    # A list (credits, labels) as JSON text, so every format is read by one parser.
    return frame.with_columns(
        pl.struct(pl.col(c).alias("v")).struct.json_encode().str.slice(5).str.head(-1).alias(c)
        for c in nested
    )


def _literal(text: str) -> Any:
    """A JSON or Python-literal text (never evaluated as code); INVALID when it is neither."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return INVALID


def credit_sum(text: str | None) -> str | None:
    """The sum of a line's credits' amounts, as decimal text (INVALID when unreadable)."""
    if text is None or not text.strip():
        return "0"
    found = _literal(text)
    if not isinstance(found, list) or not all(isinstance(c, dict) for c in found):
        return INVALID
    try:
        return str(sum((Decimal(str(c.get("amount") or 0)) for c in found), Decimal(0)))
    except InvalidOperation:
        return INVALID


def labels_json(text: str | None) -> str | None:
    """A labels list (`[{key, value}]`) as a JSON object (INVALID when unreadable)."""
    if text is None or not text.strip():
        return None
    found = _literal(text)
    if not isinstance(found, list) or not all(isinstance(c, dict) for c in found):
        return INVALID
    return json.dumps({str(c.get("key")): c.get("value") for c in found}) if found else None


def machine_gpus(machine: str | None) -> int | None:
    """GPUs of a GCP accelerator-optimised machine type, or None."""
    if not machine:
        return None
    found = re.fullmatch(r"a[23]-(?:high|mega|ultra|edge)gpu-(\d+)g", machine)
    if found:
        return int(found.group(1))
    g2 = re.fullmatch(r"g2-standard-(\d+)", machine)
    return G2_GPUS.get(g2.group(1)) if g2 else None


def _machine(text: str | None) -> str | None:
    """The machine type a `system_labels` list names."""
    if not text:
        return None
    found = _literal(text)
    if not isinstance(found, list):
        return None
    for label in found:
        if isinstance(label, dict) and label.get("key") == "compute.googleapis.com/machine_spec":
            return str(label.get("value"))
    return None


def _merge_tags(resource: str | None, project: str | None) -> str | None:
    """Resource labels over project labels, one JSON object."""
    merged: dict[str, Any] = {}
    for text in (project, resource):
        if text and text != INVALID:
            merged.update(json.loads(text))
    return json.dumps(merged) if merged else None


def _derived(frame: pl.DataFrame) -> Parsed:
    """Credits summed, labels to tags and the machine type, with rejects for unreadable text."""
    empty = pl.lit(None, pl.String)
    frame = frame.with_columns(
        *[
            (pl.col(c).cast(pl.String) if c in frame.columns else empty).alias(f"_{c}")
            for c in ("credits", "labels", "project.labels", "system_labels")
        ]
    )
    frame = map_distinct(frame, "_credits", "_credit_sum", credit_sum)
    frame = map_distinct(frame, "_labels", "_tags", labels_json)
    frame = map_distinct(frame, "_project.labels", "_project_tags", labels_json)
    frame = map_distinct(frame, "_system_labels", "_machine", _machine)
    rejects = pl.concat(
        [
            reject_where(
                frame,
                pl.col(out) == INVALID,
                column,
                pl.col(f"_{column}"),
                'not a list of records; write it as JSON, e.g. [{"key": "team", "value": "ml"}]',
            )
            for out, column in (
                ("_credit_sum", "credits"),
                ("_tags", "labels"),
                ("_project_tags", "project.labels"),
            )
        ]
    )
    return Parsed(frame, rejects)


def read_gcp_file(path: Path, relative: str) -> Parsed:
    """One billing export file as FOCUS-shaped warehouse columns, with rejects.

    Raises:
        SourceError: the file cannot be read or lacks a mandatory column.
    """
    raw = read_export(path, relative)
    require(raw, relative, MANDATORY, "Cloud Billing export")
    month = pl.col("invoice.month").cast(pl.String).str.strip_chars()
    raw = raw.with_columns(
        pl.when(month.str.contains(r"^\d{6}$"))
        .then(
            pl.concat_str(month.str.slice(0, 4), pl.lit("-"), month.str.slice(4, 2), pl.lit("-01"))
        )
        .otherwise(month)
        .alias("invoice.month")
    )
    parsed = parse_source(raw, KINDS | {"invoice.month": "date"}, MANDATORY)
    derived = _derived(parsed.frame)
    frame = map_distinct(
        derived.frame.with_columns(
            _both=pl.concat_str(
                pl.col("_tags").fill_null(""),
                pl.col("_project_tags").fill_null(""),
                separator="\x1f",
            )
        ),
        "_both",
        "_merged",
        lambda both: _merge_tags(*both.split("\x1f")),
    )
    return Parsed(
        focus_shaped(frame, _columns(frame), "GCP billing export"),
        pl.concat([parsed.rejects, derived.rejects]),
    )


def _columns(frame: pl.DataFrame) -> dict[str, pl.Expr]:
    def text(name: str) -> pl.Expr:
        return pl.col(name).cast(pl.String) if name in frame.columns else pl.lit(None, pl.String)

    def number(name: str) -> pl.Expr:
        return pl.col(name) if name in frame.columns else pl.lit(None, pl.Float64)

    start = pl.col("invoice.month").cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    credits = pl.col("_credit_sum").replace(INVALID, None).cast(pl.Decimal(38, 10))
    net = pl.col("cost") + credits.fill_null(0)
    machine = pl.col("_machine")
    return {
        "provider": pl.lit("Google Cloud"),
        "billing_account_id": text("billing_account_id"),
        "sub_account_id": text("project.id"),
        "sub_account_name": text("project.name"),
        "billing_period_start": start,
        "billing_period_end": start.dt.offset_by("1mo"),
        "charge_period_start": pl.col("usage_start_time"),
        "charge_period_end": pl.col("usage_end_time"),
        "charge_category": text("cost_type")
        .str.to_lowercase()
        .replace_strict(CHARGE_CATEGORY, default="Usage"),
        "charge_description": text("sku.description"),
        "service_name": text("service.description"),
        "region_id": pl.coalesce(text("location.region"), text("location.location")),
        "resource_id": pl.coalesce(text("resource.global_name"), text("resource.name")),
        "resource_name": text("resource.name"),
        "sku_id": text("sku.id"),
        "billed_cost": net,
        "effective_cost": net,
        "list_cost": pl.col("cost_at_list") if "cost_at_list" in frame.columns else pl.lit(None),
        "contracted_cost": pl.col("cost"),
        "consumed_quantity": number("usage.amount"),
        "consumed_unit": text("usage.unit"),
        "pricing_quantity": number("usage.amount_in_pricing_units"),
        "pricing_unit": text("usage.pricing_unit"),
        "billing_currency": text("currency"),
        "tags_raw": pl.col("_merged"),
        "x_instance_type": machine,
        "x_gpu_count_raw": machine.map_elements(machine_gpus, return_dtype=pl.Int32).cast(
            pl.String
        ),
    }


@register
class GcpBillingConnector(NativeBilling):
    """Google Cloud Billing export (standard or detailed)."""

    type_name = "gcp_billing"
    description = "Google Cloud Billing export, standard or detailed (CSV, JSON lines, Parquet)"
    suffixes: ClassVar[tuple[str, ...]] = (
        ".csv",
        ".csv.gz",
        ".parquet",
        ".json",
        ".jsonl",
        ".json.gz",
        ".jsonl.gz",
    )

    @classmethod
    def recognises(cls, sample: SourceSample) -> str | None:
        """The export's columns: billing account, invoice month, cost type and cost."""
        if sample.has("billing_account_id", "invoice.month", "cost", "usage_start_time"):
            return "Google Cloud Billing export columns"
        document = sample.document
        first = document[0] if isinstance(document, list) and document else document
        if isinstance(first, dict) and {"billing_account_id", "invoice", "cost"} <= set(first):
            return "Google Cloud Billing export (JSON)"
        return None

    def read_file(self, path: Path, relative: str) -> Parsed:
        """One billing export file as FOCUS-shaped warehouse columns."""
        return read_gcp_file(path, relative)
