"""Loading and looking at the warehouse: `roi load`, `ingest`, `forget`, `query`, `status`."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    import polars as pl

    from roi.config.project import OnReject
    from roi.loading.loader import LoadResult

from roi.cli.group import cli
from roi.cli.support import (
    Options,
    emit,
    emit_document,
    month_option,
    roi_command,
    say,
)


def _loads_frame(results: list[LoadResult]) -> pl.DataFrame:
    import polars as pl

    return pl.DataFrame(
        [r.to_document() for r in results],
        schema={
            "connector": pl.String,
            "table": pl.String,
            "files": pl.Int64,
            "unchanged_files": pl.Int64,
            "rows_loaded": pl.Int64,
            "rows_rejected": pl.Int64,
            "rows_replaced": pl.Int64,
            "load_id": pl.String,
        },
    )


@cli.command()
@click.argument("names", nargs=-1)
@roi_command
def load(opts: Options, names: tuple[str, ...]) -> None:
    """Run the connectors defined in connectors/*.toml (all enabled ones, or NAMES).

    Each connector loads in one transaction: validated, deduplicated, merged, recorded in
    _loads with its cursor in _state. Unchanged files are skipped.

    \b
    Examples:
      roi load
      roi load aws_focus litellm --format json
    """
    from roi import pipeline

    results = pipeline.load(opts.context(), list(names) or None)
    emit(opts, _loads_frame(results))


@cli.command()
@click.argument("connector_type", metavar="TYPE")
@click.argument("path")
@click.option("--name", default=None, help="Connector name for its cursor (default: TYPE:PATH).")
@click.option(
    "--on-reject",
    type=click.Choice(["fail", "skip"]),
    default="fail",
    show_default=True,
    help="skip: load the valid rows and keep the rejected ones in _rejects.",
)
@click.option(
    "--option",
    "options",
    multiple=True,
    metavar="KEY=VALUE",
    help="Connector option, e.g. --option provider=AWS (repeatable).",
)
@roi_command
def ingest(
    opts: Options,
    connector_type: str,
    path: str,
    name: str | None,
    on_reject: OnReject,
    options: tuple[str, ...],
) -> None:
    """Load one file, folder, glob or URL with a connector TYPE, without a TOML definition.

    \b
    Examples:
      roi ingest focus exports/focus-2026-10.csv.gz
      roi ingest kpi_csv kpis.csv --name monthly_kpis
      roi ingest litellm_postgres postgresql://reader@127.0.0.1:5432/litellm
    """
    from roi import pipeline

    parsed: dict[str, Any] = {}
    for item in options:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r}; use KEY=VALUE", param_hint="--option")
        parsed[key.strip()] = value
    if "://" not in path:  # a URL (a service or a database) is no path
        path = os.path.abspath(Path(path).expanduser())  # relative to where the command runs
    result = pipeline.ingest(
        opts.project_or_warehouse(writing=True),
        connector_type,
        path,
        name=name,
        options=parsed,
        on_reject=on_reject,
    )
    emit(opts, _loads_frame([result]))


@cli.command()
@click.argument("name")
@roi_command
def forget(opts: Options, name: str) -> None:
    """Remove everything connector NAME loaded (after deleting its TOML, say).

    Its rows, billing files, rejects and cursor go in one transaction; its loads stay in
    _loads, marked forgotten. The next `roi attribute` recomputes the months it touched.

    \b
    Examples:
      roi forget azure_focus
    """
    import polars as pl

    from roi import pipeline

    result = pipeline.forget(opts.context(), name)
    rows = {"billing_lines": result.billing_lines, **result.rows}
    emit(
        opts,
        pl.DataFrame(
            {"connector": [name], "loads": [result.loads], **{k: [v] for k, v in rows.items()}}
        ),
    )


@cli.command()
@month_option("every month")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@roi_command
def reprice(opts: Options, month: date | None, dry_run: bool) -> None:
    """Price LLM usage again with the current price book ([pricing] in roi.toml).

    Only requests roi priced, or could not price, are priced again: costs a gateway or
    provider reported, and costs trued up to an invoice, are never touched. Loads price new
    requests; history changes only through this command. Shows per month the rows, how many
    change, the cost before and after, and the requests still without a price. Run
    `roi attribute` afterwards to carry the change into the models' costs.

    \b
    Examples:
      roi reprice --dry-run
      roi reprice --month 2026-10
    """
    from roi import pipeline

    result = pipeline.reprice(opts.context(), month, dry_run)
    if opts.fmt == "json":
        emit_document(
            {
                "price_version": result.version,
                "changed": result.changed,
                "written": result.written,
                "months": result.months.to_dicts(),
            }
        )
        return
    emit(opts, result.months)
    if opts.fmt == "table":
        did = "would change" if dry_run else "changed"
        say(
            f"\n{result.changed:,} request(s) {did}; price book {result.version}"
            + ("; run `roi attribute` next" if result.written else "")
        )


@cli.command()
@click.argument("sql")
@roi_command
def query(opts: Options, sql: str) -> None:
    """Run read-only SQL on the warehouse.

    \b
    Examples:
      roi query "SELECT month, model_id, sum(amount) FROM allocated_costs GROUP BY ALL"
      roi query "SHOW TABLES" --format csv
    """
    from roi import pipeline

    emit(opts, pipeline.query(opts.project_or_warehouse(), sql))


@cli.command()
@roi_command
def status(opts: Options) -> None:
    """Show loads, row counts, freshness per source and the last attribution.

    \b
    Examples:
      roi status
      roi status --format json
    """
    from roi import pipeline

    result = pipeline.status(opts.project_or_warehouse())
    if opts.fmt == "json":
        emit_document(result.to_document())
        return
    emit(opts, result.sources)
    for warning in result.warnings:
        click.echo(f"Warning: {warning}", err=True)
    if opts.fmt == "table":
        click.echo("")
        emit(opts, result.tables)
        if result.restatements.height:
            say("\nrestated values (a later load changed what an earlier one loaded):")
            emit(opts, result.restatements)
        if result.last_attribution:
            a = result.last_attribution
            say(
                f"\nlast attribution {a['attribution_id']} at {a['finished_at']}: "
                f"{a['cost_lines']:,} cost lines, {a['conflicts']} conflict(s)"
            )
