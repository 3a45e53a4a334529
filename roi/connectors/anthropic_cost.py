"""Anthropic cost report (`/v1/organizations/cost_report`) → `provider_invoices`.

What Anthropic bills, per day (the report's only bucket width), grouped by workspace and
description (`[options] group_by`): the model, cost type (tokens, web search, code execution),
token type (uncached input, output, cache reads, 5-minute and 1-hour cache writes), service
tier and context window. `amount` is a decimal string in the currency's lowest unit (cents):
`"123.45"` USD is $1.2345, converted exactly. A null `workspace_id` is the default workspace
(`"default"`). Priority-tier usage is not in this report (Anthropic bills it apart).

Read live with an admin key (`url = "https://api.anthropic.com"`, `admin_key_env`), or from
saved pages (`path`); see `roi.connectors.api_pages` and, for currencies,
`roi.connectors.invoices`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import polars as pl

from roi.connectors import register
from roi.connectors.anthropic_usage import (
    DEFAULT_WORKSPACE,
    AnthropicReport,
    buckets,
    first_result,
    report_params,
)
from roi.connectors.api_pages import Window, key, project_currency, text
from roi.connectors.base import SourceSample
from roi.connectors.http_api import Params
from roi.connectors.invoices import InvoiceOptions, checked_rates, invoice_batch
from roi.loading.protocol import Batch
from roi.tables import PROVIDER_INVOICES

_DIMENSIONS = ("model", "cost_type", "token_type", "service_tier", "context_window")


@dataclass(frozen=True)
class AnthropicCostOptions(InvoiceOptions):
    """`[options]` of an `anthropic_cost` connector."""

    group_by: tuple[Literal["workspace_id", "description"], ...] = ("workspace_id", "description")


def from_cents(amount: Any) -> str | None:
    """A lowest-unit decimal string as an amount in whole units: "123.45" → "1.2345"
    (text that is not a number is passed on for the parser to reject by name)."""
    if amount is None:
        return None
    try:
        return str(Decimal(str(amount)) / 100)
    except InvalidOperation:
        return str(amount)


def _row(start: str, end: str, result: dict[str, Any]) -> dict[str, Any]:
    workspace = result.get("workspace_id") or DEFAULT_WORKSPACE
    description = result.get("description")
    return {
        "line_id": key(
            "anthropic",
            start[:10],
            workspace,
            description,
            *(result.get(d) for d in _DIMENSIONS),
            result.get("inference_geo"),
        ),
        "provider": "anthropic",
        "period_start": start,
        "period_end": end,
        "project_id": workspace,
        "line_item": text(description),
        **{d: text(result.get(d)) for d in _DIMENSIONS},
        "amount": from_cents(result.get("amount")),
        "currency": text(result.get("currency")),
    }


@register
class AnthropicCost(AnthropicReport):
    """Anthropic's daily costs per workspace and cost item."""

    type_name = "anthropic_cost"
    table = PROVIDER_INVOICES
    description = "Anthropic cost report (url + admin_key_env, or saved JSON pages)"
    provider_name = "Anthropic"
    key_hint = "an sk-ant-admin... key"
    report = "the Anthropic cost report"
    api_path = "/v1/organizations/cost_report"
    Options = AnthropicCostOptions

    @classmethod
    def recognises(cls, sample: SourceSample) -> str | None:
        """A saved cost-report page."""
        result = first_result(sample.document)
        if isinstance(result.get("amount"), str) and "currency" in result:
            return "an Anthropic cost report page (amounts in cents per bucket)"
        return None

    def requests(self, window: Window) -> list[tuple[str, Params]]:
        """The daily cost report of the window."""
        params = report_params(window, "1d", self.options.group_by)
        return [("/v1/organizations/cost_report", params)]

    def page_rows(self, page: Any, where: str) -> list[dict[str, Any]]:
        """Cost results as rows."""
        return [_row(s, e, r) for s, e, results in buckets(page, where) for r in results]

    def finish(self, frame: pl.DataFrame) -> Batch:
        """Typed rows in the project's currency."""
        rates = checked_rates(self.options.rates, str(self.config.file))
        return invoice_batch(frame, project_currency(self.root), rates)
