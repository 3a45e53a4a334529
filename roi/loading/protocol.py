"""What the loader takes from a source: batches of parsed rows, the files read, the new cursor.

A connector (`roi.connectors`) is one source type; the loader does not know them. It takes any
`Source`: something that names its connector definition and target table and plans a read
(`extract`) from the last committed cursor.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import polars as pl

from roi.config import ConnectorConfig
from roi.loading.rejects import empty_rejects
from roi.progress import Progress
from roi.tables import Table


@dataclass(frozen=True)
class Batch:
    """Parsed rows for the target table plus the rows that failed to parse, from one file.

    `rejects` name rows of `frame` (kept with nulls; the loader drops them). `left_out` name
    values the connector already left out of `frame` (a bad cell of a wide workbook row).
    """

    frame: pl.DataFrame
    rejects: pl.DataFrame = field(default_factory=empty_rejects)
    left_out: pl.DataFrame = field(default_factory=empty_rejects)


@dataclass
class Extracted:
    """What one connector run will read: batches (produced lazily), files and the new cursor."""

    batches: Iterable[Batch]
    files: list[str]
    cursor: dict[str, Any]
    skipped_files: int = 0
    # True when `files` are re-read whole: rows a changed file no longer holds are deleted.
    replaces_files: bool = False
    # True when the next batch may be read in a thread while the loader works on the one
    # before (`read_ahead`): chunked reads whose parsing leaves a core idle (2M usage events:
    # 14.5 s, not 17 s). Billing files are not: their loads keep both cores busy already, and
    # a second file in memory raised an Azure load's peak from 2.7 to 3.4 GiB for no gain.
    read_ahead: bool = False


class Source(Protocol):
    """A configured source the loader can run (a connector instance)."""

    config: ConnectorConfig

    @property
    def table(self) -> Table:
        """The warehouse table the source loads."""
        ...

    def extract(self, state: Mapping[str, Any] | None, progress: Progress) -> Extracted:
        """Plan a read of the source: what is new or changed since `state` (the last cursor)."""
        ...


# Small files are parsed, checked and staged together up to this many rows: each step has a
# fixed cost (pandera's schema, dozens of Polars expressions over every column) that dominated
# loading many small files (the sample's 74 billing files of a few hundred lines each).
STACK_ROWS = 100_000

Part = TypeVar("Part")


def runs(
    parts: Iterable[Part], frame: Callable[[Part], pl.DataFrame], rows: int = STACK_ROWS
) -> Iterator[list[Part]]:
    """Consecutive parts grouped while their frames have one schema, up to `rows` rows (a
    part bigger than that is a group of its own). Rows keep their own file and row numbers."""
    held: list[Part] = []
    size = 0
    for part in parts:
        height = frame(part).height
        if held and (size + height > rows or frame(part).schema != frame(held[0]).schema):
            yield held
            held, size = [], 0
        held.append(part)
        size += height
    if held:
        yield held


_DONE = object()


def read_ahead(items: Iterable[Part]) -> Generator[Part, None, None]:
    """`items`, each next one produced in a thread while the caller works on the one before.

    A load reads and parses a file's next chunk (Polars, which releases the interpreter) while
    it checks, prices and stages the chunk before: the two cores both work. The producer
    starts an item only when the caller has taken the one before, so at most two are in
    memory (the caller's and the next). An error in the producer is raised here. A caller
    that may stop early (an error of its own) closes this generator (`contextlib.closing`):
    the producer then stops after its current item and closes `items` in its own thread.
    The producer runs in a copy of the caller's context (`roi.progress.current`).
    """
    handoff: queue.SimpleQueue[tuple[bool, object]] = queue.SimpleQueue()
    go = threading.Semaphore(1)  # released each time the caller takes an item
    stop = threading.Event()

    def produce() -> None:
        iterator = iter(items)
        try:
            while not stop.is_set():
                if not go.acquire(timeout=0.05):
                    continue
                if stop.is_set():
                    return
                item = next(iterator, _DONE)
                handoff.put((True, item))
                if item is _DONE:
                    return
        except BaseException as exc:  # handed to the caller, raised there
            handoff.put((False, exc))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    producer = threading.Thread(
        target=contextvars.copy_context().run, args=(produce,), name="roi-read-ahead", daemon=True
    )
    producer.start()
    try:
        while True:
            ok, item = handoff.get()
            go.release()
            if not ok:
                assert isinstance(item, BaseException)
                raise item
            if item is _DONE:
                return
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        go.release()
        producer.join()
