"""`roi connect SOURCE`: recognise what a file or folder holds, or what a URL names (a
service's API, LiteLLM's database: `roi.start.locate`), write its connector definition, load
it, and say what it found.

The definition is written only when the load succeeds: a source roi cannot read leaves neither a
connector nor a warehouse change behind. Options are written as the type declares them (numbers,
lists), secrets only as the names of environment variables.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from roi import pipeline
from roi.config import load_project
from roi.connectors import connector_class, connector_types
from roi.context import Context
from roi.errors import ConfigError
from roi.loading.loader import LoadResult
from roi.start.detect import Detected, detect
from roi.start.locate import Secrets, is_location, locate
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
    looked_at: str = ""  # the file, URL (without credentials) or DSN variable roi looked at

    def to_document(self) -> dict[str, Any]:
        """JSON-ready: the connector, its type and why, the load and the summary."""
        return {
            "connector": self.connector,
            "type": self.detected.type,
            "why": self.detected.reason,
            "looked_at": self.looked_at or str(self.detected.file),
            "definition": str(self.file),
            "load": self.load.to_document(),
            "summary": self.summary.to_document(),
        }


def _name(stem: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9_]+", "_", stem.lower()).strip("_") or "source"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    return name


@dataclass(frozen=True)
class Definition:
    """What `connectors/<name>.toml` holds, and what roi looked at to write it."""

    type: str
    comment: str
    location: Mapping[str, str]  # path = … or url = …
    looked_at: str
    secrets: Mapping[str, str] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)

    def toml(self) -> str:
        """The definition's text: secrets only as the names of environment variables."""
        lines = [
            f"# Written by `roi connect`: {self.comment}.",
            f'type = "{self.type}"',
            *(f"{k} = {_value(v)}" for k, v in self.location.items()),
            *(f"{k}_env = {_value(v)}" for k, v in sorted(self.secrets.items())),
        ]
        if self.options:
            options = sorted(self.options.items())
            lines += ["", "[options]", *(f"{k} = {_value(v)}" for k, v in options)]
        return "\n".join(lines) + "\n"


def _value(value: Any) -> str:
    """A TOML literal for an option's checked value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_value(str(k))} = {_value(v)}" for k, v in value.items()) + " }"
    text = str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def connect(
    ctx: Context,
    path: Path | str | None,
    *,
    connector_type: str | None = None,
    name: str | None = None,
    options: dict[str, str] | None = None,
    secrets: Secrets | None = None,
) -> Connected:
    """Recognise `path` (a file or folder, a service's URL, a database URL, or nothing with
    `secrets.dsn`), write `connectors/<name>.toml`, load it and summarise what it holds.

    Raises:
        ConfigError: the connector name is taken, the type is unknown, or a secret is in the
            URL, not taken by the type or not set.
        SourceError: the path or URL holds nothing roi recognises (naming the types).
    """
    given = secrets or Secrets()
    if path is None or (isinstance(path, str) and is_location(path)):
        located = locate(path, connector_type, given, options or {})
        detected = Detected(located.type, located.reason, Path(located.shown))
        definition = Definition(
            located.type,
            f"{located.reason} at {located.shown}",
            {"url": located.url} if located.url else {},
            located.shown,
            located.secrets,
            located.options,
        )
        return _write_and_load(ctx, detected, name, located.type, definition)
    if given.key or given.dsn or given.password:
        raise ConfigError("--key-env, --dsn-env and --password-env name the secrets of a URL")
    path = Path(path).expanduser().resolve()
    detected = detect(path)
    if connector_type is not None:
        detected = replace(detected, type=connector_type, reason=f"--type {connector_type}")
    if detected.type not in connector_types():
        raise ConfigError(
            f"unknown connector type {detected.type!r}; allowed values: "
            f"{', '.join(connector_types())}"
        )
    checked = connector_class(detected.type).check_options(
        dict(options or {}), "--option", from_text=True
    )
    try:
        location = path.relative_to(ctx.project.root).as_posix()
    except ValueError:
        location = str(path)
    definition = Definition(
        detected.type,
        f"{detected.reason} in {detected.file.name}",
        {"path": location},
        str(detected.file),
        options=checked,
    )
    stem = path.name.split(".")[0] if path.is_file() else path.name
    return _write_and_load(ctx, detected, name, stem, definition)


def _write_and_load(
    ctx: Context, detected: Detected, name: str | None, stem: str, definition: Definition
) -> Connected:
    """Write the definition (as `name`, or a free name made of `stem`), load it, and take it
    back when the load fails."""
    root = ctx.project.root
    taken = {c.name for c in ctx.project.connectors}
    chosen = name or _name(stem, taken)
    if chosen in taken:
        raise ConfigError(f"a connector named {chosen!r} exists already; pass --name NAME")
    file = root / "connectors" / f"{chosen}.toml"
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(definition.toml(), encoding="utf-8")
    try:
        project = load_project(root)
        [result] = pipeline.load(replace(ctx, project=project), [chosen])
    except BaseException:
        file.unlink(missing_ok=True)  # a source roi cannot load leaves no definition behind
        raise
    with ctx.reader() as con:
        summary = summarise(con, result)
    return Connected(detected, chosen, file, result, summary, looked_at=definition.looked_at)
