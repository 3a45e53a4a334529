"""`roi connect PATH`: recognise what a file or folder holds, write its connector definition,
load it, and say what it found.

The definition is written only when the load succeeds: a file roi cannot read leaves neither a
connector nor a warehouse change behind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from roi import pipeline
from roi.config import load_project
from roi.context import Context
from roi.errors import ConfigError
from roi.loading.loader import LoadResult
from roi.start.detect import Detected, detect
from roi.start.summary import Summary, summarise


@dataclass(frozen=True)
class Connected:
    """What `roi connect` did: the type it chose and why, the TOML it wrote, the load, and
    what the data holds."""

    detected: Detected
    connector: str
    file: Path
    load: LoadResult
    summary: Summary
    notes: list[str] = field(default_factory=list)

    def to_document(self) -> dict[str, Any]:
        """JSON-ready: the connector, its type and why, the load and the summary."""
        return {
            "connector": self.connector,
            "type": self.detected.type,
            "why": self.detected.reason,
            "looked_at": str(self.detected.file),
            "definition": str(self.file),
            "load": self.load.to_document(),
            "summary": self.summary.to_document(),
        }


def _name(path: Path, taken: set[str]) -> str:
    stem = path.name.split(".")[0] if path.is_file() else path.name
    base = re.sub(r"[^a-z0-9_]+", "_", stem.lower()).strip("_") or "source"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    return name


def _toml(detected: Detected, location: str, options: dict[str, str]) -> str:
    lines = [
        f"# Written by `roi connect`: {detected.reason} in {detected.file.name}.",
        f'type = "{detected.type}"',
        f"path = {_quoted(location)}",
    ]
    if options:
        lines += ["", "[options]", *(f"{k} = {_quoted(v)}" for k, v in sorted(options.items()))]
    return "\n".join(lines) + "\n"


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def connect(
    ctx: Context,
    path: Path,
    *,
    connector_type: str | None = None,
    name: str | None = None,
    options: dict[str, str] | None = None,
) -> Connected:
    """Recognise `path`, write `connectors/<name>.toml`, load it and summarise what it holds.

    Raises:
        ConfigError: the connector name is taken, or the type is unknown.
        SourceError: the path holds nothing roi recognises (naming the types).
    """
    root = ctx.project.root
    path = path.expanduser().resolve()
    detected = detect(path)
    if connector_type is not None:
        detected = replace(detected, type=connector_type, reason=f"--type {connector_type}")
    taken = {c.name for c in ctx.project.connectors}
    chosen = name or _name(path, taken)
    if chosen in taken:
        raise ConfigError(f"a connector named {chosen!r} exists already; pass --name NAME")
    try:
        location = path.relative_to(root).as_posix()
    except ValueError:
        location = str(path)
    file = root / "connectors" / f"{chosen}.toml"
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(_toml(detected, location, options or {}), encoding="utf-8")
    try:
        project = load_project(root)
        [result] = pipeline.load(replace(ctx, project=project), [chosen])
    except BaseException:
        file.unlink(missing_ok=True)  # a source roi cannot load leaves no definition behind
        raise
    with ctx.reader() as con:
        summary = summarise(con, result)
    return Connected(detected, chosen, file, result, summary)
