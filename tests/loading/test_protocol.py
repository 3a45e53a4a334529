"""Reading ahead: a source's next batch is produced in a thread while the loader works on the
one before; order, errors and an early stop behave as a plain loop over the source."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterator
from contextlib import closing

import pytest

from roi.loading.protocol import read_ahead

LABEL: contextvars.ContextVar[str] = contextvars.ContextVar("label", default="unset")


def test_the_next_item_is_produced_while_the_caller_holds_the_one_before_and_no_more() -> None:
    produced = [threading.Event() for _ in range(3)]
    threads: set[str] = set()

    def items() -> Iterator[int]:
        for i in range(3):
            threads.add(threading.current_thread().name)
            produced[i].set()
            yield i

    seen = []
    for item in read_ahead(items()):
        if item < 2:  # the next one is made without this loop asking for it
            assert produced[item + 1].wait(timeout=10)
        if item == 0:  # but not the one after: two items in memory at most
            assert not produced[2].wait(timeout=0.3)
        seen.append(item)
    assert seen == [0, 1, 2]
    assert threads == {"roi-read-ahead"}


def test_an_error_in_the_source_is_raised_to_the_caller_after_the_items_before_it() -> None:
    def items() -> Iterator[int]:
        yield 1
        raise ValueError("line 7 is not JSON")

    seen = []
    with pytest.raises(ValueError, match="line 7"):
        for item in read_ahead(items()):
            seen.append(item)
    assert seen == [1]


def test_a_caller_that_stops_early_stops_the_source_and_closes_it() -> None:
    closed = threading.Event()
    made: list[int] = []

    def items() -> Iterator[int]:
        try:
            for i in range(1000):
                made.append(i)
                yield i
        finally:
            closed.set()

    with pytest.raises(RuntimeError), closing(read_ahead(items())) as reader:
        for item in reader:
            if item == 3:
                raise RuntimeError("a bad row")
    assert closed.wait(timeout=10)
    assert max(made) <= 4  # at most the one after the caller's
    assert not any(t.name == "roi-read-ahead" for t in threading.enumerate())


def test_the_source_runs_in_the_callers_context() -> None:
    def items() -> Iterator[str]:
        yield LABEL.get()

    token = LABEL.set("load-42")
    try:
        assert list(read_ahead(items())) == ["load-42"]
    finally:
        LABEL.reset(token)
