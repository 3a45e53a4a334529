"""The `roi` command line: parse, call the library (roi.pipeline and friends), format.

Common options (--project, --warehouse, --format, --quiet, --debug) work before or after the
command name. Data goes to stdout, progress to stderr. Exit 0 on success, 1 on a user or data
error (one `Error: ...` line), 2 on a usage error.

Each module adds its commands to the group (`roi.cli.group.cli`): `project` (init, sample),
`data` (load, ingest, forget, query, status), `attribution` (attribute, reconcile, explain,
portfolio), `fold` (the fold on the project's engine, or its SQL), `reports` (run, report,
export), `scenario` (the scenario group).
"""

from __future__ import annotations

# `allocator` first (it sorts first too): Polars' allocator is tuned before anything loads Polars.
from roi.cli import allocator, attribution, data, fold, project, reports, start  # noqa: F401
from roi.cli.group import cli
from roi.cli.scenario import scenario

cli.add_command(scenario)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="roi")


__all__ = ["cli", "main"]
