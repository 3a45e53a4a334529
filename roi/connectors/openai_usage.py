"""OpenAI organization Usage API (`/v1/organization/usage/<endpoint>`) → `inference_usage`.

One row per time bucket × endpoint × the groups asked for (`[options] group_by`, default
project, model and batch): completions, embeddings, moderations, images, audio speeches and
transcriptions. Token semantics are OpenAI's: `input_tokens` includes `input_cached_tokens`.
The report holds no money: rows carry a null cost (`cost_source = "unpriced"`), priced later
from a price book or trued up to the Costs API (`openai_costs`). The project, API key, user,
batch flag and the image/audio units (images, size, characters, seconds) are kept as tags.

Read live with an admin key (`url = "https://api.openai.com"`, `admin_key_env`), or from saved
pages (`path`); see `roi.connectors.api_pages`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import polars as pl

from roi.connectors import register
from roi.connectors.api_pages import ApiOptions, ApiPagesConnector, Window, key, text
from roi.connectors.base import SourceSample
from roi.connectors.http_api import Params
from roi.errors import ConfigError, SourceError
from roi.loading.parsing import parse_columns
from roi.loading.protocol import Batch
from roi.loading.tags import tag_json
from roi.tables import INFERENCE_USAGE

Endpoint = Literal[
    "completions",
    "embeddings",
    "moderations",
    "images",
    "audio_speeches",
    "audio_transcriptions",
]
GroupBy = Literal["project_id", "user_id", "api_key_id", "model", "batch"]
ENDPOINTS: tuple[Endpoint, ...] = (
    "completions",
    "embeddings",
    "moderations",
    "images",
    "audio_speeches",
    "audio_transcriptions",
)
_RESULT = "organization.usage."
# Result fields kept as tags (besides the group-by dimensions).
_UNIT_TAGS = ("images", "size", "source", "characters", "seconds")
BUCKETS = {"1d": 31, "1h": 168, "1m": 1440}  # the most buckets one page may hold
KINDS = {
    "ts": "utc",
    "requests": "int",
    "input_tokens": "int",
    "cached_input_tokens": "int",
    "output_tokens": "int",
}


@dataclass(frozen=True)
class OpenAIUsageOptions(ApiOptions):
    """`[options]` of an `openai_usage` connector."""

    endpoints: tuple[Endpoint, ...] = ENDPOINTS
    bucket_width: Literal["1d", "1h", "1m"] = "1d"
    group_by: tuple[GroupBy, ...] = ("project_id", "model", "batch")


def unix(value: Any, where: str) -> datetime:
    """A bucket's unix-seconds time."""
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError):
        raise SourceError(
            f"{where}: bucket time {value!r} is not unix seconds; save the page as the API "
            "returned it"
        ) from None


def _tags(result: dict[str, Any]) -> str | None:
    pairs = [
        (name, text(result.get(name)))
        for name in ("project_id", "api_key_id", "user_id", "batch", *_UNIT_TAGS)
        if result.get(name) is not None
    ]
    return tag_json(pairs) if pairs else None


def usage_row(endpoint: str, start: Any, end: Any, result: dict[str, Any]) -> dict[str, Any]:
    """One Usage API result as an `inference_usage` row of text values."""
    return {
        "request_id": key(
            "openai",
            endpoint,
            f"{start}-{end}",
            result.get("project_id"),
            result.get("model"),
            result.get("batch"),
            result.get("api_key_id"),
            result.get("user_id"),
        ),
        "ts": datetime.fromtimestamp(int(start), UTC).isoformat(),
        "model": text(result.get("model")),
        "call_type": endpoint,
        "tags": _tags(result),
        "requests": text(result.get("num_model_requests", 0)),
        "input_tokens": text(result.get("input_tokens", 0)),
        "cached_input_tokens": text(result.get("input_cached_tokens", 0)),
        "output_tokens": text(result.get("output_tokens", 0)),
    }


