"""`roi fold`: fold the billing lines into line groups on the project's engine (DuckDB or
Spark) and reconcile them with the source, or print the fold's SQL for a warehouse."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import click

from roi.cli.group import cli
from roi.cli.support import Options, emit, month_option, roi_command
from roi.errors import RoiError

ENGINES = ("duckdb", "spark", "databricks", "bigquery", "snowflake", "trino", "athena")


@cli.command()
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default=None,
    help="Where the fold runs (default: [engine] kind in roi.toml); a warehouse roi cannot "
    "reach (databricks, bigquery, snowflake, trino, athena) needs --print-sql.",
)
@click.option("--print-sql", is_flag=True, help="Print the fold's SQL for the engine; run nothing.")
@click.option(
    "--table",
    default="cost_lines",
    show_default=True,
    help="With --print-sql: the table or view holding the lines (e.g. billing.roi.cost_lines).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the line groups to this Parquet file.",
)
@month_option("every month")
@roi_command
def fold(
    opts: Options,
    engine: str | None,
    print_sql: bool,
    table: str,
    out: Path | None,
    month: date | None,
) -> None:
    """Fold the billing lines into line groups where they live, and reconcile them.

    Runs the fold attribution starts from on the project's engine ([engine] in roi.toml, or
    --engine duckdb|spark) and shows per month and currency the groups, lines and totals
    against the source's (difference 0.00). With --print-sql, prints the same fold as SQL for
    a warehouse (BigQuery, Snowflake, Trino/Athena, Databricks) to run there.

    \b
    Examples:
      roi fold
      roi fold --engine spark --month 2026-10 --out groups.parquet
      roi fold --engine bigquery --print-sql --table billing.roi.cost_lines
    """
    config = opts.config()
    if print_sql:
        from roi.fold.run import print_sql as fold_sql

        chosen = engine or config.engine.kind
        click.echo(fold_sql(chosen, config.attribution.month_basis, month, table), nl=False)
        return
    import polars as pl

    from roi.attribution.reconcile import fold_summary
    from roi.fold.run import RUNS_HERE

    settings = config.engine
    if engine is not None:
        settings = replace(settings, kind=engine)  # type: ignore[arg-type]
    if settings.kind not in RUNS_HERE:
        raise RoiError(
            f"roi cannot run the fold on {settings.kind}; print its SQL with "
            f"`roi fold --engine {settings.kind} --print-sql` and run it there"
        )
    ctx = opts.context()
    with ctx.reader() as con:
        groups, summary = fold_summary(con, config, settings, month)
    if out is not None:
        groups.write_parquet(out)
    emit(opts, summary)
    off = summary.filter((pl.col("difference") != 0) | (pl.col("billed_difference") != 0))
    if off.height:
        row = off.row(0, named=True)
        raise RoiError(
            f"the fold on {settings.kind} does not reconcile for {row['month']:%Y-%m} "
            f"{row['currency']}: {row['difference']} (effective), {row['billed_difference']} "
            "(billed)"
        )
