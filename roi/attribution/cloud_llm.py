"""The gateway against the cloud bill: LLM usage billed by a cloud (Bedrock on the AWS bill,
Azure OpenAI on Microsoft's, Vertex AI and Gemini on Google Cloud's) next to that bill's LLM
lines, per month and provider.

The bill is the cost (its lines are attributed like any other); this only shows how far the
gateway's estimate (the cost it reported) is from it. Which lines are LLM lines is decided per
cloud from what the billing formats write (`LINE_RULES`):

- AWS: the service is Amazon Bedrock (FOCUS `ServiceName`, CUR `product_product_name` or
  product code `AmazonBedrock`; Marketplace models such as "Claude 3.5 Sonnet (Amazon Bedrock
  Edition)"), or the resource is a Bedrock ARN (`arn:aws:bedrock:…`: inference profiles);
- Microsoft: an Azure AI services (Cognitive Services) account — FOCUS `ServiceName` "Azure AI
  Services", resource type `microsoft.cognitiveservices/accounts`, cost details' `MeterCategory`
  "Cognitive Services" or "Foundry Models" — with an OpenAI meter: tokens, a GPT model, an
  `Azure OpenAI` meter subcategory or provisioned (PTU) capacity. Speech, vision or search
  meters of the same services are not LLM lines;
- Google Cloud: Vertex AI lines whose SKU names a generative model or counts tokens or
  characters (not training or endpoint node hours), the Generative Language (Gemini) API, and
  Marketplace models (Claude).

Tax lines are left out (the gateways estimate before tax); credits and commitments stay in:
they are what the bill charges. Which lines a row compares with is its *scope*, narrowest
known first: the claims of the LLM pools that take the provider's requests; else, when every
request of the month names the account it went to (a tag `account`; LiteLLM's `api_base`, e.g.
`https://<account>.openai.azure.com/`; a Vertex `…/projects/<project>/…` URL; a Bedrock ARN as
the model), the lines of those accounts (sub-account id or name, resource name, the last part
of the resource id); else every LLM line of that cloud that month. Rows are the months in which
the provider has usage and the cloud's bill is loaded.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import polars as pl

from roi import warehouse
from roi.attribution.ledger import MonthFilter, month_column, month_sql, tag_values
from roi.attribution.selectors import Candidate, hits
from roi.attribution.trueup import gateway_vs_invoice
from roi.attribution.usage import billed_by, billed_months
from roi.config import AttributionSettings, PoolConfig
from roi.vocabulary import MONEY, TOKEN_BASES
from roi.warehouse import Connection


@dataclass(frozen=True)
class LineRule:
    """What an LLM line of one cloud's bill looks like (a DuckDB condition on `cost_lines`)."""

    services: str  # in messages: "Amazon Bedrock"
    condition: str


_TEXT = (
    "concat_ws(' ', service_name, service_subcategory, sku_meter, charge_description, "
    "consumed_unit, pricing_unit)"
)
LINE_RULES: dict[str, LineRule] = {
    "AWS": LineRule(
        "Amazon Bedrock",
        "(service_name ILIKE '%bedrock%' OR resource_id ILIKE 'arn:aws:bedrock:%')",
    ),
    "Microsoft": LineRule(
        "Azure OpenAI",
        "((resource_type ILIKE 'microsoft.cognitiveservices/%' "
        "OR resource_id ILIKE '%/providers/microsoft.cognitiveservices/%' "
        "OR service_name ILIKE '%openai%' OR service_name ILIKE '%cognitive services%' "
        "OR service_name ILIKE '%foundry%' OR service_name ILIKE 'azure ai services') "
        f"AND regexp_matches({_TEXT}, "
        r"'(?i)openai|\btokens?\b|\bgpt|\bo[1-9]\b|dall-?e|whisper|embedding|"
        r"provisioned managed|\bptu\b'))",
    ),
    "Google Cloud": LineRule(
        "Vertex AI and Gemini",
        "(service_name ILIKE 'generative language api' OR service_name ILIKE 'gemini api' "
        "OR service_name ILIKE '%claude%' OR service_name ILIKE '%anthropic%' "
        f"OR (service_name ILIKE 'vertex ai%' AND regexp_matches({_TEXT}, "
        r"'(?i)gemini|palm|bison|gecko|claude|llama|mistral|imagen|\btokens?\b|"
        r"\bcharacters?\b|text (input|output)|(input|output) text')))",
    ),
}
# Gateway providers a cloud bills but not per token (instance hours: no LLM lines to compare).
NOT_PER_TOKEN = ("sagemaker",)
# The account a request names: a tag, else what its api_base or a Bedrock ARN says.
_ACCOUNT = r"""coalesce(
    nullif(tags['account'], ''),
    nullif(regexp_extract(model, 'arn:aws:bedrock:[^:]*:([0-9]{12}):', 1), ''),
    nullif(regexp_extract(deployment, 'arn:aws:bedrock:[^:]*:([0-9]{12}):', 1), ''),
    nullif(regexp_extract(tags['api_base'],
        '^https?://([A-Za-z0-9-]+)\.(openai|cognitiveservices|services\.ai)\.azure\.com', 1), ''),
    nullif(regexp_extract(tags['api_base'], '/projects/([^/]+)/', 1), ''))"""