def page_rows(page: dict[str, Any], where: str) -> list[dict[str, Any]]:
    """The rows of one Usage API page (any endpoint: each result names its own)."""
    rows = []
    for bucket in page["data"]:
        if not isinstance(bucket, dict) or not isinstance(bucket.get("results"), list):
            raise SourceError(f"{where}: a bucket without a `results` list; save the page whole")
        unix(bucket.get("start_time"), where)
        for result in bucket["results"]:
            kind = str(result.get("object", "")) if isinstance(result, dict) else ""
            if not kind.startswith(_RESULT) or not kind.endswith(".result"):
                raise SourceError(
                    f"{where}: result object {kind or type(result).__name__!r} is not a Usage "
                    "API result (organization.usage.<endpoint>.result); for the Costs API use "
                    "the openai_costs connector"
                )
            endpoint = kind[len(_RESULT) : -len(".result")]
            rows.append(usage_row(endpoint, bucket["start_time"], bucket["end_time"], result))
    return rows


@register
class OpenAIUsage(ApiPagesConnector):
    """OpenAI organization usage, per bucket, endpoint, project and model."""

    type_name = "openai_usage"
    table = INFERENCE_USAGE
    description = "OpenAI organization Usage API (url + admin_key_env, or saved JSON pages)"
    provider_name = "OpenAI"
    key_hint = "an sk-admin-... key"
    report = "the OpenAI Usage API"
    api_path = r"/v1/organization/usage(?:/(?P<endpoint>[a-z_]+))?"
    Options = OpenAIUsageOptions

    @classmethod
    def url_options(cls, match: re.Match[str]) -> dict[str, Any]:
        """`…/usage/completions` reads that endpoint only; `…/usage` every one."""
        return {"endpoints": (match["endpoint"],)} if match["endpoint"] else {}

    @classmethod
    def recognises(cls, sample: SourceSample) -> str | None:
        """A saved Usage API page."""
        if first_result_object(sample.document).startswith(_RESULT):
            return "an OpenAI Usage API page (organization.usage.*.result buckets)"
        return None

    def requests(self, window: Window) -> list[tuple[str, Params]]:
        """One paged request per endpoint."""
        options = self.options
        if "model" not in options.group_by:
            raise ConfigError(
                f'{self.config.file}: [options] group_by must include "model" (usage is priced '
                "and attributed per model)"
            )
        params: list[tuple[str, str]] = [
            ("start_time", str(int(window.start.timestamp()))),
            ("end_time", str(int(window.end.timestamp()))),
            ("bucket_width", options.bucket_width),
            ("limit", str(BUCKETS[options.bucket_width])),
            *(("group_by", g) for g in options.group_by),
        ]
        return [(f"/v1/organization/usage/{e}", params) for e in options.endpoints]

    def headers(self, secret: str) -> dict[str, str]:
        """A bearer admin key."""
        return {"Authorization": f"Bearer {secret}", "Accept": "application/json"}

    @staticmethod
    def bucket_start(page: Any) -> datetime | None:
        """The start of the page's last bucket."""
        data = page.get("data") if isinstance(page, dict) else None
        return unix(data[-1]["start_time"], "page") if data else None

    def page_rows(self, page: Any, where: str) -> list[dict[str, Any]]:
        """Usage results as rows."""
        return page_rows(page, where)

    def finish(self, frame: pl.DataFrame) -> Batch:
        """Typed rows, unpriced."""
        frame = frame.with_columns(
            provider=pl.lit("openai"),
            cache_write_tokens=pl.lit(0, pl.Int64),
            currency=pl.lit("USD"),
            cost=pl.lit(None, pl.String),
            cost_source=pl.lit("unpriced"),
        )
        parsed = parse_columns(
            frame, {**KINDS, "cost": "money"}, required=("request_id", "ts", "model")
        )
        return Batch(parsed.frame, parsed.rejects)


def first_result_object(document: Any) -> str:
    """The `object` of the first result of a saved page (or list of pages), or ""."""
    pages = document if isinstance(document, list) else [document]
    for page in pages:
        data = page.get("data") if isinstance(page, dict) else None
        for bucket in data if isinstance(data, list) else []:
            results = bucket.get("results") if isinstance(bucket, dict) else None
            for result in results if isinstance(results, list) else []:
                if isinstance(result, dict):
                    return str(result.get("object", ""))
    return ""
