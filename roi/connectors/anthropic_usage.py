"""Anthropic Messages usage report (`/v1/organizations/usage_report/messages`) →
`inference_usage`.

One row per time bucket × the groups asked for (`[options] group_by`, default model, workspace,
service tier and context window). Anthropic counts input apart from the cache: roi's
`input_tokens` is uncached + cache reads + cache writes (OpenAI semantics, as the table holds
them), `cached_input_tokens` the cache reads, `cache_write_tokens` both cache writes and
`cache_write_1h_tokens` the 1-hour ones (priced at twice the 5-minute rate). A null
`workspace_id` is the organization's default workspace, kept as the tag `workspace_id =
"default"`. The report counts no requests (`requests` is 0) and holds no money: rows are
unpriced until a price book or the cost report (`anthropic_cost`) gives them a cost.

Read live with an admin key (`url = "https://api.anthropic.com"`, `admin_key_env`), or from
saved pages (`path`); see `roi.connectors.api_pages`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import polars as pl

from roi.connectors import register
from roi.connectors.api_pages import ApiOptions, ApiPagesConnector, Window, key, text
from roi.connectors.base import SourceSample
from roi.connectors.http_api import Params
from roi.errors import SourceError
from roi.loading.parsing import parse_columns
from roi.loading.protocol import Batch
from roi.loading.rejects import reject_where
from roi.loading.tags import tag_json
from roi.tables import INFERENCE_USAGE

DEFAULT_WORKSPACE = "default"  # what a null workspace_id means
API_VERSION = "2023-06-01"
GroupBy = Literal[
    "model", "workspace_id", "api_key_id", "service_tier", "context_window", "inference_geo"
]
_SUMMED = (
    ("uncached", "uncached_input_tokens"),
    ("write_5m", "cache_creation.ephemeral_5m_input_tokens"),
)
BUCKETS = {"1d": 31, "1h": 168, "1m": 1440}
KINDS = {
    "ts": "utc",
    "uncached": "int",
    "cached_input_tokens": "int",
    "write_5m": "int",
    "cache_write_1h_tokens": "int",
    "output_tokens": "int",
}


@dataclass(frozen=True)
class AnthropicUsageOptions(ApiOptions):
    """`[options]` of an `anthropic_usage` connector."""

    bucket_width: Literal["1d", "1h", "1m"] = "1d"
    group_by: tuple[GroupBy, ...] = ("model", "workspace_id", "service_tier", "context_window")


def buckets(page: dict[str, Any], where: str) -> list[tuple[str, str, list[Any]]]:
    """(starting_at, ending_at, results) of each bucket of an Anthropic report page."""
    found = []
    for bucket in page["data"]:
        if not isinstance(bucket, dict) or not isinstance(bucket.get("results"), list):
            raise SourceError(f"{where}: a bucket without a `results` list; save the page whole")
        start, end = bucket.get("starting_at"), bucket.get("ending_at")
        if not isinstance(start, str) or not isinstance(end, str):
            raise SourceError(
                f"{where}: a bucket without starting_at / ending_at times; save the page whole"
            )
        found.append((start, end, bucket["results"]))
    return found


def report_params(window: Window, width: str, group_by: tuple[str, ...]) -> list[tuple[str, str]]:
    """The query of an Anthropic report for `window` (RFC 3339 times, `group_by[]`)."""
    return [
        ("starting_at", window.start.strftime("%Y-%m-%dT%H:%M:%SZ")),
        ("ending_at", window.end.strftime("%Y-%m-%dT%H:%M:%SZ")),
        ("bucket_width", width),
        ("limit", str(BUCKETS[width])),
        *(("group_by[]", g) for g in group_by),
    ]


def last_start(page: Any) -> datetime | None:
    """The start of a report page's last bucket."""
    data = page.get("data") if isinstance(page, dict) else None
    if not data:
        return None
    return datetime.fromisoformat(str(data[-1]["starting_at"]).replace("Z", "+00:00"))


def first_result(document: Any) -> dict[str, Any]:
    """The first result of a saved report page (or list of pages), or {}."""
    pages = document if isinstance(document, list) else [document]
    for page in pages:
        data = page.get("data") if isinstance(page, dict) else None
        for bucket in data if isinstance(data, list) else []:
            results = bucket.get("results") if isinstance(bucket, dict) else None
            for result in results if isinstance(results, list) else []:
                if isinstance(result, dict):
                    return result
    return {}