SCHEMA: dict[str, pl.DataType] = {
    "month": pl.Date(),
    "provider": pl.String(),
    "currency": pl.String(),
    "gateway": MONEY,
    "invoice": MONEY,
    "gap": MONEY,
    "gap_pct": pl.Float64(),
    "gateway_tokens": pl.Int64(),
    "invoice_source": pl.String(),
    "scope": pl.String(),
}


def cloud_groups(settings: AttributionSettings) -> dict[str, tuple[str, ...]]:
    """Cloud (billing provider) → the gateway providers it bills per token."""
    groups: dict[str, list[str]] = defaultdict(list)
    for provider, cloud in sorted(billed_by(settings).items()):
        if cloud in LINE_RULES and provider not in NOT_PER_TOKEN:
            groups[cloud].append(provider)
    return {cloud: tuple(providers) for cloud, providers in groups.items()}


def _gateway(con: Connection, providers: list[str], month: MonthFilter) -> pl.DataFrame:
    """Per month, provider, currency and named account: the reported cost and its tokens."""
    when, params = month_sql("ts", month)
    marks = ", ".join("?" for _ in providers)
    return warehouse.fetch_frame(
        con,
        f"""SELECT date_trunc('month', ts)::DATE AS month, provider, currency,
                   {_ACCOUNT} AS account,
                   sum(cost) FILTER (WHERE cost_source = 'reported') AS gateway,
                   coalesce(sum(input_tokens + output_tokens)
                            FILTER (WHERE cost_source = 'reported'), 0)::BIGINT AS tokens
            FROM inference_usage WHERE provider IN ({marks}) AND {when}
            GROUP BY ALL ORDER BY ALL""",
        [*providers, *params],
    )


def _lines(
    con: Connection, settings: AttributionSettings, clouds: list[str], month: MonthFilter
) -> pl.DataFrame:
    """The LLM lines of the clouds' bills, per month, cloud, currency, account and resource."""
    column = month_column(settings)
    when, params = month_sql(column, month)
    rules = " OR ".join(f"(provider = ? AND {LINE_RULES[c].condition})" for c in clouds)
    return warehouse.fetch_frame(
        con,
        f"""SELECT date_trunc('month', {column})::DATE AS month, provider AS cloud,
                   billing_currency AS currency, sub_account_id, sub_account_name,
                   resource_id, resource_name, service_name,
                   CASE WHEN tags_raw IS NULL AND tags IS NOT NULL
                        THEN CAST(to_json(tags) AS VARCHAR) ELSE tags_raw END AS tags_text,
                   sum(billed_cost) AS billed
            FROM cost_lines
            WHERE ({rules}) AND {when} AND charge_category IS DISTINCT FROM 'Tax'
            GROUP BY ALL ORDER BY ALL""",
        [*clouds, *params],
    ).with_row_index("group_id")


def _pool_claimed(lines: pl.DataFrame, pools: list[PoolConfig]) -> set[int]:
    """The line groups the pools' claims take."""
    if not pools or not lines.height:
        return set()
    keys = sorted({k for p in pools for k in p.claims.tags})
    groups = lines.join(
        tag_values(lines["tags_text"], keys), on="tags_text", how="left", nulls_equal=True
    )
    candidates = [
        Candidate(
            p.pool_id,
            0,
            0,
            p.claims.tags,
            p.claims.resource_ids,
            p.claims.sub_accounts,
            p.claims.services,
        )
        for p in pools
    ]
    return set(hits(groups, candidates)["group_id"].to_list())


def _account_of(row: dict[str, Any]) -> set[str]:
    """The names a line's account goes by, lower-cased."""
    names = (row["sub_account_id"], row["sub_account_name"], row["resource_name"])
    found = {str(n).lower() for n in names if n}
    if row["resource_id"]:
        found.add(str(row["resource_id"]).rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1].lower())
    return found


