"""The gateway against the invoice: an LLM provider's invoice spread over models by usage.

Where an LLM provider's invoice is loaded (`provider_invoices`: the OpenAI Costs API, the
Anthropic cost report), it is the cost: the gateway's estimate (LiteLLM's `spend`) is not.
`gateway_vs_invoice` shows per month and provider the gateway's estimate, the invoice and the
gap (invoice − estimate: positive when the gateway under-counted). `invoiced_usage` spreads each
invoice line over the usage rows it covers, so the models' costs sum to the invoice exactly.

Which usage: per month and provider, the gateway's rows (a reported cost) when there are any,
else the provider's own usage report (`openai_usage`, `anthropic_usage`); never both, which
count the same tokens twice. The weight of a row is its cost when every row of that month and
provider has one (the gateway's, or the price book's once it prices unpriced rows at load), else
its tokens (input + output), else its requests.

Matching, finest first: an invoice line goes to the usage of the same day, project (OpenAI
project or Anthropic workspace) and model; failing that the same day and project; then the same
month and model; then the whole month of that provider. A line with no usage at all that month
stays `__unallocated__` with its reason. Shares are exact decimals (largest remainder at the
money type's 1e-10), so every line is spread to the last digit.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_FLOOR, Decimal, localcontext
from typing import Any

import polars as pl

from roi import warehouse
from roi.attribution.ledger import MonthFilter, month_sql
from roi.vocabulary import MONEY
from roi.warehouse import Connection

QUANTUM = Decimal("1e-10")  # the money type's scale
# Keys a line is matched to usage by, finest first.
LEVELS: tuple[tuple[str, ...], ...] = (
    ("day", "project", "model"),
    ("day", "project"),
    ("month", "model"),
    ("month",),
)
_MODEL = "lower(regexp_replace({0}, '^.*/', ''))"  # `anthropic/claude-x` → `claude-x`


def invoice_lines(con: Connection, month: MonthFilter) -> list[dict[str, Any]]:
    """Invoice amounts per day, provider, project, model and currency."""
    when, params = month_sql("period_start", month)
    return warehouse.fetch_frame(
        con,
        f"""SELECT date_trunc('month', period_start)::DATE AS month,
                   period_start::DATE AS day, provider, project_id AS project,
                   {_MODEL.format("model")} AS model, currency, sum(amount) AS amount,
                   list(DISTINCT _load_id ORDER BY _load_id) AS load_ids
            FROM provider_invoices WHERE {when} GROUP BY ALL ORDER BY ALL""",
        params,
    ).to_dicts()


def usage_rows(con: Connection, month: MonthFilter) -> list[dict[str, Any]]:
    """Usage of every invoiced provider, per day, project, model, portfolio id and feature,
    the gateway's rows apart from the provider's own report."""
    when, params = month_sql("u.ts", month)
    return warehouse.fetch_frame(
        con,
        f"""SELECT date_trunc('month', u.ts)::DATE AS month, u.ts::DATE AS day, u.provider,
                   coalesce(u.tags['project_id'], u.tags['workspace_id']) AS project,
                   {_MODEL.format("u.model")} AS model, u.model_id, u.feature,
                   u.cost_source = 'reported' AS gateway,
                   sum(u.cost) AS cost, count(*) FILTER (WHERE u.cost IS NULL) AS unpriced,
                   sum(u.input_tokens + u.output_tokens)::BIGINT AS tokens,
                   sum(u.requests)::BIGINT AS requests,
                   sum(u.input_tokens)::BIGINT AS input_tokens,
                   sum(u.output_tokens)::BIGINT AS output_tokens,
                   list(DISTINCT u._load_id ORDER BY u._load_id) AS load_ids
            FROM inference_usage u
            WHERE {when} AND EXISTS (SELECT 1 FROM provider_invoices i
                                     WHERE i.provider = u.provider
                                       AND date_trunc('month', i.period_start)
                                           = date_trunc('month', u.ts))
            GROUP BY ALL ORDER BY ALL""",
        params,
    ).to_dicts()


def weighted(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[tuple[Any, ...], str]]:
    """The rows that carry each (month, provider)'s weights, each with its `weight`, and what
    the weight is per (month, provider): cost, tokens or requests."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[(row["month"], row["provider"])].append(row)
    chosen: list[dict[str, Any]] = []
    basis: dict[tuple[Any, ...], str] = {}
    for group, members in groups.items():
        gateway = [r for r in members if r["gateway"]]
        members = gateway or members
        priced = all(r["unpriced"] == 0 for r in members)
        if priced and sum(Decimal(r["cost"] or 0) for r in members) > 0:
            basis[group] = "cost"
        elif sum(r["tokens"] for r in members) > 0:
            basis[group] = "tokens"
        else:
            basis[group] = "requests"
        field = basis[group]
        chosen += [{**r, "weight": Decimal(r[field] or 0)} for r in members]
    return chosen, basis


