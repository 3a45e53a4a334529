"""OpenCost's AI inference-cost API (`/inferenceCost/timeseries`, `/inferenceCost/total`) →
`inference_costs`.

OpenCost (with `INFERENCE_COST_ENABLED=true`) prices each vLLM-served model from its own
allocations (GPU, CPU, RAM, a share of shared infrastructure and, on the `allocation` basis,
of idle) and the tokens vLLM counted, and splits the cost between input and output by prefill
and decode time (`allocationMethod`). The body is OpenCost's envelope, `{"code": 200, "data":
…}`, around an inference-cost set (`inferenceCosts`: key → `properties` {modelName,
namespace, cluster, …}, `window`, `costBasis`, `totalCost`, `promptTokens`,
`generationTokens`, `inputCost`, `outputCost`, the per-1M rates, `cacheSavingsFraction` in
newer releases, `allocationMethod`), or a range of them (`inferenceCostSets`) for the
time series (OpenCost's `pkg/inferencecost/apitypes.go`).

That cost is GPU time the cloud bill already holds: it is loaded as a reference rate for a
self-hosted model's unit cost (`llm_unit_costs`' `opencost_*` columns), never as cost. Read
live (`url`, an optional `token_env`; one set per `[options] accumulate` step from the last
load's window end, or `start`, to today) or from saved responses (`path`, total or time series).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import polars as pl

from roi.connectors import register
from roi.connectors.base import SourceSample, UrlMatch, url_path_match
from roi.connectors.opencost_api import OpenCostApi, window_text
from roi.errors import SourceError
from roi.loading.protocol import Batch
from roi.tables import INFERENCE_COSTS

_HINT = "save the body of GET /inferenceCost/timeseries (or /total) as OpenCost returned it"


@dataclass(frozen=True)
class OpenCostInferenceOptions:
    """`[options]` of an `opencost_inference` connector."""

    cluster: str = "default"  # when an entry names none
    cost_basis: Literal["allocation", "usage"] = "allocation"  # live: which basis to ask for
    accumulate: Literal["hour", "day", "week", "month"] = "day"  # live: one set per step
    aggregate: str = "model_name,namespace"  # live: OpenCost's aggregate
    currency: str = "USD"  # OpenCost's configured currency
    start: str | None = None  # first live load: ISO date (default: 7 days before today)
    until: str | None = None  # live: up to this ISO date (default: today, midnight UTC)
    timeout: float = 120.0
    retries: int = 5
    backoff: float = 1.0


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _sets(body: Any, where: str) -> list[Mapping[str, Any]]:
    """The inference-cost sets of a response (one for `/total`, several for `/timeseries`)."""
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        raise SourceError(f"{where}: not an OpenCost inference-cost response (no data); {_HINT}")
    if body.get("code", 200) != 200:
        raise SourceError(
            f"{where}: OpenCost answered code {body.get('code')} ({body.get('message', '')}); "
            "check the window and that INFERENCE_COST_ENABLED=true"
        )
    data = body["data"]
    if isinstance(data.get("inferenceCostSets"), list):
        return [s for s in data["inferenceCostSets"] if isinstance(s, dict)]
    if isinstance(data.get("inferenceCosts"), dict):
        return [data]
    raise SourceError(
        f"{where}: the data holds neither inferenceCosts nor inferenceCostSets; {_HINT}"
    )


def entry_row(entry: Mapping[str, Any], window: Mapping[str, Any], cluster: str) -> dict[str, Any]:
    """One model's inference cost as an `inference_costs` row (text times, numbers as floats).

    Cached tokens are the prompt tokens × `cacheSavingsFraction` where OpenCost gives it."""
    props = entry.get("properties") or {}
    own = entry.get("window") or {}
    prompt = _number(entry.get("promptTokens"))
    saved = _number(entry.get("cacheSavingsFraction"))
    return {
        "window_start": own.get("start") or window.get("start"),
        "window_end": own.get("end") or window.get("end"),
        "cluster": props.get("cluster") or cluster,
        "namespace": props.get("namespace") or "",
        "model_name": props.get("modelName") or None,
        "model_version": props.get("modelVersion") or None,
        "cost_basis": entry.get("costBasis") or "allocation",
        "total_cost": _number(entry.get("totalCost")),
        "input_cost": _number(entry.get("inputCost")),
        "output_cost": _number(entry.get("outputCost")),
        "prompt_tokens": prompt,
        "cached_tokens": prompt * saved if prompt is not None and saved is not None else None,
        "generation_tokens": _number(entry.get("generationTokens")),
        "cost_per_1m_tokens": _number(entry.get("costPerMillionTokens")),
        "input_cost_per_1m_tokens": _number(entry.get("inputCostPerMillionTokens")),
        "output_cost_per_1m_tokens": _number(entry.get("outputCostPerMillionTokens")),
        "allocation_method": entry.get("allocationMethod") or None,
    }


def response_frame(body: Any, where: str, cluster: str, currency: str) -> pl.DataFrame:
    """Every model's row of a response, typed (lineage: the file or URL, rows from 1)."""
    rows = [
        entry_row(entry, s.get("window") or {}, cluster)
        for s in _sets(body, where)
        for entry in (s.get("inferenceCosts") or {}).values()
        if isinstance(entry, dict)
    ]
    text = ("window_start", "window_end", "cluster", "namespace", "model_name", "model_version")
    schema: dict[str, Any] = {c: pl.String for c in (*text, "cost_basis", "allocation_method")}
    schema |= {
        c: pl.Float64
        for c in INFERENCE_COSTS.types
        if INFERENCE_COSTS.types[c] == "DOUBLE" and c not in schema
    }
    frame = pl.DataFrame(rows, schema=schema)
    return frame.with_columns(
        pl.col("window_start", "window_end").str.to_datetime(time_zone="UTC", strict=False),
        currency=pl.lit(currency.upper()),
        source_file=pl.lit(where),
        source_row=pl.int_range(1, pl.len() + 1, dtype=pl.Int64),
    )


