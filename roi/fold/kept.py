"""Compiled fold SQL kept on disk, so that running a fold does not import Ibis.

Compiling a fold to SQL needs Ibis, whose import (with the twenty SQL dialects it loads) takes
0.4 s: longer than folding the sample. Each compiled query is kept in roi's cache folder
(`$XDG_CACHE_HOME/roi/sql`, by default `~/.cache/roi/sql`; the environment variable
`ROI_SQL_CACHE` names another folder, or `off`) under a digest of what it was compiled from:
the compiling function, its arguments, and roi's code, Ibis and sqlglot as installed (the
content of roi's source files, the size and modification time of the two libraries'
`__init__.py`). An edited roi or an upgraded Ibis compiles again; a folder that cannot be
written only means compiling every time, as without it. roi runs the queries it finds there:
the folder is created for its owner alone, and one named by `ROI_SQL_CACHE` must not be
writable by others. Old keys are not removed (a few KB a query: delete the folder at will).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import json
import os
import tempfile
from collections.abc import Callable
from importlib.util import find_spec
from pathlib import Path
from typing import ParamSpec, TypeVar

import roi

P = ParamSpec("P")
R = TypeVar("R", str, tuple[str, ...])


def cache_folder() -> Path | None:
    """Where compiled queries are kept (None: not kept)."""
    chosen = os.environ.get("ROI_SQL_CACHE")
    if chosen == "off":
        return None
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "roi" / "sql"


@functools.cache
def code_fingerprint() -> str:
    """A digest of roi's source files (their content: a few milliseconds) and of the size and
    modification time of Ibis's and sqlglot's `__init__.py` (an upgrade rewrites it)."""
    digest = hashlib.sha256()
    for folder, subfolders, names in os.walk(Path(roi.__file__).parent):
        subfolders.sort()
        for name in sorted(n for n in names if n.endswith(".py")):
            digest.update(f"{folder}/{name}\0".encode())
            digest.update(Path(folder, name).read_bytes())
    for package in ("ibis", "sqlglot"):
        spec = find_spec(package)
        if spec is not None and spec.origin is not None:
            stat = os.stat(spec.origin)
            digest.update(f"{spec.origin}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _key(name: str, args: tuple[object, ...]) -> str:
    text = f"{name}\0{args!r}\0{code_fingerprint()}"
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def _read(path: Path) -> str | list[str] | None:
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(found, str) or (
        isinstance(found, list) and all(isinstance(q, str) for q in found)
    ):
        return found
    return None


def _write(path: Path, sql: str | tuple[str, ...]) -> None:
    tmp = None
    try:
        # Only its owner may write queries roi will run.
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(sql if isinstance(sql, str) else list(sql), out)
        os.replace(tmp, path)  # whole or not at all, whoever writes the same key meanwhile
    except OSError:  # a cache that cannot be written: compiled again next time
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def kept(compile_sql: Callable[P, R]) -> Callable[P, R]:
    """Keep what `compile_sql` (a function of hashable, repr-stable arguments returning one
    query or a tuple of them) returns, keyed by its name, arguments and the code."""

    signature = inspect.signature(compile_sql)

    @functools.wraps(compile_sql)
    def compiled(*args: P.args, **kwargs: P.kwargs) -> R:
        folder = cache_folder()
        if folder is None:
            return compile_sql(*args, **kwargs)
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        path = folder / f"{_key(compile_sql.__qualname__, tuple(bound.arguments.items()))}.json"
        found = _read(path)
        if found is not None:
            return found if isinstance(found, str) else tuple(found)  # type: ignore[return-value]
        sql = compile_sql(*args, **kwargs)
        _write(path, sql)
        return sql

    return compiled


__all__ = ["cache_folder", "code_fingerprint", "kept"]
