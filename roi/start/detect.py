"""What a file or folder holds, for `roi connect`: a look at one data file's header (or JSON),
asked of every connector type (`Connector.recognises`)."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from roi.connectors import connector_class, connector_types
from roi.connectors.base import SourceSample
from roi.errors import SourceError

DATA_SUFFIXES = (
    ".csv",
    ".csv.gz",
    ".parquet",
    ".json",
    ".json.gz",
    ".jsonl",
    ".jsonl.gz",
    ".ndjson",
    ".ndjson.gz",
    ".xlsx",
)
_JSON_LINES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")
_UNIT = re.compile(r"\s*\[.*\]$")


@dataclass(frozen=True)
class Detected:
    """The connector type a path holds, why, and the file that told."""

    type: str
    reason: str
    file: Path


def _data_file(path: Path) -> Path:
    if path.is_file():
        return path
    if path.is_dir():
        found = sorted(
            p
            for p in path.rglob("*")
            if p.is_file() and p.name.endswith(DATA_SUFFIXES) and not p.name.startswith((".", "~$"))
        )
        if found:
            return found[0]
        raise SourceError(
            f"{path}: no data files in it (looked for {', '.join(DATA_SUFFIXES)}); point roi "
            "connect at an export file or the folder of one"
        )
    raise SourceError(f"{path}: no such file or folder; check the path")


def _header(text: str) -> frozenset[str]:
    first = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    cells = next(csv.reader(io.StringIO(first)), [])
    return frozenset(_UNIT.sub("", c.strip()).lower() for c in cells if c.strip())


def sample_of(path: Path) -> SourceSample:
    """The header (or JSON document) of the first data file at `path`."""
    file = _data_file(path)
    name = file.name
    if name.endswith(".xlsx"):
        return SourceSample(file)
    if name.endswith(".parquet"):
        import pyarrow.parquet as pq

        names = pq.read_schema(file).names
        return SourceSample(file, frozenset(n.lower() for n in names))
    opener: Any = gzip.open if name.endswith(".gz") else open
    try:
        with opener(file, "rt", encoding="utf-8", errors="replace") as fh:
            if name.endswith(_JSON_LINES):  # JSON lines: the first object tells
                first = next((line for line in fh if line.strip()), "null")
                document = json.loads(first)
                keys = document.keys() if isinstance(document, dict) else ()
                return SourceSample(file, frozenset(str(k).lower() for k in keys), document)
            if ".json" in name:
                return SourceSample(file, document=json.load(fh))
            return SourceSample(file, _header(fh.read(65536)))
    except (OSError, EOFError, json.JSONDecodeError) as exc:
        raise SourceError(f"{file}: cannot read it ({exc}); check the file") from exc


def detect(path: Path) -> Detected:
    """The connector type whose format `path` holds.

    Raises:
        SourceError: no type recognises it (naming what each type needs) or the file is
            unreadable.
    """
    sample = sample_of(path)
    for name in connector_types():
        reason = connector_class(name).recognises(sample)
        if reason:
            return Detected(name, reason, sample.path)
    shown = ", ".join(sorted(sample.columns)[:12]) or "no header"
    raise SourceError(
        f"{sample.path}: roi does not recognise this file (columns: {shown}); name its type "
        f"with --type ({', '.join(connector_types())})"
    )
