"""`roi init` and `roi sample`: a project folder and its sample data."""

from __future__ import annotations

from pathlib import Path

import click

from roi.cli.group import cli
from roi.cli.support import (
    Options,
    emit,
    in_range,
    roi_command,
)
from roi.errors import RoiError


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--sample", is_flag=True, help="The sample portfolio (definitions and data).")
@click.option(
    "--seed", type=int, default=None, help="Seed of the sample data (with --sample; 0 or more)."
)
@click.option("--force", is_flag=True, help="Overwrite existing definition files.")
@roi_command
def init(opts: Options, directory: Path, sample: bool, seed: int | None, force: bool) -> None:
    """Start a project: roi.toml, connectors/, models/, pools/ and reports/.

    Blank by default (a neutral name, no connectors or models, reports with no budgets);
    --sample writes the sample portfolio (twelve models, two clouds) with its data.

    \b
    Examples:
      roi init my-portfolio && cd my-portfolio && roi connect ~/exports/focus
      roi init demo --sample && cd demo && roi run
    """
    if not sample:
        from roi.start.blank import write_blank

        written = write_blank(directory, force)
        opts.progress.info(
            f"wrote a blank project to {directory} ({len(written)} file(s)); next: cd "
            f"{directory} && roi connect PATH (a billing export, LLM logs, KPIs), then "
            "roi models suggest --write and roi run"
        )
        return
    from roi.sample import DEFAULT_SEED, write_definitions, write_sample
    from roi.start.blank import GITIGNORE

    chosen = DEFAULT_SEED if seed is None else in_range("--seed", seed, 0, 2**32 - 1)
    if (directory / "roi.toml").exists() and not force:
        raise RoiError(
            f"{directory / 'roi.toml'} exists already; use --force to overwrite the definitions"
        )
    written = write_definitions(directory, overwrite=force)
    gitignore = directory / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text(GITIGNORE, encoding="utf-8")
    write_sample(directory / "sample_data", chosen, opts.progress)
    opts.progress.info(
        f"wrote {len(written)} definition file(s) to {directory}; next: cd {directory} && roi run"
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
    type=int,
    default=None,
    help="Write a large benchmark set of N FOCUS billing lines instead (1 to 1,000,000,000).",
)
@click.option(
    "--seed", type=int, default=None, help="Random seed, 0 or more (same seed, same bytes)."
)
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
    import polars as pl

    from roi.sample import DEFAULT_SEED, write_sample
    from roi.sample.bench import write_benchmark_set

    if seed is not None:
        in_range("--seed", seed, 0, 2**32 - 1)
    if rows is None:
        write_sample(
            out or opts.project / "sample_data",
            DEFAULT_SEED if seed is None else seed,
            opts.progress,
        )
        return
    in_range("--rows", rows, 1, 1_000_000_000)
    target = out or opts.project / "bench" / "out" / f"focus-{rows}"
    summary = write_benchmark_set(
        target, rows, DEFAULT_SEED if seed is None else seed, file_format, opts.progress
    )
    emit(opts, pl.DataFrame([summary.as_row()]))
