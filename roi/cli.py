"""The `roi` command line: parse, call the library (roi.pipeline and friends), format.

Common options (--project, --warehouse, --format, --quiet, --debug) work before or after the
command name. Data goes to stdout, progress to stderr. Exit 0 on success, 1 on a user or data
error (one `Error: ...` line), 2 on a usage error.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any

import click
import polars as pl

from roi import __version__, pipeline
from roi.cli_support import (
    MONTH,
    Options,
    command_group,
    common_options,
    emit,
    merge_options,
    parse_month,
    roi_command,
)
from roi.errors import RoiError


@click.group(no_args_is_help=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="roi")
@common_options
@click.pass_context
def cli(
    ctx: click.Context,
    project: Path | None,
    warehouse: Path | None,
    fmt: str | None,
    quiet: bool,
    debug: bool,
    wait: float | None,
) -> None:
    """roi: what each ML model costs, what it earns, and what is at risk.

    Loads billing exports, LLM usage, GPU telemetry and business KPIs into a DuckDB warehouse,
    attributes cost to each model every month and writes finance reports.

    \b
    Quick start (in a project folder, e.g. this repository):
      roi run                      load, attribute, write reports/out/
      roi status                   what is loaded
      roi query "SELECT * FROM allocated_costs LIMIT 5"
    """
    ctx.obj = merge_options(ctx, project, warehouse, fmt, quiet, debug, wait)


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--no-sample", is_flag=True, help="Write only the definitions, no sample data.")
@click.option("--seed", type=int, default=None, help="Seed of the sample data.")
@click.option("--force", is_flag=True, help="Overwrite existing definition files.")
@roi_command
def init(opts: Options, directory: Path, no_sample: bool, seed: int | None, force: bool) -> None:
    """Scaffold a project: roi.toml, connectors/, models/, reports/ and sample data.

    The scaffold is the sample portfolio (twelve models, two clouds): run it, then replace the
    connector paths and model definitions with your own.

    \b
    Example:
      roi init my-portfolio && cd my-portfolio && roi run
    """
    from roi.sample import DEFAULT_SEED, write_definitions, write_sample

    if (directory / "roi.toml").exists() and not force:
        raise RoiError(
            f"{directory / 'roi.toml'} exists already; use --force to overwrite the definitions"
        )
    written = write_definitions(directory, overwrite=force)
    gitignore = directory / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text(
            "roi.duckdb\nroi.duckdb.wal\nroi.duckdb.lock\nroi.duckdb.data/\n"
            "roi.duckdb.staging/\nreports/out/\n",
            encoding="utf-8",
        )
    if not no_sample:
        write_sample(
            directory / "sample_data", DEFAULT_SEED if seed is None else seed, opts.progress
        )
    if no_sample:
        opts.progress.info(
            f"wrote {len(written)} definition file(s) to {directory}, without sample data; "
            "next: point the connectors in connectors/*.toml at your exports (or put them where "
            "those paths say), describe your models in models/*.toml, then run `roi run`"
        )
    else:
        opts.progress.info(
            f"wrote {len(written)} definition file(s) to {directory}; next: cd {directory} && "
            "roi run"
        )


@cli.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder (default: <project>/sample_data, or bench/out/focus-<N> with --rows).",
)
@click.option(
    "--rows",
    type=click.IntRange(min=1),
    default=None,
    help="Write a large benchmark set of N FOCUS billing lines instead.",
)
@click.option("--seed", type=int, default=None, help="Random seed (same seed, same bytes).")
@click.option(
    "--file-format",
    type=click.Choice(["parquet", "csv.gz"]),
    default="parquet",
    show_default=True,
    help="File format of a benchmark set.",
)
@roi_command
def sample(
    opts: Options, out: Path | None, rows: int | None, seed: int | None, file_format: str
) -> None:
    """Write the sample portfolio's input files (or a large benchmark set).

    \b
    Examples:
      roi sample                          rewrite ./sample_data
      roi sample --rows 10000000 --out /tmp/focus-10m
    """
    from roi.sample import DEFAULT_SEED, write_sample
    from roi.sample.bench import write_benchmark_set

    if rows is None:
        write_sample(
            out or opts.project / "sample_data",
            DEFAULT_SEED if seed is None else seed,
            opts.progress,
        )
        return
    target = out or opts.project / "bench" / "out" / f"focus-{rows}"
    summary = write_benchmark_set(
        target, rows, DEFAULT_SEED if seed is None else seed, file_format, opts.progress
    )
    emit(opts, pl.DataFrame([summary.as_row()]))


def _loads_frame(results: list[Any]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "connector": r.connector,
                "table": r.table,
                "files": r.files,
                "unchanged_files": r.skipped_files,
                "rows_loaded": r.rows_loaded,
                "rows_rejected": r.rows_rejected,
                "rows_replaced": r.rows_replaced,
                "load_id": r.load_id,
            }
            for r in results
        ],
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
    on_reject: str,
    options: tuple[str, ...],
) -> None:
    """Load one file, folder or glob with a connector TYPE, without a TOML definition.

    \b
    Examples:
      roi ingest focus exports/focus-2026-10.csv.gz
      roi ingest kpi_csv kpis.csv --name monthly_kpis
    """
    parsed: dict[str, Any] = {}
    for item in options:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r}; use KEY=VALUE", param_hint="--option")
        parsed[key.strip()] = value
    if not path.startswith(("http://", "https://")):
        path = os.path.abspath(Path(path).expanduser())  # relative to where the command runs
    result = pipeline.ingest(
        opts.project_or_warehouse(),
        connector_type,
        path,
        name=name,
        options=parsed,
        on_reject=on_reject,
    )
    emit(opts, _loads_frame([result]))


@cli.command()
@MONTH
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
    result = pipeline.forget(opts.context(), name)
    rows = {"billing_lines": result.billing_lines, **result.rows}
    emit(
        opts,
        pl.DataFrame(
            {"connector": [name], "loads": [result.loads], **{k: [v] for k, v in rows.items()}}
        ),
    )


@cli.command()
@MONTH
@roi_command
def reconcile(opts: Options, month: date | None) -> None:
    """Check attribution against the source, per month and currency (difference must be 0.00).

    Shows the billed and effective totals of the billing lines, the effective cost allocated
    directly, shared by pools, amortized, idle and unallocated, and the difference; under it,
    for LLM pools, the gateway's reported cost against the bill. Exits 1 if any month does
    not reconcile.

    \b
    Examples:
      roi reconcile --month 2026-10
      roi reconcile --format csv > reconciliation.csv
    """
    result = pipeline.reconcile(opts.context(), month)
    if opts.fmt == "json":
        import json

        from roi.reporting.output import records

        click.echo(
            json.dumps(
                {
                    "months": records(result.months),
                    "gateway_vs_bill": records(result.gateway),
                    "usage_without_bill": records(result.unbilled),
                },
                indent=2,
            )
        )
    else:
        emit(opts, result.months)
        if opts.fmt == "table" and result.gateway.height:
            click.echo("\nLLM gateway against the bill (the bill wins):")
            emit(opts, result.gateway)
        if opts.fmt == "table" and result.unbilled.height:
            click.echo(
                "\nLLM usage with no bill in the warehouse, priced as the gateway reported "
                "(a cost of the models, outside the bills above):"
            )
            emit(opts, result.unbilled)
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
    help="The month to explain (against the month before).",
)
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="How many of the lines that moved most to list.",
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
    result = pipeline.explain(opts.context(), model_id, month, top)
    if opts.fmt == "json":
        import json

        from roi.reporting.output import _plain, records

        click.echo(
            json.dumps(
                {
                    "model_id": result.model_id,
                    "month": result.month.isoformat(),
                    "previous": result.previous.isoformat(),
                    "before": _plain(result.before),
                    "after": _plain(result.after),
                    "change": _plain(result.change),
                    "effects": records(result.effects),
                    "movers": records(result.movers),
                },
                indent=2,
            )
        )
        return
    if opts.fmt == "table":
        click.echo(
            f"{result.model_id}: {result.before:,.2f} in {result.previous:%B %Y} → "
            f"{result.after:,.2f} in {result.month:%B %Y} ({result.change:+,.2f})\n"
        )
    emit(opts, result.effects)
    if opts.fmt == "table" and result.movers.height:
        click.echo("\nLines that moved most:")
        emit(opts, result.movers)


def _emit_outputs(opts: Options, paths: list[Path]) -> None:
    """List the files a command wrote, one row each."""
    emit(opts, pl.DataFrame({"output": [str(p) for p in paths]}, schema={"output": pl.String}))


@cli.command()
@MONTH
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the reports (default: reports/out).",
)
@roi_command
def run(opts: Options, month: date | None, out: Path | None) -> None:
    """The main job: load every connector, attribute cost, write the month's reports.

    \b
    Examples:
      roi run
      roi run --month 2026-09 --out /tmp/reports
    """
    result = pipeline.run(opts.context(), month, out)
    _emit_outputs(opts, result.outputs)


@cli.command()
@MONTH
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the report (default: reports/out).",
)
@roi_command
def report(opts: Options, month: date | None, out: Path | None) -> None:
    """Write the monthly finance report (HTML with charts) from the warehouse.

    \b
    Example:
      roi report --month 2026-10
    """
    paths = pipeline.report(opts.context(), month, out, ("monthly_finance",))
    _emit_outputs(opts, paths)


export = command_group("export", "Export the warehouse's figures to other tools (Excel).")
cli.add_command(export)


@export.command("excel")
@MONTH
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Workbook to write, or a folder to write it in (default: "
    "reports/out/executive_pack_<month>.xlsx).",
)
@roi_command
def export_excel(opts: Options, month: date | None, out: Path | None) -> None:
    """Write the Excel executive pack for a month.

    \b
    Example:
      roi export excel --month 2026-10 --out pack.xlsx
    """
    paths = pipeline.report(opts.context(), month, None, ("excel_pack",), out_file=out)
    _emit_outputs(opts, paths)


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
    emit(opts, pipeline.portfolio(opts.context(), month))


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
    emit(opts, pipeline.query(opts.warehouse_path(), sql, opts.read_wait()))


@cli.command()
@roi_command
def status(opts: Options) -> None:
    """Show loads, row counts, freshness per source and the last attribution.

    \b
    Examples:
      roi status
      roi status --format json
    """
    has_project = opts.warehouse is None and (opts.project / "roi.toml").exists()
    project = opts.config() if has_project else None
    result = pipeline.status(opts.warehouse_path(project), opts.read_wait(), project)
    if opts.fmt == "json":
        import json

        from roi.reporting.output import records

        click.echo(
            json.dumps(
                {
                    "warehouse": str(result.warehouse),
                    "schema_version": result.schema_version,
                    "sources": records(result.sources),
                    "tables": dict(zip(result.tables["table"], result.tables["rows"], strict=True)),
                    "last_attribution": result.last_attribution,
                    "warnings": result.warnings,
                },
                indent=2,
            )
        )
        return
    emit(opts, result.sources)
    for warning in result.warnings:
        click.echo(f"Warning: {warning}", err=True)
    if opts.fmt == "table":
        click.echo("")
        emit(opts, result.tables)
        if result.last_attribution:
            a = result.last_attribution
            click.echo(
                f"\nlast attribution {a['attribution_id']} at {a['finished_at']}: "
                f"{a['cost_lines']:,} cost lines, {a['conflicts']} conflict(s)"
            )


from roi.cli_scenario import scenario  # noqa: E402  (the group lives in its own module)

cli.add_command(scenario)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="roi")
