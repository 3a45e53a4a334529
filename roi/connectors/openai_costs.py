"""OpenAI organization Costs API (`/v1/organization/costs`) → `provider_invoices`.

What OpenAI bills: one-day buckets, grouped by project and line item (`[options] group_by`).
`amount.value` is a number in `amount.currency` (lower-case ISO, "usd"), read as an exact
decimal. The API has no model dimension; a line item written `<model>, <kind>` (e.g.
`gpt-4o-2024-08-06, input`) names its model, kept in `model` so the true-up can match it to
that model's usage. Per-model cost is the usage priced (`openai_usage`), trued up to these
amounts per day, project and line item (`roi.attribution.trueup`).

Read live with an admin key (`url = "https://api.openai.com"`, `admin_key_env`), or from saved
pages (`path`); see `roi.connectors.api_pages` and, for currencies, `roi.connectors.invoices`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import polars as pl

from roi.connectors import register
from roi.connectors.api_pages import (
    ApiPagesConnector,
    Window,
    key,
    project_currency,
    text,
)
from roi.connectors.base import SourceSample
from roi.connectors.http_api import Params
from roi.connectors.invoices import InvoiceOptions, checked_rates, invoice_batch
from roi.connectors.openai_usage import first_result_object, unix
from roi.errors import SourceError
from roi.loading.protocol import Batch
from roi.tables import PROVIDER_INVOICES

_RESULT = "organization.costs.result"


@dataclass(frozen=True)
class OpenAICostsOptions(InvoiceOptions):
    """`[options]` of an `openai_costs` connector."""

    group_by: tuple[Literal["project_id", "line_item"], ...] = ("project_id", "line_item")


def line_model(line_item: str | None) -> str | None:
    """The model a line item names: `gpt-4o-2024-08-06, input` → `gpt-4o-2024-08-06`."""
    if not line_item or ", " not in line_item:
        return None
    model = line_item.rsplit(", ", 1)[0].strip()
    return model if model and " " not in model else None


def cost_rows(page: dict[str, Any], where: str) -> list[dict[str, Any]]:
    """The rows of one Costs API page."""
    rows = []
    for bucket in page["data"]:
        if not isinstance(bucket, dict) or not isinstance(bucket.get("results"), list):
            raise SourceError(f"{where}: a bucket without a `results` list; save the page whole")
        start = unix(bucket.get("start_time"), where)
        end = unix(bucket.get("end_time"), where)
        for result in bucket["results"]:
            if not isinstance(result, dict) or result.get("object") != _RESULT:
                kind = result.get("object") if isinstance(result, dict) else result
                raise SourceError(
                    f"{where}: result {kind!r} is not a Costs API result ({_RESULT}); for the "
                    "Usage API use the openai_usage connector"
                )
            amount = result.get("amount") or {}
            line_item, project = result.get("line_item"), result.get("project_id")
            rows.append(
                {
                    "line_id": key("openai", start.date(), project, line_item),
                    "provider": "openai",
                    "period_start": start.isoformat(),
                    "period_end": end.isoformat(),
                    "project_id": text(project),
                    "line_item": text(line_item),
                    "model": line_model(line_item),
                    "amount": text(amount.get("value")),
                    "currency": text(amount.get("currency")),
                }
            )
    return rows


@register
class OpenAICosts(ApiPagesConnector):
    """OpenAI's daily costs per project and line item."""

    type_name = "openai_costs"
    table = PROVIDER_INVOICES
    description = "OpenAI organization Costs API (url + admin_key_env, or saved JSON pages)"
    provider_name = "OpenAI"
    key_hint = "an sk-admin-... key"
    report = "the OpenAI Costs API"
    api_path = "/v1/organization/costs"
    Options = OpenAICostsOptions

    @classmethod
    def recognises(cls, sample: SourceSample) -> str | None:
        """A saved Costs API page."""
        if first_result_object(sample.document) == _RESULT:
            return "an OpenAI Costs API page (organization.costs.result buckets)"
        return None

    def requests(self, window: Window) -> list[tuple[str, Params]]:
        """The daily costs of the window."""
        params: list[tuple[str, str]] = [
            ("start_time", str(int(window.start.timestamp()))),
            ("end_time", str(int(window.end.timestamp()))),
            ("bucket_width", "1d"),
            ("limit", "180"),
            *(("group_by", g) for g in self.options.group_by),
        ]
        return [("/v1/organization/costs", params)]

    def headers(self, secret: str) -> dict[str, str]:
        """A bearer admin key."""
        return {"Authorization": f"Bearer {secret}", "Accept": "application/json"}

    @staticmethod
    def bucket_start(page: Any) -> datetime | None:
        """The start of the page's last bucket."""
        data = page.get("data") if isinstance(page, dict) else None
        return datetime.fromtimestamp(int(data[-1]["start_time"]), UTC) if data else None

    def page_rows(self, page: Any, where: str) -> list[dict[str, Any]]:
        """Cost results as rows."""
        return cost_rows(page, where)

    def finish(self, frame: pl.DataFrame) -> Batch:
        """Typed rows in the project's currency."""
        rates = checked_rates(self.options.rates, str(self.config.file))
        return invoice_batch(frame, project_currency(self.root), rates)
