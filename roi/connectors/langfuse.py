"""Langfuse's blob-storage export of observations (CSV, JSON lines or JSON) → `inference_usage`.

Langfuse exports `observations` on a schedule to S3 / GCS / Azure Blob as CSV, JSON or JSONL
(optionally gzipped): one row per observation with `id`, `trace_id`, `type`, `start_time`,
`provided_model_name`, `usage_details` and `cost_details` (maps of usage type → tokens and
USD), `total_cost`, `metadata`, `environment` and more. Only observations with usage
(`GENERATION`, `EMBEDDING`, or any with usage details) are requests; spans and events are left
out.

Traps handled here:
- **Timestamps without a zone marker** (`2025-06-01 12:00:00.000`): Langfuse stores and
  exports UTC, so they are read as UTC, never as the machine's local time.
- **Usage types are additive** in Langfuse: `input` excludes `input_cached_tokens` /
  `cache_read_input_tokens` and the cache-write types (`input_cache_creation`, `_5m`, `_1h`),
  `output` excludes `output_reasoning_tokens`. roi counts cache reads and writes inside input
  and reasoning inside output, so the parts are added (`cached_tokens = "inside"` for an
  integration whose `input` already holds them).
- **Cost maps** hold USD per usage type plus `total`; an observation Langfuse could not price
  has an empty map and no total: its cost is null and roi prices it, never a zero.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import polars as pl

from roi.connectors import register
from roi.connectors.base import FileConnector, SourceSample
from roi.connectors.usage_rows import Counting, empty_rejects, tags_json, usage_batch
from roi.errors import SourceError
from roi.loading.jsonl import SUFFIXES as JSONL_SUFFIXES
from roi.loading.jsonl import read_json_lines
from roi.loading.parsing import read_table_csv
from roi.loading.protocol import Batch
from roi.tables import INFERENCE_USAGE

FIELDS = (
    "id",
    "trace_id",
    "type",
    "name",
    "start_time",
    "provided_model_name",
    "model_parameters",
    "usage_details",
    "cost_details",
    "total_cost",
    "metadata",
    "environment",
    "level",
)
REQUIRED = ("id", "start_time", "provided_model_name", "usage_details")
USAGE_TYPES = ("GENERATION", "EMBEDDING")


@dataclass(frozen=True)
class LangfuseOptions:
    """`[options]` of a `langfuse` connector."""

    portfolio_key: str = "model_portfolio_id"  # metadata key naming the portfolio model
    feature_key: str = "feature"  # metadata key naming the feature
    team_key: str = "team"  # metadata key naming the team
    provider: str | None = None  # the observations' provider, when the model does not tell
    cached_tokens: Counting = "outside"  # Langfuse's `input` leaves cache reads/writes out
    reasoning_tokens: Counting = "outside"  # and `output` leaves reasoning out
    format: Literal["auto", "csv", "jsonl", "json"] = "auto"


def _kind(name: str, wanted: str) -> str:
    if wanted != "auto":
        return wanted
    if name.endswith((".csv", ".csv.gz")):
        return "csv"
    if name.endswith(JSONL_SUFFIXES):
        return "jsonl"
    return "json"


def _classify(key: str) -> str | None:
    """Which roi count a Langfuse usage type adds to."""
    k = key.lower()
    if k == "total" or k.endswith("_total"):
        return None
    if "cache" in k and ("creation" in k or "write" in k):
        return "cache_write_1h_tokens" if "1h" in k else "cache_write_tokens"
    if "cache" in k and ("read" in k or "cached" in k or "hit" in k):
        return "cached_input_tokens"
    if "reasoning" in k:
        return "reasoning_tokens"
    if "input" in k or k in ("prompt", "prompt_tokens"):
        return "input_tokens"
    if "output" in k or k in ("completion", "completion_tokens"):
        return "output_tokens"
    return None


def _usage_counts(usage: pl.Series) -> pl.DataFrame:
    """Token counts from the `usage_details` JSON maps (one struct over every key seen)."""
    decoded = usage.fill_null("{}").str.json_decode(infer_schema_length=None)
    names = [f.name for f in decoded.dtype.fields] if isinstance(decoded.dtype, pl.Struct) else []
    frame = decoded.to_frame("u")
    sums: dict[str, list[pl.Expr]] = {}
    for name in names:
        target = _classify(name)
        if target is not None:
            value = pl.col("u").struct.field(name).cast(pl.Float64, strict=False)
            sums.setdefault(target, []).append(value)
    counts = {
        t: (pl.sum_horizontal(sums[t]) if t in sums else pl.lit(0.0)).alias(t)
        for t in (
            "input_tokens",
            "cached_input_tokens",
            "cache_write_tokens",
            "cache_write_1h_tokens",
            "output_tokens",
            "reasoning_tokens",
        )
    }
    # 1-hour writes are cache writes too (roi's cache_write_tokens holds both lifetimes).
    counts["cache_write_tokens"] = (
        counts["cache_write_tokens"] + counts["cache_write_1h_tokens"]
    ).alias("cache_write_tokens")
    return frame.select(
        *[
            pl.when(e.is_finite() & (e == e.floor()))
            .then(e.cast(pl.Int64))
            .cast(pl.String)
            .fill_null(e.cast(pl.String))
            .alias(t)
            for t, e in counts.items()
        ]
    )


def _total_cost(frame: pl.DataFrame) -> pl.Expr:
    """The observation's USD cost as text: `cost_details.total`, else `total_cost` when the map
    is not empty (Langfuse writes 0 for what it could not price), else the sum of the map."""
    details = pl.col("cost_details").fill_null("{}")
    total = details.str.json_path_match("$.total")
    empty = details.str.strip_chars().is_in(["{}", ""])
    decoded = (
        frame.get_column("cost_details").fill_null("{}").str.json_decode(infer_schema_length=None)
    )
    parts = (
        [
            pl.col("_cost").struct.field(f.name).cast(pl.Float64, strict=False)
            for f in decoded.dtype.fields
            if f.name != "total"
        ]
        if isinstance(decoded.dtype, pl.Struct)
        else []
    )
    summed = pl.sum_horizontal(parts).cast(pl.String) if parts else pl.lit(None, pl.String)
    reported = pl.col("total_cost").cast(pl.String)
    return (
        pl.when(empty)
        .then(pl.when(reported.cast(pl.Float64, strict=False) > 0).then(reported))
        .otherwise(pl.coalesce(total, reported, summed))
    )


@register
class LangfuseObservations(FileConnector):
    """Langfuse observations exported to blob storage (CSV, JSON lines or JSON)."""

    type_name = "langfuse"
    table = INFERENCE_USAGE
    description = "Langfuse observations from its blob-storage export (CSV, JSONL or JSON)"
    suffixes = (".csv", ".csv.gz", *JSONL_SUFFIXES, ".json", ".json.gz")
    Options = LangfuseOptions

    @classmethod
    def recognises(cls, sample: SourceSample) -> str | None:
        """Langfuse's observation columns."""
        columns = set(sample.columns)
        document = sample.document
        if isinstance(document, list) and document and isinstance(document[0], dict):
            columns = {str(k).lower() for k in document[0]}
        if {"provided_model_name", "usage_details"} <= columns:
            return "Langfuse observation columns (provided_model_name, usage_details)"
        return None

    def _raw(self, path: Path, relative: str) -> tuple[list[pl.DataFrame], pl.DataFrame]:
        """The file's rows as text columns, and reject records for bad JSON lines."""
        kind = _kind(path.name, self.options.format)
        if kind == "csv":
            raw = read_table_csv(
                path, relative, REQUIRED, "export Langfuse observations with usage fields"
            )
            missing = [c for c in FIELDS if c not in raw.columns]
            return [
                raw.with_columns(pl.lit(None, pl.String).alias(c) for c in missing)
            ], empty_rejects()
        schema: dict[str, pl.DataType] = {c: pl.String() for c in FIELDS}
        if kind == "jsonl":
            chunks = list(
                read_json_lines(path, relative, schema, skip_bad=self.config.on_reject == "skip")
            )
            return [c.frame for c in chunks], pl.concat([c.rejects for c in chunks])
        return [_json_array(path, relative)], empty_rejects()

    def read_file(self, path: Path, relative: str) -> Batch:
        """One export file's generations."""
        frames, bad = self._raw(path, relative)
        batches = [self._rows(f) for f in frames if f.height]
        if not batches:
            return Batch(INFERENCE_USAGE.empty(), bad)
        return Batch(
            pl.concat([b.frame for b in batches], how="diagonal_relaxed"),
            pl.concat([bad, *(b.rejects for b in batches)]),
        )

    def _rows(self, raw: pl.DataFrame) -> Batch:
        options: LangfuseOptions = self.options
        for c in FIELDS:
            if c not in raw.columns:
                raw = raw.with_columns(pl.lit(None, pl.String).alias(c))
        kind = pl.col("type").str.to_uppercase()
        has_usage = ~pl.col("usage_details").fill_null("{}").str.strip_chars().is_in(["{}", ""])
        raw = raw.filter(kind.is_in(USAGE_TYPES) | (kind.is_null() & has_usage))
        if not raw.height:
            return Batch(raw.select("source_file", "source_row"))
        counts = _usage_counts(raw.get_column("usage_details"))
        meta = pl.col("metadata")

        def key(name: str) -> pl.Expr:
            return meta.str.json_path_match(f"$.{name}")

        decoded_cost = (
            raw.get_column("cost_details").fill_null("{}").str.json_decode(infer_schema_length=None)
        )
        frame = pl.concat([raw, counts], how="horizontal").with_columns(decoded_cost.alias("_cost"))
        frame = frame.select(
            pl.col("id").alias("request_id"),
            pl.col("start_time").alias("ts"),
            pl.lit(options.provider, pl.String).alias("provider"),
            pl.col("provided_model_name").alias("model"),
            pl.col("name").alias("deployment"),
            pl.col("type").str.to_lowercase().alias("call_type"),
            key(options.feature_key).alias("feature"),
            key(options.portfolio_key).alias("model_id"),
            key(options.team_key).alias("team"),
            pl.col("level").alias("status"),
            pl.col("model_parameters").str.json_path_match("$.service_tier").alias("service_tier"),
            *[pl.col(c) for c in counts.columns],
            _total_cost(raw).alias("cost"),
            pl.lit("USD").alias("currency"),
            tags_json({"environment": pl.col("environment"), "trace_id": pl.col("trace_id")}).alias(
                "tags"
            ),
            "source_file",
            "source_row",
        )
        return usage_batch(frame, cached=options.cached_tokens, reasoning=options.reasoning_tokens)


def _json_array(path: Path, relative: str) -> pl.DataFrame:
    """A JSON export (an array of observations) as text columns."""
    import gzip

    opener: Any = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            data = json.load(fh)
    except json.JSONDecodeError as exc:
        raise SourceError(
            f"{relative}:{exc.lineno}: not valid JSON ({exc.msg} at column {exc.colno}); "
            "re-export the file"
        ) from exc
    except OSError as exc:
        raise SourceError(f"{relative}: cannot read it ({exc.strerror}); check the file") from exc
    if not isinstance(data, list) or not all(isinstance(o, dict) for o in data):
        raise SourceError(
            f"{relative}: not a Langfuse JSON export (an array of observations); export "
            "observations as CSV, JSON or JSONL"
        )

    def text(value: Any) -> str | None:
        if value is None:
            return None
        return value if isinstance(value, str) else json.dumps(value)

    return pl.DataFrame(
        {c: [text(o.get(c)) for o in data] for c in FIELDS}, schema=dict.fromkeys(FIELDS, pl.String)
    ).with_columns(
        source_row=pl.int_range(1, len(data) + 1, dtype=pl.Int64), source_file=pl.lit(relative)
    )


__all__ = ["LangfuseObservations", "LangfuseOptions"]
