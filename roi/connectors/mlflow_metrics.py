"""Model quality metrics from an MLflow tracking server (REST API 2.0) → `model_metrics`.

For each registered model (all, or those `[options] models` names), every version's run gives
its metric histories (`metrics/get-history`: each logged point with its time) as
`model_metrics` rows with the version as `model_version`, so decay is measured version by
version. A version in a deployed stage (`Production` by default) or carrying a deployed alias
(`champion`, `production`) adds a `deployment` row (value 1) at the time it was moved there,
the deployment event the decay scenario and the reports can show.

The registered model's name is the roi model id unless `[options] models` maps it
(`models = { "fraud-detector" = "fraud-detection" }`). A token for a secured server comes only
from the environment (`token_env`); the URL is shown without credentials.
"""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import polars as pl

from roi.config import redact_url
from roi.connectors import register
from roi.connectors.base import Connector
from roi.errors import SourceError
from roi.loading.parsing import parse_columns
from roi.loading.protocol import Batch, Extracted
from roi.progress import Progress
from roi.tables import MODEL_METRICS

DEPLOYMENT = "deployment"  # the metric name of a deployment event (value 1)


@dataclass(frozen=True)
class MlflowOptions:
    """`[options]` of an `mlflow_metrics` connector."""

    models: dict[str, str] = field(default_factory=dict)  # registered name → roi model id
    metrics: tuple[str, ...] = ()  # metric keys to load (default: every key of each run)
    stages: tuple[str, ...] = ("Production",)  # stages that mean deployed
    aliases: tuple[str, ...] = ("champion", "production")  # aliases that mean deployed


class MlflowApi:
    """GET calls to one tracking server; errors name the server and what to check."""

    def __init__(self, url: str, token: str | None) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.shown = redact_url(self.url)

    def get(self, path: str, params: Mapping[str, Any]) -> Any:
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        request = urllib.request.Request(f"{self.url}/api/2.0/mlflow/{path}?{query}")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            raise SourceError(
                f"MLflow at {self.shown} answered HTTP {exc.code} for {path}; check the "
                "connector's url and token_env"
            ) from None
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SourceError(
                f"cannot reach MLflow at {self.shown} ({reason}); check the connector's url and "
                "that the tracking server is running"
            ) from None

    def pages(self, path: str, key: str, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """Every item of a paged search."""
        token: str | None = None
        while True:
            body = self.get(path, {**params, "page_token": token})
            yield from body.get(key, [])
            token = body.get("next_page_token")
            if not token:
                return


def _millis(value: Any) -> str:
    return datetime.fromtimestamp(int(value) / 1000, UTC).isoformat()


def version_rows(
    api: MlflowApi, version: Mapping[str, Any], model_id: str, options: MlflowOptions
) -> list[dict[str, Any]]:
    """The metric points of one model version's run, and its deployment event."""
    rows: list[dict[str, Any]] = []
    run_id = version.get("run_id")
    number = str(version["version"])
    if run_id:
        run = api.get("runs/get", {"run_id": run_id})["run"]
        keys = options.metrics or tuple(
            sorted({m["key"] for m in run.get("data", {}).get("metrics", [])})
        )
        for key in keys:
            for point in api.pages(
                "metrics/get-history", "metrics", {"run_id": run_id, "metric_key": key}
            ):
                rows.append(
                    {
                        "model_id": model_id,
                        "metric": key,
                        "ts": _millis(point["timestamp"]),
                        "value": str(point["value"]),
                        "model_version": number,
                    }
                )
    stage = version.get("current_stage")
    aliases = set(version.get("aliases") or [])
    if stage in options.stages or aliases & set(options.aliases):
        rows.append(
            {
                "model_id": model_id,
                "metric": DEPLOYMENT,
                "ts": _millis(
                    version.get("last_updated_timestamp") or version["creation_timestamp"]
                ),
                "value": "1",
                "model_version": number,
            }
        )
    return rows


@register
class MlflowMetrics(Connector):
    """Model metrics and deployments from an MLflow tracking server."""

    type_name = "mlflow_metrics"
    table = MODEL_METRICS
    description = "model metric histories and deployments from an MLflow tracking server (url)"
    needs_location = True
    reads_urls = True
    key_secret = "token"
    Options = MlflowOptions

    def extract(self, state: Mapping[str, Any] | None, progress: Progress) -> Extracted:
        """Read every registered model's versions; a result like the last load's changes
        nothing."""
        if not self.config.url:
            raise SourceError(
                f"{self.config.file}: an mlflow_metrics connector reads a tracking server: set "
                'url = "http://host:5000"'
            )
        token = self.config.secret("token") if "token" in self.config.secret_env else None
        api = MlflowApi(self.config.url, token)
        wanted = self.options.models
        names = [m["name"] for m in api.pages("registered-models/search", "registered_models", {})]
        names = [n for n in names if not wanted or n in wanted]
        rows: list[dict[str, Any]] = []
        for name in progress.track(names, f"{self.config.name}: reading"):
            versions = api.pages(
                "model-versions/search", "model_versions", {"filter": f"name='{name}'"}
            )
            for version in versions:
                rows += version_rows(api, version, wanted.get(name, name), self.options)
        source = f"{api.shown}#{self.config.name}"
        frame = pl.DataFrame(
            rows,
            schema=dict.fromkeys(("model_id", "metric", "ts", "value", "model_version"), pl.String),
        ).sort("model_id", "model_version", "metric", "ts")
        cursor = {"result_sha256": hashlib.sha256(frame.write_csv().encode()).hexdigest()}
        if state == cursor:
            return Extracted(batches=iter(()), files=[], cursor=cursor)

        def batches() -> Iterator[Batch]:
            typed = frame.with_columns(
                source_file=pl.lit(source),
                source_row=pl.int_range(1, pl.len() + 1, dtype=pl.Int64),
            )
            parsed = parse_columns(
                typed,
                {"ts": "utc", "value": "float"},
                required=("model_id", "metric", "ts", "value"),
            )
            yield Batch(parsed.frame, parsed.rejects)

        return Extracted(batches=batches(), files=[source], cursor=cursor)
