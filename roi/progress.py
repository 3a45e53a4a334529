"""Progress for long steps: messages and bars on stderr, silent with `--quiet`.

Library functions take a `Progress`; the CLI passes a `ConsoleProgress`, tests and library
callers get `SILENT` by default. Data never goes through here: it goes to stdout.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
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

    def tasks(self, description: str) -> AbstractContextManager[Callable[[int, int], None]]:
        """A bar for work whose size is learnt as it runs (a Spark job's tasks): call the
        yielded function with (done, total) whenever they change."""


def _ignore(done: int, total: int) -> None:
    """An update nobody shows."""


class SilentProgress:
    """Reports nothing (library default and `--quiet`)."""

    def info(self, message: str) -> None:
        """Ignore the message."""

    def track(self, items: Sequence[T], description: str) -> Iterator[T]:
        """Iterate without a bar."""
        yield from items

    @contextmanager
    def tasks(self, description: str) -> Iterator[Callable[[int, int], None]]:
        """Updates that go nowhere."""
        yield _ignore


class ConsoleProgress:
    """Messages and rich progress bars on stderr."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True, highlight=False)

    def _bar(self) -> RichProgress:
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        return RichProgress(*columns, console=self.console, transient=True)

    def info(self, message: str) -> None:
        """Print one line to stderr."""
        self.console.print(message, markup=False, soft_wrap=True)

    def track(self, items: Sequence[T], description: str) -> Iterator[T]:
        """Iterate `items` under a progress bar (shown only on a terminal)."""
        if len(items) <= 1 or not self.console.is_terminal:
            yield from items
            return
        with self._bar() as bar:
            task = bar.add_task(description, total=len(items))
            for item in items:
                yield item
                bar.advance(task)

    @contextmanager
    def tasks(self, description: str) -> Iterator[Callable[[int, int], None]]:
        """A bar of (done, total), shown only on a terminal."""
        if not self.console.is_terminal:
            yield _ignore
            return
        with self._bar() as bar:
            task = bar.add_task(description, total=None)

            def update(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            yield update


SILENT = SilentProgress()

# Work called deep inside a step that passes settings down but not its progress (a Spark job
# under attribution) reports to the progress of the step running it.
_running: ContextVar[Progress] = ContextVar("roi_progress", default=SILENT)


@contextmanager
def reporting(progress: Progress) -> Iterator[None]:
    """Inside this block, `current()` is `progress`."""
    token = _running.set(progress)
    try:
        yield
    finally:
        _running.reset(token)


def current() -> Progress:
    """The progress of the step running (silent outside `reporting`)."""
    return _running.get()
