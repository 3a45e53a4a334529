"""Cost to models: `roi attribute`, `reconcile`, `explain`, `portfolio`."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    pass

from roi.cli.group import cli
from roi.cli.support import (
    MONTH,
    Options,
    emit,
    emit_document,
    in_range,
    month_option,
    parse_month,
    roi_command,
    say,
)
from roi.errors import RoiError


@cli.command()
@month_option("the months whose inputs changed")
@click.option(
    "--full", is_flag=True, help="Recompute every month, not only those whose inputs changed."
)
@roi_command
def attribute(opts: Options, month: date | None, full: bool) -> None:
    """Attribute cost to models (allocated_costs, conflicts, unallocated detail, bases).

    Only months whose billing lines, usage or rules changed since they were last attributed
    are recomputed (a re-issued month recomputes only itself); --month recomputes one month,
    --full all of them.

    \b
    Examples:
      roi attribute
      roi attribute --month 2026-10
      roi attribute --full
    """
    import polars as pl

    from roi import pipeline

    result = pipeline.attribute(opts.context(), month, full)
    emit(
        opts,
        pl.DataFrame(
            [
                {
                    "attribution_id": result.attribution_id,
                    "months": len(result.months),
                    "unchanged_months": result.unchanged_months,
                    "cost_lines": result.lines,
                    "allocated_rows": result.allocated_rows,
                    "conflicts": result.conflicts,
                    "unallocated_amount": round(result.unallocated_amount, 2),
                }
            ]
        ),
    )
    for warning in result.warnings:
        click.echo(f"Warning: {warning}", err=True)


@cli.command()
@month_option("every month")
@roi_command
def reconcile(opts: Options, month: date | None) -> None:
    """Check attribution against the source, per month and currency (difference must be 0.00).

    Shows the billed and effective totals of the billing lines, the effective cost allocated
    directly, shared by pools, amortized, idle and unallocated, and the difference; under it,
    for LLM pools, the gateway's reported cost against the bill, LLM usage with no bill, per
    month and LLM provider with an invoice loaded (openai_costs, anthropic_cost) or billed by a
    loaded cloud bill (Bedrock, Azure OpenAI, Vertex AI) the gateway's estimate, the invoice or
    the bill's LLM lines, and the gap, and LLM requests no price covers (per provider, model,
    tier and month, with the fix: a contracted price, then `roi reprice`). Exits 1 if any month
    does not reconcile.

    \b
    Examples:
      roi reconcile --month 2026-10
      roi reconcile --format csv > reconciliation.csv
    """
    import polars as pl

    from roi import pipeline

    result = pipeline.reconcile(opts.context(), month)
    if opts.fmt == "json":
        emit_document(
            {
                "months": result.months.to_dicts(),
                "gateway_vs_bill": result.gateway.to_dicts(),
                "usage_without_bill": result.unbilled.to_dicts(),
                "gateway_vs_invoice": result.invoices.to_dicts(),
                "unpriced_usage": result.unpriced.to_dicts(),
            }
        )
    else:
        emit(opts, result.months)
        if opts.fmt == "table" and result.gateway.height:
            say("\nLLM gateway against the bill (the bill wins):")
            emit(opts, result.gateway)
        if opts.fmt == "table" and result.unbilled.height:
            say(
                "\nLLM usage with no bill in the warehouse, priced as the gateway reported "
                "(a cost of the models, outside the bills above):"
            )
            emit(opts, result.unbilled)
        if opts.fmt == "table" and result.invoices.height:
            say(
                "\nLLM gateway against the provider's invoice or the cloud bill's LLM lines "
                "(gap = invoice - gateway; a provider's invoice is the cost, spread over models "
                "by usage; a cloud bill's lines are attributed like every billing line):"
            )
            emit(opts, result.invoices)
        if opts.fmt == "table" and result.unpriced.height:
            say(
                "\nLLM requests no price covers (their cost is unknown, not zero; it is in "
                "none of the figures above):"
            )
            emit(opts, result.unpriced)
    if not result.reconciled:
        off = result.months.filter(pl.col("difference") != 0).row(0, named=True)
        raise RoiError(
            f"{off['month']:%Y-%m} {off['currency']} does not reconcile: attributed minus "
            f"source is {off['difference']}; run `roi attribute` (the lines changed since)"
        )


@cli.command()
@click.argument("model_id", metavar="MODEL")
@click.option(
    "--month",
    callback=parse_month,
    required=True,
    metavar="YYYY-MM",
    help="The month to explain (against the month before); it must lie within the data.",
)
@click.option(
    "--top",
    type=int,
    default=10,
    show_default=True,
    help="How many of the lines that moved most to list (1 to 1,000).",
)
@roi_command
def explain(opts: Options, model_id: str, month: date, top: int) -> None:
    """Explain a model's change in cost against the month before: volume, price, mix, pools.

    MODEL is a model id, or __unallocated__, __idle__ or __idle_held__. The effects add up to
    the change; the lines (service, resource) that moved most follow.

    \b
    Examples:
      roi explain fraud-detection --month 2026-10
      roi explain __idle__ --month 2026-10 --format json
    """
    from roi import pipeline

    result = pipeline.explain(opts.context(), model_id, month, in_range("--top", top, 1, 1000))
    if opts.fmt == "json":
        emit_document(
            {
                "model_id": result.model_id,
                "month": result.month,
                "previous": result.previous,
                "before": result.before,
                "after": result.after,
                "change": result.change,
                "effects": result.effects.to_dicts(),
                "movers": result.movers.to_dicts(),
            }
        )
        return
    if opts.fmt == "table":
        say(
            f"{result.model_id}: {result.before:,.2f} in {result.previous:%B %Y} → "
            f"{result.after:,.2f} in {result.month:%B %Y} ({result.change:+,.2f})\n"
        )
    emit(opts, result.effects)
    if opts.fmt == "table" and result.movers.height:
        say("\nLines that moved most:")
        emit(opts, result.movers)


@cli.command()
@MONTH
@roi_command
def portfolio(opts: Options, month: date | None) -> None:
    """The per-model P&L for a month: cost, value (interval), net, ROI, payback, flags.

    Value comes from each model's [value] method (recomputed by `roi attribute`); the last row
    totals the portfolio. Flags: negative ROI, ROI interval straddles zero, retired but still
    costing, value method missing, cost rising faster than value.

    \b
    Examples:
      roi portfolio
      roi portfolio --month 2026-10 --format csv
    """
    from roi import pipeline

    frame = pipeline.portfolio(opts.context(), month)
    if month is None and frame.height:
        opts.progress.info(f"{frame['month'][0]:%Y-%m}: the latest month with billing data")
    emit(opts, frame)
