"""The loaded sample project, built once per test session and shared by every xdist worker.

Building it (`roi run` on a copy of the sample) takes one core 10 to 15 s. Under pytest-xdist
each worker would build its own copy side by side; instead the first worker to reach its test
loop builds one into the session's shared temporary folder, holding an fcntl lock, while the
other workers run tests that do not need it (those that do run last, see `run_last`).
A worker that needs it before it is ready waits on the lock. Tests only read it (DuckDB
read-only connections from several processes at once are fine); `changes` tells whether one
wrote to it after all.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from roi import pipeline
from roi.config import ProjectConfig, load_project
from roi.context import Context

FIXTURE = "loaded_project"
_LOCK = "loaded.lock"
_FOLDER = "loaded"
_DONE = "loaded.done"  # the fingerprint of the built project, written last
_FAILED = "loaded.failed"  # the traceback of a build that raised

Fingerprint = dict[str, list[int]]


def shared_root(factory: pytest.TempPathFactory) -> Path:
    """The folder every process of this test session sees: under xdist, the parent of the
    worker's own base temp folder (the session's), else the base temp folder itself."""
    base = factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def project_root(root: Path) -> Path:
    """Where `build` puts the loaded project under the shared folder `root`."""
    return root / _FOLDER / "project"


def needed(items: list[pytest.Item]) -> bool:
    """Whether any of these tests uses the loaded project (directly or through a fixture)."""
    return any(FIXTURE in getattr(item, "fixturenames", ()) for item in items)


def run_last(items: list[pytest.Item]) -> None:
    """Move the tests that use the loaded project after the others, in their order, so that
    the workers that do not build it have tests to run meanwhile. Tests marked slow keep their
    place: where the heavy tests fall decides how well the full suite shares out."""
    items.sort(key=lambda item: needed([item]) and item.get_closest_marker("slow") is None)


@contextmanager
def _locked(path: Path, wait: bool) -> Iterator[bool]:
    """Hold an exclusive fcntl lock on `path` (the kernel drops it if the process dies);
    yields False at once when another process holds it and `wait` is off."""
    with path.open("a") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def fingerprint(project: Path) -> Fingerprint:
    """Every file and folder of `project`: its size and modification time."""
    found = {}
    for path in sorted(project.rglob("*")):
        stat = path.lstat()
        found[path.relative_to(project).as_posix()] = [stat.st_size, stat.st_mtime_ns]
    return found


def build(root: Path, wait: bool) -> None:
    """Build the loaded project under `root` unless it is built, failed, or (when not `wait`)
    being built by another process. A build that raises leaves its traceback for `ready`."""
    from tests.conftest import copy_project  # here: conftest imports this module

    with _locked(root / _LOCK, wait) as held:
        if not held or (root / _DONE).exists() or (root / _FAILED).exists():
            return
        shutil.rmtree(root / _FOLDER, ignore_errors=True)  # what an interrupted build left
        try:
            project = copy_project(project_root(root))
            pipeline.run(Context(load_project(project)))
        except Exception:
            (root / _FAILED).write_text(traceback.format_exc(), encoding="utf-8")
            return
        (root / _DONE).write_text(json.dumps(fingerprint(project)), encoding="utf-8")


def ready(root: Path) -> ProjectConfig:
    """The loaded project under `root`: built here if no process has built it yet, waited for
    while another builds it.

    Raises:
        RuntimeError: the build raised (with its traceback).
    """
    build(root, wait=True)
    failed = root / _FAILED
    if failed.exists():
        raise RuntimeError(
            f"building the loaded sample project failed:\n{failed.read_text(encoding='utf-8')}"
        )
    return load_project(project_root(root))


def changes(root: Path) -> list[str]:
    """The files and folders of the loaded project added, removed or changed since it was
    built (empty when it was never built here)."""
    done = root / _DONE
    if not done.exists():
        return []
    before: Fingerprint = json.loads(done.read_text(encoding="utf-8"))
    after = fingerprint(project_root(root))
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))
