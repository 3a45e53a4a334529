"""The connector contract: what a connector returns and how its target table is keyed."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import polars as pl

from roi.config import ConnectorConfig
from roi.connectors.parsing import empty_rejects

Progress = Callable[[str], None]


@dataclass(frozen=True)
class TableSpec:
    """How a warehouse table is merged into.

    `primary_key` identifies a row: batches are deduplicated on it (keeping the last row in
    `source_file`, `source_row` order) and merged on it. `replace_by` names partition columns:
    for every partition present in a batch, the warehouse's rows of that partition are replaced
    wholesale (a billing export re-delivers whole months, so a corrected month must also drop the
    lines the provider removed).
    """

    name: str
    primary_key: tuple[str, ...]
    replace_by: tuple[str, ...] = ()


@dataclass
class Extracted:
    """What one connector run read: rows for the target table, parse rejects and the new cursor."""

    frame: pl.DataFrame
    files: list[str]
    cursor: dict[str, Any]
    rejects: pl.DataFrame = field(default_factory=empty_rejects)
    skipped_files: int = 0


class Connector(ABC):
    """One source type. Subclasses set `type_name`, `table`, `description` and implement extract."""

    type_name: ClassVar[str]
    table: ClassVar[TableSpec]
    description: ClassVar[str]
    suffixes: ClassVar[tuple[str, ...]] = (".csv", ".csv.gz")

    def __init__(self, config: ConnectorConfig, root: Path) -> None:
        self.config = config
        self.root = root

    def relative(self, path: Path) -> str:
        """A file's path relative to the project root when inside it (lineage stays portable)."""
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return str(path.resolve())

    def option(self, key: str, default: Any = None) -> Any:
        """A connector option from the TOML's `[options]` table."""
        return self.config.options.get(key, default)

    @abstractmethod
    def extract(self, state: Mapping[str, Any] | None, progress: Progress) -> Extracted:
        """Read the source: new or changed data since `state` (the cursor of the last load)."""


def changed_files(
    files: list[Path], state: Mapping[str, Any] | None, relative: Callable[[Path], str]
) -> tuple[list[Path], dict[str, str]]:
    """Files whose content differs from the fingerprints in `state["files"]`, and all new fingerprints."""
    from roi.connectors.parsing import file_digest

    known: Mapping[str, str] = (state or {}).get("files", {})
    fingerprints = {relative(p): file_digest(p) for p in files}
    changed = [p for p in files if known.get(relative(p)) != fingerprints[relative(p)]]
    return changed, fingerprints


class FileConnector(Connector):
    """A connector over files that merges by key: only new or changed files are read."""

    @abstractmethod
    def read_file(self, path: Path, relative: str) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Parse one file into (rows for the target table, reject records)."""

    def extract(self, state: Mapping[str, Any] | None, progress: Progress) -> Extracted:
        """Read every file whose fingerprint changed since the last committed load."""
        from roi.connectors.parsing import list_files

        assert self.config.path is not None
        files = list_files(self.root, self.config.path, self.suffixes)
        changed, fingerprints = changed_files(files, state, self.relative)
        frames, rejects = [], []
        for i, path in enumerate(changed, 1):
            progress(f"{self.config.name}: file {i}/{len(changed)} {path.name}")
            frame, rej = self.read_file(path, self.relative(path))
            frames.append(frame)
            rejects.append(rej)
        return Extracted(
            frame=pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame(),
            files=[self.relative(p) for p in changed],
            cursor={"files": fingerprints},
            rejects=pl.concat(rejects) if rejects else empty_rejects(),
            skipped_files=len(files) - len(changed),
        )
