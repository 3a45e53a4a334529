"""Progress for long steps: messages and bars on stderr, silent with `--quiet`.

Library functions take a `Progress`; the CLI passes a `ConsoleProgress`, tests and library
callers get `SILENT` by default. Data never goes through here: it goes to stdout.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol, TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress

T = TypeVar("T")


class Progress(Protocol):
    """Where long-running work reports what it is doing."""

    def info(self, message: str) -> None:
        """One line about a finished step."""

    def track(self, items: Sequence[T], description: str) -> Iterator[T]:
        """Iterate `items`, showing a bar while it runs."""


class SilentProgress:
    """Reports nothing (library default and `--quiet`)."""

    def info(self, message: str) -> None:
        """Ignore the message."""

    def track(self, items: Sequence[T], description: str) -> Iterator[T]:
        """Iterate without a bar."""
        yield from items


class ConsoleProgress:
    """Messages and rich progress bars on stderr."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True, highlight=False)

    def info(self, message: str) -> None:
        """Print one line to stderr."""
        self.console.print(message, markup=False, soft_wrap=True)

    def track(self, items: Sequence[T], description: str) -> Iterator[T]:
        """Iterate `items` under a progress bar (shown only on a terminal)."""
        if len(items) <= 1 or not self.console.is_terminal:
            yield from items
            return
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with RichProgress(*columns, console=self.console, transient=True) as bar:
            task = bar.add_task(description, total=len(items))
            for item in items:
                yield item
                bar.advance(task)


SILENT = SilentProgress()
