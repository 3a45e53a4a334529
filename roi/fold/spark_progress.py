"""A Spark job's progress: its tasks done out of the tasks of its stages, on roi's progress.

The fold is called deep inside attribution and reconciliation, which pass the engine's settings
down but not the command's progress: a job reports to `roi.progress.current()` (the pipeline
step's `ctx.progress`), polling Spark's status tracker while one query runs. A Spark Connect
session has no status tracker: its jobs run unwatched.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from roi.progress import current

POLL_SECONDS = 0.2


def _tasks(tracker: Any, group: str) -> tuple[int, int]:
    """(tasks done, tasks) over the started stages of the jobs of `group` so far; (0, 0)
    when Spark cannot say (a progress bar never fails the work it shows)."""
    try:
        return _count(tracker, group)
    except Exception:
        return 0, 0


def _count(tracker: Any, group: str) -> tuple[int, int]:
    done = total = 0
    for job_id in tracker.getJobIdsForGroup(group):
        job = tracker.getJobInfo(job_id)
        for stage_id in job.stageIds if job else ():
            stage = tracker.getStageInfo(stage_id)
            if stage is None:
                continue
            # A stage with no task started, done or failed is not submitted yet (or skipped:
            # its shuffle output was reused): nothing to wait for.
            if stage.numActiveTasks + stage.numCompletedTasks + stage.numFailedTasks:
                done += stage.numCompletedTasks
                total += stage.numTasks
    return done, total


def _poll(tracker: Any, group: str, update: Callable[[int, int], None], stop: Any) -> None:
    while not stop.wait(POLL_SECONDS):
        done, total = _tasks(tracker, group)
        if total:
            update(done, total)


@contextmanager
def watching(spark: Any, description: str) -> Iterator[None]:
    """Show the tasks of the Spark jobs run inside this block as one bar."""
    try:
        context = spark.sparkContext
    except Exception:  # Spark Connect: no SparkContext, no status tracker
        yield
        return
    group = f"roi-{id(threading.current_thread())}-{threading.get_native_id()}"
    context.setJobGroup(group, description)
    tracker = context.statusTracker()
    with current().tasks(description) as update:
        stop = threading.Event()
        poller = threading.Thread(target=_poll, args=(tracker, group, update, stop), daemon=True)
        poller.start()
        try:
            yield
        finally:
            stop.set()
            poller.join()
            done, total = _tasks(tracker, group)
            if total:
                update(done, total)
            context.setLocalProperty("spark.jobGroup.id", None)
