"""Progress on stderr: a bar of (done, total) for work whose size is learnt as it runs."""

from __future__ import annotations

import io

from rich.console import Console

from roi.progress import SILENT, ConsoleProgress, current, reporting


def test_a_task_bar_shows_done_out_of_total_on_a_terminal_only() -> None:
    shown = io.StringIO()
    with ConsoleProgress(Console(file=shown, force_terminal=True, width=80)).tasks("fold") as bar:
        bar(3, 7)
    assert "fold" in shown.getvalue() and "3/7" in shown.getvalue()
    piped = io.StringIO()
    with ConsoleProgress(Console(file=piped, force_terminal=False)).tasks("fold") as bar:
        bar(3, 7)
    assert piped.getvalue() == ""


def test_the_step_progress_is_current_only_inside_reporting() -> None:
    console = ConsoleProgress(Console(file=io.StringIO()))
    assert current() is SILENT
    with reporting(console):
        assert current() is console
    assert current() is SILENT
