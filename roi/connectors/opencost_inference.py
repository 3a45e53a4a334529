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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import polars as pl

from roi.connectors import register
from roi.connectors.base import FileConnector, SourceSample, UrlMatch, url_path_match
from roi.connectors.http_api import HttpApi, Retry, parse_json
from roi.connectors.prometheus import parse_instant
from roi.errors import SourceError
from roi.loading.csv_text import read_bytes
from roi.loading.protocol import Batch, Extracted
from roi.progress import Progress
from roi.tables import INFERENCE_COSTS

_HINT = "save the body of GET /inferenceCost/timeseries (or /total) as OpenCost returned it"
_PATH = "/inferenceCost/timeseries"


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
class OpenCostInference(FileConnector):
    """Self-hosted models' serving cost per token, from OpenCost's inference-cost API."""

    type_name = "opencost_inference"
    table = INFERENCE_COSTS
    description = "OpenCost inference cost per model (url or saved JSON): a reference rate"
    suffixes = (".json", ".json.gz")
    reads_urls = True
    key_secret = "token"
    Options = OpenCostInferenceOptions

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

    def read_file(self, path: Path, relative: str) -> Batch:
        """One saved inference-cost response."""
        body = parse_json(read_bytes(path, relative), relative, _HINT)
        options = self.options
        return Batch(response_frame(body, relative, options.cluster, options.currency))

    def extract(self, state: Mapping[str, Any] | None, progress: Progress) -> Extracted:
        """Query the time series (`url`) or read changed saved responses (`path`)."""
        options = self.options
        if not self.config.url:
            return super().extract(state, progress)  # saved responses: changed files only
        start, end = self._window(state)
        if start >= end:  # the last load reached the end of the window: nothing new yet
            return Extracted(batches=iter(()), files=[], cursor=dict(state or {}))
        token = self.config.secret("token") if "token" in self.config.secret_env else None
        api = HttpApi(
            self.config.url,
            {"Authorization": f"Bearer {token}"} if token else {},
            name="OpenCost",
            check="check the connector's url (OpenCost's API, port 9003) and that it runs with "
            "INFERENCE_COST_ENABLED=true",
            retry=Retry(options.retries, options.backoff, 60.0, options.timeout),
            secrets=(token or "",),
        )
        params = [
            ("window", f"{start:%Y-%m-%dT%H:%M:%SZ},{end:%Y-%m-%dT%H:%M:%SZ}"),
            ("accumulate", options.accumulate),
            ("costBasis", options.cost_basis),
            ("aggregate", options.aggregate),
        ]
        body = api.get(_PATH, params)
        where = f"{api.shown(_PATH)}#{self.config.name}"
        frame = response_frame(body, where, options.cluster, options.currency)
        return Extracted(
            batches=iter([Batch(frame)]), files=[where], cursor={"until": end.isoformat()}
        )

    def _window(self, state: Mapping[str, Any] | None) -> tuple[datetime, datetime]:
        options = self.options
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        end = parse_instant(options.until, "options.until") if options.until else today
        if state and state.get("until"):
            start = datetime.fromisoformat(str(state["until"]))
        elif options.start:
            start = parse_instant(options.start, "options.start")
        else:
            start = end - timedelta(days=7)
        return start, end
