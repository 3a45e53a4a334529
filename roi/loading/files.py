"""The files a connector's `path` names, and their fingerprints."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from roi.errors import SourceError


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes: the fingerprint incremental connectors keep in `_state`."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def file_digests(paths: Sequence[Path]) -> list[str]:
    """`file_digest` of each file, in order, hashed side by side: reading and hashing release
    the GIL, so one thread per core (10 CSV files of 350 MB: 3.5 s → 1.5 s on two cores)."""
    workers = min(len(paths), os.cpu_count() or 1, 4)
    if workers < 2:
        return [file_digest(p) for p in paths]
    with ThreadPoolExecutor(workers, thread_name_prefix="roi-digest") as pool:
        return list(pool.map(file_digest, paths))


def list_files(
    root: Path, spec: str, suffixes: tuple[str, ...], recursive: bool = True
) -> list[Path]:
    """Files named by a connector `path`: a file, a folder (searched recursively) or a glob.

    Raises:
        SourceError: nothing matches, or the folder cannot be listed.
    """
    target = Path(spec).expanduser()
    target = target if target.is_absolute() else root / target
    try:
        target.resolve()
    except RuntimeError as exc:  # Python's name for a symbolic link loop
        raise SourceError(
            f"{spec}: a symbolic link that points to itself (a loop); point the connector at "
            "the real file or folder"
        ) from exc
    try:
        if target.is_file():
            return [target]
        if target.is_dir():
            files = _folder_files(target, spec, suffixes, recursive)
        else:
            anchor = Path(target.anchor)
            files = sorted(p for p in anchor.glob(str(target.relative_to(anchor))) if p.is_file())
    except OSError as exc:
        raise SourceError(
            f"cannot list {spec} ({exc.strerror or exc}); check the path (a symbolic link that "
            "points to itself or a folder without read permission)"
        ) from exc
    # Office lock files (`~$book.xlsx`) and hidden files are not data.
    files = [p for p in files if not p.name.startswith(("~$", "."))]
    if not files:
        raise SourceError(
            f"no input files match {spec} (looked for {', '.join(suffixes)} under {target}); "
            "check the connector's path"
        )
    return files


def _folder_files(
    folder: Path, spec: str, suffixes: tuple[str, ...], recursive: bool
) -> list[Path]:
    """Data files under `folder`; a subfolder that cannot be listed or a link to nothing is an
    error, never a silent skip (pathlib's rglob skips what it cannot read)."""

    def unreadable(exc: OSError) -> None:
        raise SourceError(
            f"cannot list {exc.filename} under {spec} ({exc.strerror or exc}); give roi read "
            "permission on it, or move it out of the connector's folder"
        ) from exc

    found: list[Path] = []
    seen: set[str] = set()
    for parent, folders, names in os.walk(folder, onerror=unreadable, followlinks=True):
        real = os.path.realpath(parent)
        if not recursive or real in seen:  # a linked folder seen before: not twice, no loop
            folders.clear()
        if real in seen:
            continue
        seen.add(real)
        for name in names:
            path = Path(parent) / name
            if not name.endswith(suffixes) or name.startswith(("~$", ".")):
                continue
            if not path.is_file():
                raise SourceError(
                    f"{path} under {spec} is a link to nothing (or not a file); remove it or "
                    "point it at the file"
                )
            found.append(path)
    return sorted(found)
