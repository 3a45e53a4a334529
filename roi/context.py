"""The project context: one object a command builds and every library step takes.

It holds the project's settings, the warehouse the step works on, the memory limit, how
progress is shown and how long to wait for another roi process; the steps in `roi.pipeline`
open the warehouse through it (read-only for reading, under the writer lock for writing)
instead of each threading paths, limits and waits by hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from roi import warehouse
from roi.config import ProjectConfig, load_project
from roi.progress import SILENT, Progress
from roi.warehouse import DEFAULT_MEMORY_LIMIT, READ_WAIT_SECONDS, Connection


@dataclass(frozen=True)
class Context:
    """A project, the warehouse file it works on and how a command runs."""

    project: ProjectConfig
    warehouse_path: Path | None = None  # default: the project's (roi.toml [project] warehouse)
    progress: Progress = SILENT
    read_wait: float = warehouse.READ_WAIT_SECONDS  # a reader waits for a writer's commit
    write_wait: float = 0.0  # a writer waits for another writer (default: fail at once)
    has_project: bool = True  # False: a warehouse used without a project (`for_warehouse`)

    @classmethod
    def load(
        cls,
        root: Path,
        warehouse_path: Path | None = None,
        progress: Progress = SILENT,
        wait: float | None = None,
    ) -> Context:
        """Read the project at `root` (roi.toml and its folders) into a context.

        `wait` sets both waits (reading and writing commands alike).
        """
        ctx = cls(load_project(root), warehouse_path, progress)
        if wait is not None:
            ctx = replace(ctx, read_wait=wait, write_wait=wait)
        return ctx

    @property
    def warehouse(self) -> Path:
        """The warehouse file: the one given, else the project's."""
        if self.warehouse_path is not None:
            return self.warehouse_path.resolve()
        return self.project.warehouse_path

    @property
    def memory_limit(self) -> str:
        """DuckDB's memory limit for this project."""
        return self.project.project.memory_limit

    @classmethod
    def for_warehouse(
        cls,
        warehouse_path: Path,
        root: Path | None = None,
        progress: Progress = SILENT,
        memory_limit: str = DEFAULT_MEMORY_LIMIT,
        read_wait: float = READ_WAIT_SECONDS,
        write_wait: float = 0.0,
    ) -> Context:
        """A context for a warehouse file without a project (`roi ingest`, `query`, `status`
        outside a project folder): default settings, paths relative to `root` (default: here)."""
        project = ProjectConfig.blank((root or Path.cwd()).resolve(), memory_limit)
        return cls(project, warehouse_path, progress, read_wait, write_wait, has_project=False)

    @property
    def root(self) -> Path:
        """The project folder (relative paths of connectors start here)."""
        return self.project.root

    @contextmanager
    def reader(self, wait: float | None = None) -> Iterator[Connection]:
        """A read-only connection (waits up to `read_wait`, or `wait`, for a writer's commit)."""
        with warehouse.open_warehouse(
            self.warehouse,
            read_only=True,
            memory_limit=self.memory_limit,
            wait=self.read_wait if wait is None else wait,
        ) as con:
            yield con

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the writer lock (waiting up to `write_wait`), the warehouse upgraded."""
        with warehouse.writer_lock(self.warehouse, self.write_wait):
            warehouse.upgrade(self.warehouse, self.memory_limit, warehouse.COMMIT_WAIT_SECONDS)
            yield

    @contextmanager
    def committing(self) -> Iterator[Connection]:
        """A read-write connection for a writer's final transaction (inside `writing`)."""
        with warehouse.open_warehouse(
            self.warehouse, memory_limit=self.memory_limit, wait=warehouse.COMMIT_WAIT_SECONDS
        ) as con:
            yield con
