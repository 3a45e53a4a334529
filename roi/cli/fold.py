"""`roi fold`: fold the billing lines into line groups on the project's engine (DuckDB or
Spark) and reconcile them with the source, or print the fold's SQL for a warehouse."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import click

from roi.cli.group import cli
from roi.cli.support import Options, emit, month_option, roi_command
from roi.config import ProjectConfig
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
    "--usage",
    is_flag=True,
    help="With --print-sql: print the LLM requests folds instead (--table: the requests' "
    "table, default inference_usage).",
)
@click.option(
    "--gpu",
    is_flag=True,
    help="With --print-sql: print the GPU samples folds instead (--table: the samples' "
    "table, default gpu_usage).",
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
    usage: bool,
    gpu: bool,
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
      roi fold --engine trino --print-sql --usage --table hive.llm.inference_usage
      roi fold --engine bigquery --print-sql --gpu --table my-project.k8s.gpu_usage
    """
    if usage and gpu:
        raise click.UsageError("--usage and --gpu print different folds: choose one")
    config = opts.config()
    if print_sql:
        from roi.fold.run import print_sql as fold_sql

        chosen = engine or config.engine.kind
        if usage:
            click.echo(_usage_sql(config, chosen, month, table), nl=False)
            return
        if gpu:
            click.echo(_gpu_sql(config, chosen, month, table), nl=False)
            return
        click.echo(fold_sql(chosen, config.attribution.month_basis, month, table), nl=False)
        return
    import polars as pl

    from roi.attribution.reconcile import fold_summary
    from roi.fold.run import RUNS_HERE
    from roi.progress import reporting

    settings = config.engine
    if engine is not None:
        settings = replace(settings, kind=engine)  # type: ignore[arg-type]
    if settings.kind not in RUNS_HERE:
        raise RoiError(
            f"roi cannot run the fold on {settings.kind}; print its SQL with "
            f"`roi fold --engine {settings.kind} --print-sql` and run it there"
        )
    ctx = opts.context()
    with ctx.reader() as con, reporting(ctx.progress):
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


def _usage_sql(config: ProjectConfig, engine: str, month: date | None, table: str) -> str:
    """The project's LLM requests folds (its pools split by requests) as SQL for `engine`."""
    from roi.attribution.pool_bases.tokens import pool_requests
    from roi.fold.requests import Requests
    from roi.fold.run import print_usage_sql
    from roi.vocabulary import SELF_HOSTED_PROVIDERS, TOKEN_BASES

    pools = {p.pool_id: pool_requests(p) for p in config.pools if p.basis in TOKEN_BASES}
    pooled = tuple(r for r in map(pool_requests, config.pools) if r != Requests())
    source = "inference_usage" if table == "cost_lines" else table
    return print_usage_sql(engine, month, source, pools, pooled, SELF_HOSTED_PROVIDERS)


def _gpu_sql(config: ProjectConfig, engine: str, month: date | None, table: str) -> str:
    """The project's GPU samples folds (its pools split by GPU-hours) as SQL for `engine`."""
    from roi.fold.run import print_gpu_sql
    from roi.vocabulary import GPU_BASES

    pools = {p.pool_id: tuple(p.usage.clusters) for p in config.pools if p.basis in GPU_BASES}
    source = "gpu_usage" if table == "cost_lines" else table
    return print_gpu_sql(engine, month, source, pools)
