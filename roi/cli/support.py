"""Plumbing of the `roi` command line: the common options, error handling, month parsing and
output. The commands themselves are in `roi.cli`."""

from __future__ import annotations

import functools
import json
import os
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from roi.errors import ConfigError, RoiError
from roi.vocabulary import MONTH_RULE, READ_WAIT_SECONDS

if TYPE_CHECKING:  # the commands import what they run when they run: `roi --help` stays fast
    import polars as pl

    from roi.config import ProjectConfig
    from roi.context import Context
    from roi.progress import Progress

FORMATS = ("table", "json", "csv")  # of data on stdout

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Options:
    """The common options, merged from before and after the command name."""

    project: Path
    warehouse: Path | None
    fmt: str
    quiet: bool
    debug: bool
    wait: float | None = None

    def read_wait(self) -> float:
        """How long a reading command waits for a writer's final transaction."""
        return READ_WAIT_SECONDS if self.wait is None else self.wait

    def write_wait(self) -> float:
        """How long a writing command waits for another writing roi command (default: not)."""
        return 0.0 if self.wait is None else self.wait

    @property
    def progress(self) -> Progress:
        """Progress on stderr, or nothing with --quiet."""
        from roi.progress import SILENT, ConsoleProgress

        return SILENT if self.quiet else ConsoleProgress()

    def config(self) -> ProjectConfig:
        """The project's configuration."""
        from roi.config import load_project

        return load_project(self.project)

    def context(self) -> Context:
        """The project's context: its settings, the warehouse, progress and waits."""
        from roi.context import Context

        return Context(
            self.config(),
            self.warehouse,
            self.progress,
            read_wait=self.read_wait(),
            write_wait=self.write_wait(),
        )

    def project_or_warehouse(self, writing: bool = False) -> Context:
        """The project's context when the folder holds a roi.toml, else a context for the
        warehouse alone: --warehouse, or (reading only) an existing roi.duckdb in the folder.

        Raises:
            ConfigError: no project and no warehouse to use (or, `writing`, no --warehouse),
                saying how to proceed: `roi init`, --project DIR or --warehouse PATH.
        """
        from roi.context import Context

        root = self.project.resolve()
        if (root / "roi.toml").exists():
            return self.context()
        if self.warehouse is None and writing:
            raise ConfigError(
                f"no roi.toml in {root}, so there is no project warehouse to load into; start "
                f"a project here with `roi init {root}` (then `roi connect PATH`), point roi at "
                "one with --project DIR, or name a warehouse file with --warehouse PATH"
            )
        path = (self.warehouse or root / "roi.duckdb").resolve()
        if self.warehouse is None and not path.exists():
            raise ConfigError(
                f"no roi.toml in {root} (and no warehouse to use); start a project with "
                f"`roi init {root}`, point roi at one with --project DIR, or name a warehouse "
                "file with --warehouse PATH"
            )
        return Context.for_warehouse(
            path,
            root,
            self.progress,
            read_wait=self.read_wait(),
            write_wait=self.write_wait(),
        )

    def warehouse_path(self, config: ProjectConfig | None = None) -> Path:
        """--warehouse, else the project's warehouse."""
        if self.warehouse is not None:
            return self.warehouse.resolve()
        return (config or self.config()).warehouse_path


_COMMON = (
    click.option(
        "--project",
        "-p",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Project folder holding roi.toml (default: the current folder).",
    ),
    click.option(
        "--warehouse",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="DuckDB warehouse file (default: the project's, roi.duckdb; needed by "
        "`roi ingest` outside a project).",
    ),
    click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default=None,
        help="Output format for data on stdout (default: table).",
    ),
    click.option("--quiet", "-q", is_flag=True, default=False, help="No progress on stderr."),
    click.option("--debug", is_flag=True, default=False, help="Show tracebacks on errors."),
    click.option(
        "--wait",
        type=click.FloatRange(min=0),
        default=None,
        metavar="SECONDS",
        help="How long to wait while another roi command writes to the warehouse "
        f"(default: {READ_WAIT_SECONDS:g} s for reading commands, 0 for writing ones).",
    ),
)


def common_options(func: F) -> F:
    """Add the common options to a command (they are accepted after its name)."""
    for option in reversed(_COMMON):
        func = option(func)
    return func


# The names of the common options (`_COMMON`) as commands receive them.
COMMON = ("project", "warehouse", "fmt", "quiet", "debug", "wait")