def _row(start: str, end: str, result: dict[str, Any]) -> dict[str, Any]:
    workspace = result.get("workspace_id") or DEFAULT_WORKSPACE
    creation = result.get("cache_creation") or {}
    tools = result.get("server_tool_use") or {}
    dims = ("api_key_id", "service_tier", "context_window", "inference_geo")
    tags = [("workspace_id", workspace), *((d, text(result.get(d))) for d in dims)]
    tags.append(("web_search_requests", text(tools.get("web_search_requests"))))
    return {
        "request_id": key(
            "anthropic",
            "messages",
            f"{start}-{end}",
            workspace,
            result.get("model"),
            *(result.get(d) for d in dims),
        ),
        "ts": start,
        "model": text(result.get("model")),
        "tags": tag_json(tags),
        "uncached": text(result.get("uncached_input_tokens", 0)),
        "cached_input_tokens": text(result.get("cache_read_input_tokens", 0)),
        "write_5m": text(creation.get("ephemeral_5m_input_tokens", 0)),
        "cache_write_1h_tokens": text(creation.get("ephemeral_1h_input_tokens", 0)),
        "output_tokens": text(result.get("output_tokens", 0)),
    }


class AnthropicReport(ApiPagesConnector):
    """What the Anthropic admin reports (usage and cost) share: the key's header and the
    buckets' dates."""

    def headers(self, secret: str) -> dict[str, str]:
        """The admin key and the API version."""
        return {"x-api-key": secret, "anthropic-version": API_VERSION}

    @staticmethod
    def bucket_start(page: Any) -> datetime | None:
        """The start of the page's last bucket."""
        return last_start(page)


@register
class AnthropicUsage(AnthropicReport):
    """Anthropic Messages usage per bucket, model and workspace."""

    type_name = "anthropic_usage"
    table = INFERENCE_USAGE
    description = "Anthropic usage report (url + admin_key_env, or saved JSON pages)"
    provider_name = "Anthropic"
    key_hint = "an sk-ant-admin... key"
    report = "the Anthropic usage report"
    api_path = "/v1/organizations/usage_report/messages"
    Options = AnthropicUsageOptions

    @classmethod
    def recognises(cls, sample: SourceSample) -> str | None:
        """A saved usage-report page."""
        if "uncached_input_tokens" in first_result(sample.document):
            return "an Anthropic usage report page (uncached_input_tokens per bucket)"
        return None

    def requests(self, window: Window) -> list[tuple[str, Params]]:
        """The Messages usage report of the window."""
        options = self.options
        params = report_params(window, options.bucket_width, options.group_by)
        return [("/v1/organizations/usage_report/messages", params)]

    def page_rows(self, page: Any, where: str) -> list[dict[str, Any]]:
        """Usage results as rows."""
        return [_row(s, e, r) for s, e, results in buckets(page, where) for r in results]

    def finish(self, frame: pl.DataFrame) -> Batch:
        """Typed rows, with the cache counted inside the input."""
        parsed = parse_columns(frame, KINDS, required=("request_id", "ts", "model"))
        rows = parsed.frame.with_columns(
            provider=pl.lit("anthropic"),
            call_type=pl.lit("messages"),
            requests=pl.lit(0, pl.Int64),
            input_tokens=pl.col("uncached")
            + pl.col("cached_input_tokens")
            + pl.col("write_5m")
            + pl.col("cache_write_1h_tokens"),
            cache_write_tokens=pl.col("write_5m") + pl.col("cache_write_1h_tokens"),
            currency=pl.lit("USD"),
            cost=pl.lit(None, pl.Decimal(38, 10)),
            cost_source=pl.lit("unpriced"),
        )
        # A negative count would hide inside the sums: reject it under its own name.
        rejects = [parsed.rejects]
        for column, name in _SUMMED:
            rejects.append(
                reject_where(
                    rows,
                    pl.col(column) < 0,
                    name,
                    pl.col(column),
                    "a token count cannot be negative; save the report page as the API returned it",
                )
            )
        return Batch(rows.drop("uncached", "write_5m"), pl.concat(rejects))