@register
class OpenCostInference(OpenCostApi):
    """Self-hosted models' serving cost per token, from OpenCost's inference-cost API."""

    type_name = "opencost_inference"
    table = INFERENCE_COSTS
    description = "OpenCost inference cost per model (url or saved JSON): a reference rate"
    Options = OpenCostInferenceOptions
    api_path = "/inferenceCost/timeseries"
    api_check = "and that it runs with INFERENCE_COST_ENABLED=true"
    saved_hint = _HINT

    @classmethod
    def recognises(cls, sample: SourceSample) -> str | None:
        """A saved inference-cost response."""
        data = sample.document.get("data") if isinstance(sample.document, dict) else None
        if isinstance(data, dict) and ("inferenceCosts" in data or "inferenceCostSets" in data):
            return "an OpenCost inference-cost response (inferenceCosts per model)"
        return None

    @classmethod
    def recognises_url(cls, url: str) -> UrlMatch | None:
        """OpenCost's inference-cost API (`…/inferenceCost/timeseries` or `/total`)."""
        found = url_path_match(url, "/inferenceCost(?:/timeseries|/total)?")
        if found is None:
            return None
        base, match = found
        return UrlMatch(f"the OpenCost inference-cost API ({match.group(0)})", base)

    def query(self, start: datetime, end: datetime) -> list[tuple[str, str]]:
        """One set per `accumulate` step, by `aggregate`, on the chosen cost basis."""
        options = self.options
        return [
            ("window", window_text(start, end)),
            ("accumulate", options.accumulate),
            ("costBasis", options.cost_basis),
            ("aggregate", options.aggregate),
        ]

    def response_batch(self, body: Any, where: str) -> Batch:
        """One inference-cost response's rows."""
        options = self.options
        return Batch(response_frame(body, where, options.cluster, options.currency))
