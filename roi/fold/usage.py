"""The usage fold, once: LLM requests (`inference_usage`) into per-month sums, as Ibis
expressions compiled per engine like the billing fold (`roi.fold.definition`).

Two folds read the requests: a pool's (the requests it splits its bill by, per month, model
id and feature: what the token bases weigh) and the unpooled one (per month, provider, model
id, feature, currency and load: usage no pool takes, priced as `usage_costs`). A pool's
requests are named by provider and by deployment regular expressions (searched anywhere in
the name, as DuckDB's `regexp_matches` and Spark's `RLIKE` do); sums are exact integers and
DECIMALs, months UTC ranges, as in the billing fold.
"""

from __future__ import annotations

from typing import Any

import ibis
from ibis.expr.types import BooleanValue, Table

from roi.fold.definition import MonthFilter, ibis_type, in_months
from roi.fold.requests import Requests
from roi.tables import INFERENCE_USAGE

# The columns the usage folds read: the input contract for `inference_usage` on any engine.
USAGE_COLUMNS = (
    "ts",
    "provider",
    "deployment",
    "feature",
    "model_id",
    "requests",
    "input_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "output_tokens",
    "cost",
    "currency",
    "_load_id",
)


def inference_usage_table(name: str = "inference_usage") -> Table:
    """An unbound table with the columns the usage folds read, typed as in the contract."""
    types = INFERENCE_USAGE.types
    return ibis.table({c: ibis_type(types[c]) for c in USAGE_COLUMNS}, name=name)


def _taken(source: Table, requests: Requests) -> BooleanValue:
    """True for the rows `requests` names (false when it names none)."""
    out: BooleanValue = ibis.literal(False)
    if requests.providers:
        out = source.provider.isin(requests.providers)
    if requests.deployments:
        # coalesce: a request without a deployment is not taken (not NULL, which NOT keeps out).
        matched = source.deployment.coalesce("").re_search(requests.deployments)
        out = matched if not requests.providers else out | matched
    return out


def _chosen(source: Table, months: MonthFilter, *conditions: Any) -> Table:
    when = in_months(source.ts, months)
    kept = [c for c in (when, *conditions) if c is not None]
    return source.filter(*kept) if kept else source


def pool_usage(source: Table, requests: Requests, months: MonthFilter = None) -> Table:
    """A pool's LLM requests per month, model id and feature: requests and tokens (as
    doubles, summed exactly first) and the reported cost (an exact sum, null if none)."""
    rows = _chosen(source, months, _taken(source, requests))
    return rows.aggregate(
        by=[
            rows.ts.truncate("M").cast("date").name("month"),
            rows.model_id,
            rows.feature,
        ],
        requests=rows.requests.sum().cast("float64"),
        input=rows.input_tokens.sum().cast("float64"),
        cached=rows.cached_input_tokens.sum().cast("float64"),
        cache_write=rows.cache_write_tokens.sum().cast("float64"),
        output=rows.output_tokens.sum().cast("float64"),
        cost=rows.cost.sum(),
    )


def unpooled_usage(
    source: Table,
    pooled: tuple[Requests, ...],
    self_hosted: tuple[str, ...],
    months: MonthFilter = None,
) -> Table:
    """LLM requests no pool takes and not self-hosted, per month, provider, model id,
    feature, currency and load: cost, requests, tokens and the requests without a cost."""
    taken = _taken(source, pooled[0]) if pooled else ibis.literal(False)
    for requests in pooled[1:]:
        taken = taken | _taken(source, requests)
    own = source.provider.coalesce("").isin(self_hosted) if self_hosted else None
    rows = _chosen(source, months, ~taken, *([~own] if own is not None else []))
    return rows.aggregate(
        by=[
            rows.ts.truncate("M").cast("date").name("month"),
            rows.provider,
            rows.model_id,
            rows.feature,
            rows.currency,
            rows._load_id,
        ],
        amount=rows.cost.sum(),
        requests=rows.requests.sum().cast("int64"),
        input_tokens=rows.input_tokens.sum().cast("int64"),
        output_tokens=rows.output_tokens.sum().cast("int64"),
        unpriced_requests=rows.count(where=rows.cost.isnull()).cast("int64"),
    )