def split_exactly(amount: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """`amount` in parts proportional to `weights` (positive sum), summing to it exactly."""
    total = sum(weights, Decimal(0))
    with localcontext() as ctx:
        ctx.prec = 60
        raw = [amount * w / total for w in weights]
        floors = [r.quantize(QUANTUM, rounding=ROUND_FLOOR) for r in raw]
        left = int((amount - sum(floors, Decimal(0))) / QUANTUM)
    order = sorted(range(len(raw)), key=lambda i: (floors[i] - raw[i], i))
    for i in order[:left]:
        floors[i] += QUANTUM
    return floors


def _key(row: dict[str, Any], level: tuple[str, ...]) -> tuple[Any, ...]:
    return (row["provider"], *(row[k] for k in level))


def spread(
    lines: list[dict[str, Any]], usage: list[dict[str, Any]], currency_of: dict[str, str]
) -> tuple[list[Decimal], list[dict[str, Any]]]:
    """Each usage row's share of the invoice lines, and the lines no usage covers."""
    shares = [Decimal(0)] * len(usage)
    for row in usage:  # a row's share is in its invoice's currency
        row["currency"] = currency_of.get(row["provider"])
    left = lines
    for level in LEVELS:
        index: dict[tuple[Any, ...], list[int]] = defaultdict(list)
        for i, row in enumerate(usage):
            if row["weight"] > 0:
                index[_key(row, level)].append(i)
        unmatched = []
        for line in left:
            members = index.get(_key(line, level))
            if not members:
                unmatched.append(line)
                continue
            parts = split_exactly(Decimal(line["amount"]), [usage[i]["weight"] for i in members])
            for i, part in zip(members, parts, strict=True):
                shares[i] += part
        left = unmatched
    return shares, left


def invoiced_usage(con: Connection, month: MonthFilter = None) -> pl.DataFrame:
    """Per month, provider, portfolio id, feature and currency: the invoice's share (`amount`),
    the usage behind it and why (`reason`); invoice lines no usage covers have no model."""
    lines = invoice_lines(con, month)
    if not lines:
        return pl.DataFrame(schema=INVOICED_SCHEMA)
    usage, basis = weighted(usage_rows(con, month))
    currency_of = {line["provider"]: line["currency"] for line in lines}
    shares, unmatched = spread(lines, usage, currency_of)
    out = [
        {
            **{k: r[k] for k in ("month", "provider", "model_id", "feature", "currency")},
            "amount": share,
            **{k: r[k] for k in ("requests", "input_tokens", "output_tokens", "load_ids")},
            "unpriced_requests": r["unpriced"],
            "reason": f"the {r['provider']} invoice, spread over usage by "
            f"{basis[(r['month'], r['provider'])]}",
        }
        for r, share in zip(usage, shares, strict=True)
    ]
    out += [
        {
            **{k: line[k] for k in ("month", "provider", "currency", "amount", "load_ids")},
            "model_id": None,
            "feature": None,
            "requests": 0,
            "input_tokens": 0,
            "output_tokens": 0,
            "unpriced_requests": 0,
            "reason": f"the {line['provider']} invoice with no usage this month to spread it by",
        }
        for line in unmatched
    ]
    return pl.DataFrame(out, schema=INVOICED_SCHEMA)


INVOICED_SCHEMA: dict[str, pl.DataType] = {
    "month": pl.Date(),
    "provider": pl.String(),
    "model_id": pl.String(),
    "feature": pl.String(),
    "currency": pl.String(),
    "amount": MONEY,
    "requests": pl.Int64(),
    "input_tokens": pl.Int64(),
    "output_tokens": pl.Int64(),
    "load_ids": pl.List(pl.String()),
    "unpriced_requests": pl.Int64(),
    "reason": pl.String(),
}


def gateway_vs_invoice(con: Connection, month: MonthFilter = None) -> pl.DataFrame:
    """Per month and provider with an invoice: the gateway's estimate (its reported cost), the
    invoice, and the gap (invoice − estimate; positive: the gateway under-counted)."""
    invoice_when, invoice_params = month_sql("period_start", month)
    usage_when, usage_params = month_sql("ts", month)
    return warehouse.fetch_frame(
        con,
        f"""WITH invoice AS (
                SELECT date_trunc('month', period_start)::DATE AS month, provider, currency,
                       sum(amount) AS invoice
                FROM provider_invoices WHERE {invoice_when} GROUP BY ALL),
            gateway AS (
                SELECT date_trunc('month', ts)::DATE AS month, provider, currency,
                       sum(cost) AS gateway, sum(input_tokens + output_tokens) AS tokens
                FROM inference_usage WHERE {usage_when} AND cost_source = 'reported'
                GROUP BY ALL)
            SELECT month, provider, currency, coalesce(g.gateway, 0) AS gateway,
                   i.invoice, i.invoice - coalesce(g.gateway, 0) AS gap,
                   round(100 * (i.invoice - g.gateway) / nullif(g.gateway, 0), 2)::DOUBLE
                       AS gap_pct,
                   coalesce(g.tokens, 0)::BIGINT AS gateway_tokens
            FROM invoice i LEFT JOIN gateway g USING (month, provider, currency)
            ORDER BY month, provider, currency""",
        [*invoice_params, *usage_params],
    )
