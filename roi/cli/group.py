"""The `roi` command group: the common options, before or after the command name."""

from __future__ import annotations

from typing import Any

import click

from roi import __version__
from roi.cli.support import (
    common_options,
    merge_options,
)


@click.group(no_args_is_help=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="roi")
@common_options
@click.pass_context
def cli(ctx: click.Context, /, **common: Any) -> None:
    """roi: what each ML model costs, what it earns, and what is at risk.

    Loads billing exports, LLM usage, GPU telemetry and business KPIs into a DuckDB warehouse,
    attributes cost to each model every month and writes finance reports.

    \b
    Quick start (in a project folder, e.g. this repository):
      roi run                      load, attribute, write reports/out/
      roi status                   what is loaded
      roi query "SELECT * FROM allocated_costs LIMIT 5"
    """
    ctx.obj = merge_options(ctx, common)
