"""The connector contract: what a connector yields and how its target table is keyed."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar
from urllib.parse import urlsplit

from roi.config import ConnectorConfig
from roi.config.typed import build
from roi.loading.files import file_digests, list_files
from roi.loading.protocol import Batch, Extracted
from roi.progress import Progress
from roi.tables import Table


@dataclass(frozen=True)
class NoOptions:
    """The option set of a connector type that takes no options."""


@dataclass(frozen=True)
class SourceSample:
    """What `roi connect` saw of a file: its path, its header's column names (lower-cased,
    units like ` [%]` removed) or its JSON document."""

    path: Path
    columns: frozenset[str] = frozenset()
    document: Any = None

    def has(self, *names: str) -> bool:
        """Whether every one of `names` is a column."""
        return set(names) <= self.columns


@dataclass(frozen=True)
class UrlMatch:
    """What `roi connect URL` learnt from a URL: why a type reads it, the `url` its definition
    holds (the service's base), and the options the URL's path implies."""

    reason: str
    url: str
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


def url_path_match(url: str, pattern: str) -> tuple[str, re.Match[str]] | None:
    """For an http(s) URL whose path ends in `pattern`: the base before it (scheme, host, port
    and any path prefix; no user, query or fragment) and the match."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    found = re.search(f"(?:{pattern})$", parts.path.rstrip("/"))
    if found is None:
        return None
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}{parts.path[: found.start()]}", found


class Connector(ABC):
    """One source type. Subclasses set `type_name`, `table`, `description` and implement extract."""

    type_name: ClassVar[str]
    table: ClassVar[Table]  # the warehouse table it loads (roi.tables)
    description: ClassVar[str]
    suffixes: ClassVar[tuple[str, ...]] = (".csv", ".csv.gz")
    needs_location: ClassVar[bool] = True  # False: the source is named by a secret (a DSN)
    reads_urls: ClassVar[bool] = False  # True: `url` (a service) instead of files
    # The secret an API key or token is (`<name>_env`; what `roi connect --key-env` names),
    # and whether a `url` needs it.
    key_secret: ClassVar[str | None] = None
    key_required: ClassVar[bool] = False
    takes_dsn: ClassVar[bool] = False  # a database server: `dsn_env`, or `url` + `password_env`
    Options: ClassVar[type[Any]] = NoOptions

    def __init__(self, config: ConnectorConfig, root: Path) -> None:
        self.config = config
        self.root = root
        self.options = build(self.Options, config.options, config.file, "options.")

    def relative(self, path: Path) -> str:
        """A file's path relative to the project root when inside it (lineage stays portable)."""
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return str(path.resolve())

    @classmethod
    def check_options(
        cls, raw: Mapping[str, Any], where: Path | str, from_text: bool = False
    ) -> Mapping[str, Any]:
        """Check an `[options]` table (or `--option` text) against the type's option set.

        Returns the given options with their values converted to the declared types.

        Raises:
            ConfigError: an unknown key (naming the allowed keys) or a value of the wrong type.
        """
        built = build(cls.Options, raw, where, "options.", from_text=from_text)
        return MappingProxyType({k: getattr(built, k) for k in raw})

    def input_files(self) -> list[Path]:
        """The files the connector's `path` names (a file, a folder or a glob)."""
        assert self.config.path is not None
        return list_files(self.root, self.config.path, self.suffixes)

    @classmethod
    def recognises(cls, sample: SourceSample) -> str | None:
        """Why this type reads `sample` (what `roi connect` says), or None when it does not."""
        return None

    @classmethod
    def recognises_url(cls, url: str) -> UrlMatch | None:
        """What this type reads at `url` (`roi connect URL`), or None when it does not."""
        return None

    @abstractmethod
    def extract(self, state: Mapping[str, Any] | None, progress: Progress) -> Extracted:
        """Plan a read of the source: what is new or changed since `state` (the last cursor)."""


def changed_files(
    files: list[Path], state: Mapping[str, Any] | None, relative: Callable[[Path], str]
) -> tuple[list[Path], dict[str, str]]:
    """Files whose fingerprint differs from `state["files"]`, and every file's fingerprint."""
    known: Mapping[str, str] = (state or {}).get("files", {})
    fingerprints = dict(zip([relative(p) for p in files], file_digests(files), strict=True))
    changed = [p for p in files if known.get(relative(p)) != fingerprints[relative(p)]]
    return changed, fingerprints


class FileConnector(Connector):
    """A connector over files that merges by key: only new or changed files are read."""

    @abstractmethod
    def read_file(self, path: Path, relative: str) -> Batch:
        """Parse one file into rows for the target table and reject records."""

    def extract(self, state: Mapping[str, Any] | None, progress: Progress) -> Extracted:
        """Read every file whose fingerprint changed since the last committed load."""
        files = self.input_files()
        changed, fingerprints = changed_files(files, state, self.relative)

        def batches() -> Iterator[Batch]:
            for path in progress.track(changed, f"{self.config.name}: reading"):
                yield self.read_file(path, self.relative(path))

        return Extracted(
            batches=batches(),
            files=[self.relative(p) for p in changed],
            cursor={"files": fingerprints},
            skipped_files=len(files) - len(changed),
            replaces_files=True,
        )