def _scope(
    cloud: str,
    lines: list[dict[str, Any]],
    pools: list[PoolConfig],
    claimed: set[int],
    accounts: set[str] | None,
) -> tuple[list[dict[str, Any]], str]:
    """The lines one row compares with, and what they are."""
    services = LINE_RULES[cloud].services
    if pools:
        names = ", ".join(p.pool_id for p in pools)
        return [r for r in lines if r["group_id"] in claimed], f"{services} lines of pool {names}"
    if accounts:
        shown = ", ".join(sorted(accounts))
        return (
            [r for r in lines if _account_of(r) & accounts],
            f"{services} lines of account {shown}",
        )
    return lines, f"every {services} line of the {cloud} bill"


def gateway_vs_cloud_bill(
    con: Connection,
    settings: AttributionSettings,
    pools: tuple[PoolConfig, ...],
    month: MonthFilter = None,
) -> pl.DataFrame:
    """Per month and cloud-billed LLM provider: the gateway's reported cost, the cloud bill's
    LLM lines (billed cost) in scope, and the gap (bill − gateway; positive: the gateway
    under-counted) in money and percent of the gateway's figure."""
    groups = cloud_groups(settings)
    providers = sorted({p for members in groups.values() for p in members})
    usage = _gateway(con, providers, month) if providers else pl.DataFrame()
    if not usage.height:
        return pl.DataFrame(schema=SCHEMA)
    cloud_of = {p: cloud for cloud, members in groups.items() for p in members}
    usage = usage.with_columns(cloud=pl.col("provider").replace_strict(cloud_of))
    loaded = {(r["month"], r["provider"]) for r in billed_months(con, settings).to_dicts()}
    lines = _lines(con, settings, sorted(set(usage["cloud"])), month)
    rows = []
    for (when, cloud), used in usage.group_by("month", "cloud", maintain_order=True):
        if (when, cloud) not in loaded:
            continue  # no bill of that cloud this month: nothing to compare with
        members = set(used["provider"])
        taking = [p for p in pools if p.basis in TOKEN_BASES and members & set(p.usage.providers)]
        month_lines = lines.filter((pl.col("month") == when) & (pl.col("cloud") == cloud))
        named = used["account"]
        accounts = None if named.null_count() else {str(a).lower() for a in named}
        chosen, scope = _scope(
            str(cloud),
            month_lines.to_dicts(),
            taking,
            _pool_claimed(month_lines, taking),
            accounts,
        )
        rows += _compare(when, "+".join(sorted(members)), used, chosen, f"{cloud} bill", scope)
    frame = pl.DataFrame(rows, schema=SCHEMA)
    return frame.sort("month", "provider", "currency")


def _compare(
    when: Any,
    provider: str,
    used: pl.DataFrame,
    chosen: list[dict[str, Any]],
    source: str,
    scope: str,
) -> list[dict[str, Any]]:
    """One row per currency of the gateway's figures or the bill's lines."""
    gateway: dict[str, Decimal] = defaultdict(Decimal)
    tokens: dict[str, int] = defaultdict(int)
    for r in used.to_dicts():
        gateway[r["currency"]] += Decimal(r["gateway"] or 0)
        tokens[r["currency"]] += int(r["tokens"])
    bill: dict[str, Decimal] = defaultdict(Decimal)
    for r in chosen:
        bill[r["currency"]] += Decimal(r["billed"])
    out = []
    for currency in sorted(set(gateway) | set(bill)):
        estimate, invoice = gateway.get(currency, Decimal(0)), bill.get(currency, Decimal(0))
        gap = invoice - estimate
        out.append(
            {
                "month": when,
                "provider": provider,
                "currency": currency,
                "gateway": estimate,
                "invoice": invoice,
                "gap": gap,
                "gap_pct": round(float(100 * gap / estimate), 2) if estimate else None,
                "gateway_tokens": tokens.get(currency, 0),
                "invoice_source": source,
                "scope": scope,
            }
        )
    return out


def gateway_vs_invoices(
    con: Connection,
    settings: AttributionSettings,
    pools: tuple[PoolConfig, ...],
    month: MonthFilter = None,
) -> pl.DataFrame:
    """The gateway against every invoice loaded: the LLM providers' own (`provider_invoices`)
    and the cloud bills' LLM lines, per month and provider."""
    own = gateway_vs_invoice(con, month).with_columns(
        invoice_source=pl.lit("provider invoice"), scope=pl.lit(None, pl.String)
    )
    cloud = gateway_vs_cloud_bill(con, settings, pools, month)
    return pl.concat([own.cast(SCHEMA), cloud], how="vertical").sort(  # type: ignore[arg-type]
        "month", "provider", "currency"
    )
