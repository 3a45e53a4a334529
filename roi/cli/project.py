"""`roi init` and `roi sample`: a project folder and its sample data."""

from __future__ import annotations

from pathlib import Path

import click
import polars as pl

from roi.cli.group import cli
from roi.cli.support import (
    Options,
    emit,
    roi_command,
)
from roi.errors import RoiError


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
