"""Which months need attributing again: the inputs and the rules each month was attributed from.

A month's attribution depends only on that month's billing lines and usage rows, and on the
project's rules (models, pools, attribution settings, roi's version). Each attributed month
records two fingerprints in `_attributed_months`: its inputs (the billing files it reads, and
every usage load whose rows span it, with its row count) and the rules. A run over
all months recomputes a month only when either changed, so a re-issued billing period costs
one month's work, and drops months whose lines are gone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from roi import __version__, warehouse
from roi.attribution.ledger import month_column
from roi.config import AttributionSettings, ModelConfig, PoolConfig, QualityConfig
from roi.warehouse import Connection


@dataclass(frozen=True)
class MonthsToAttribute:
    """The months an attribution run recomputes (None: all, from scratch) and why."""

    months: tuple[date, ...] | None
    unchanged: int
    inputs: dict[date, str]
    rules: str


def attributed_part(model: ModelConfig) -> ModelConfig:
    """What attribution reads of a model: its id, stage, dates, selectors, training and
    serving; not its names, value, quality or risks (a changed failure mode attributes no month
    again), and its definition file by name only (a moved project attributes the same)."""
    return replace(
        model,
        file=Path(model.file.name),
        name="",
        owner="",
        business_unit="",
        domain=None,
        value=None,
        quality=QualityConfig(),
        risks=(),
    )


def rules_fingerprint(
    models: tuple[ModelConfig, ...], pools: tuple[PoolConfig, ...], settings: AttributionSettings
) -> str:
    """A digest of everything besides the data that attribution's result depends on."""
    # Frozen dataclasses of tuples, strings, numbers and read-only mappings: repr is stable.
    # Definition files by name only: a project moved to another folder attributes the same.
    text = repr(
        (
            __version__,
            tuple(attributed_part(m) for m in models),
            tuple(replace(p, file=Path(p.file.name)) for p in pools),
            settings,
        )
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def input_fingerprints(con: Connection, settings: AttributionSettings) -> dict[date, str]:
    """Per month of billing lines or LLM usage: a digest of the loads attribution reads."""
    if settings.month_basis == "billing_period":
        # Billing files are immutable and hold one billing period each: the manifest names them
        # without reading a line (a scan of 100M lines would cost seconds on every run).
        cost_parts = """SELECT date_trunc('month', billing_period_start)::DATE AS month,
                               'cost_lines:' || file || ':' || lines AS part
                        FROM _cost_files WHERE superseded_by IS NULL"""
    else:
        when = month_column(settings)
        cost_parts = f"""SELECT date_trunc('month', {when})::DATE AS month,
                                'cost_lines:' || _load_id || ':' || count(*) || ':'
                                || sum(effective_cost) || ':' || sum(billed_cost) AS part
                         FROM cost_lines GROUP BY 1, _load_id"""
    rows = warehouse.fetch_all(
        con,
        f"""WITH parts AS (
                {cost_parts}
                UNION ALL
                {_per_load_months("gpu_usage", "interval_start")}
                UNION ALL
                {_per_load_months("inference_usage", "ts")}
                UNION ALL
                {_per_load_months("provider_invoices", "period_start")})
            SELECT month, sha256(string_agg(part, '|' ORDER BY part))
            FROM parts GROUP BY month
            HAVING bool_or(NOT starts_with(part, 'gpu_usage:'))""",
    )
    return {r[0]: str(r[1]) for r in rows}


def _per_load_months(table: str, column: str) -> str:
    """Each load's row count, as a part of every month from its first row's to its last's.

    Per load rather than per row's month: truncating 10M timestamps to months costs a second,
    and a load that may hold rows of a month is enough to say the month depends on it. LLM
    usage adds its priced total and how many rows have a cost: `roi reprice` changes costs
    in place, and the months of the loads it touched are attributed again.
    """
    priced = (
        " || ':' || coalesce(sum(cost), 0) || ':' || count(cost)"
        if table == "inference_usage"
        else ""
    )
    return f"""SELECT unnest(generate_series(first, last, INTERVAL 1 MONTH))::DATE AS month,
                      '{table}:' || _load_id || ':' || n AS part
               FROM (SELECT _load_id, count(*){priced} AS n,
                            date_trunc('month', min({column}))::DATE AS first,
                            date_trunc('month', max({column}))::DATE AS last
                     FROM {table} GROUP BY _load_id)"""


def stored_fingerprints(con: Connection) -> dict[date, tuple[str, str]]:
    """Per attributed month: (inputs, rules) fingerprints of its last attribution."""
    rows = warehouse.fetch_all(con, "SELECT month, inputs, rules FROM _attributed_months")
    return {r[0]: (str(r[1]), str(r[2])) for r in rows}


def months_to_attribute(
    con: Connection,
    models: tuple[ModelConfig, ...],
    pools: tuple[PoolConfig, ...],
    settings: AttributionSettings,
    month: date | None = None,
    full: bool = False,
) -> MonthsToAttribute:
    """The months whose inputs or rules changed since they were last attributed.

    One `month` is always recomputed; `full` recomputes everything (as does a warehouse that
    has never been attributed).
    """
    inputs = input_fingerprints(con, settings)
    rules = rules_fingerprint(models, pools, settings)
    if month is not None:
        return MonthsToAttribute((month,), 0, inputs, rules)
    stored = stored_fingerprints(con)
    if full or not stored:
        return MonthsToAttribute(None, 0, inputs, rules)
    changed = {m for m, digest in inputs.items() if stored.get(m) != (digest, rules)}
    gone = set(stored) - set(inputs)
    return MonthsToAttribute(
        tuple(sorted(changed | gone)), len(inputs) - len(changed), inputs, rules
    )