def merge_options(ctx: click.Context, given: dict[str, Any]) -> Options:
    """The common options of this command (`given`, taken out of the command's keyword
    arguments) merged over those given before its name."""
    project, warehouse, fmt = given.pop("project"), given.pop("warehouse"), given.pop("fmt")
    quiet, debug, wait = given.pop("quiet"), given.pop("debug"), given.pop("wait")
    parent: Options | None = ctx.find_object(Options)
    merged = Options(
        project=(project or (parent.project if parent else Path("."))),
        warehouse=warehouse or (parent.warehouse if parent else None),
        fmt=fmt or (parent.fmt if parent else "table"),
        quiet=quiet or (parent.quiet if parent else False),
        debug=debug or (parent.debug if parent else False),
        wait=wait if wait is not None else (parent.wait if parent else None),
    )
    ctx.meta["roi.debug"] = merged.debug
    return merged


def command_group(name: str, doc: str) -> click.Group:
    """A group of subcommands (`roi export ...`, `roi scenario ...`) that takes the common
    options too and hands them on merged."""

    @click.group(name=name, help=doc)
    @common_options
    @click.pass_context
    def group(ctx: click.Context, /, **common: Any) -> None:
        ctx.obj = merge_options(ctx, common)

    assert isinstance(group, click.Group)
    return group


def roi_command(func: Callable[..., None]) -> Callable[..., None]:
    """Turn the common options into an `Options` object and errors into `Error:` lines."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        ctx = click.get_current_context()
        opts = merge_options(ctx, kwargs)
        try:
            func(opts, *args, **kwargs)
        except RoiError as exc:
            if opts.debug:
                raise
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)
        except BrokenPipeError:
            # stdout was closed early (`roi query ... | head`): not an error.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(0)
        except (click.exceptions.Exit, click.ClickException, KeyboardInterrupt):
            raise
        except OSError as exc:
            if opts.debug or not exc.filename:
                raise
            click.echo(f"Error: {os_error_line(exc)}", err=True)
            sys.exit(1)
        except Exception as exc:
            if opts.debug:
                raise
            click.echo(
                f"Error: unexpected {type(exc).__name__}: {(str(exc) or '?').splitlines()[0]}; "
                "rerun with --debug for the traceback and report it",
                err=True,
            )
            sys.exit(1)

    return common_options(wrapper)


def os_error_line(exc: OSError) -> str:
    """A file the system refused (permissions, a full disk, a missing folder), as one line."""
    reason = exc.strerror or type(exc).__name__
    if isinstance(exc, PermissionError):
        fix = "give the user running roi read (and, for the warehouse, write) permission on it"
    else:
        fix = "check the path and the disk"
    return f"cannot use {exc.filename} ({reason}); {fix}"


def in_range(option: str, value: int, low: int, high: int) -> int:
    """A count given on the command line, checked: `value` when from `low` to `high`.

    Raises:
        RoiError: naming the option, the value and the valid range (exit 1, one line).
    """
    if not low <= value <= high:
        raise RoiError(f"{option} {value} must be from {low:,} to {high:,}")
    return value


def parse_month(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    """`YYYY-MM` → the first day of that month."""
    if value is None:
        return None
    try:
        year, month = value.split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a month; use YYYY-MM, e.g. 2026-10") from None


def month_option(default: str = f"{MONTH_RULE}") -> Callable[[F], F]:
    """A `--month YYYY-MM` option whose help states its default and the valid range."""
    return click.option(
        "--month",
        callback=parse_month,
        metavar="YYYY-MM",
        help=f"The month (default: {default}); a month outside the data's first to latest "
        "month is an error.",
    )


# --month of the commands that work on one month: the one default-month rule.
MONTH = month_option()


def emit(opts: Options, frame: pl.DataFrame) -> None:
    """Write a result frame to stdout in the chosen format (a table fits the terminal)."""
    from roi.cli.output import format_frame

    click.echo(format_frame(frame, opts.fmt))


def say(text: str) -> None:
    """A line of text under a table, wrapped to the terminal's width like the table."""
    from roi.cli.output import terminal_width

    width = terminal_width()
    for paragraph in text.split("\n"):
        click.echo(textwrap.fill(paragraph, width) if len(paragraph) > width else paragraph)


def emit_document(document: dict[str, Any], sort_keys: bool = False) -> None:
    """Write a command's result document as JSON (`roi.documents`: money and ROI as decimal
    strings, counts as integers)."""
    from roi.documents import plain

    click.echo(json.dumps(plain(document), indent=2, ensure_ascii=False, sort_keys=sort_keys))
