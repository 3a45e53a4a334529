"""JSON lines files, read in chunks by Polars, with the line number of every row.

`read_json_lines` yields frames of at most about `chunk_bytes` of input each, so a 10M-line
file never sits in memory whole. Fields are read by a schema (every leaf as text, objects as
their JSON text), so nothing is coerced silently: connectors parse the text (`parse_columns`).
A connector may name a `typed` schema to try first (counts as Int64, read straight from the
JSON numbers): Polars refuses a value of another type (`"12"`, `12.0`, `true`) rather than
coercing it, and such a chunk is read again as text. Each row carries `source_row`, its line in
the file (blank lines count, as an editor shows).

A line that is not a JSON object is an error naming `file:line` and what is wrong with it
(Polars' fast reader does not say which line failed, so the failing chunk is read again line by
line); with `skip_bad`, bad lines are returned as reject records instead and the rest loads.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import polars as pl

from roi.errors import SourceError
from roi.loading.rejects import REJECT_COLUMNS, empty_rejects

CHUNK_BYTES = 64 * 1024 * 1024
SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")


@dataclass(frozen=True)
class Chunk:
    """Rows of one chunk (with `source_row`), and reject records for its bad lines."""

    frame: pl.DataFrame
    rejects: pl.DataFrame = field(default_factory=empty_rejects)


def schema_of(
    paths: dict[str, str], types: Mapping[str, pl.DataType] | None = None
) -> dict[str, pl.DataType]:
    """A read schema for dotted field paths (`data.usage.input_tokens`): nested structs of
    text leaves, or of `types[name]` for the names it gives. `paths` maps a name to its path;
    two paths where one is inside the other are an error for the caller to avoid."""
    tree: dict[str, object] = {}
    for name, path in paths.items():
        node = tree
        parts = path.split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ValueError(f"{path!r} is inside a field mapped whole")
            node = child
        if isinstance(node.get(parts[-1]), dict):
            raise ValueError(f"{path!r} holds fields mapped one by one")
        node[parts[-1]] = (types or {}).get(name, pl.String())

    def build(node: dict[str, object]) -> dict[str, pl.DataType]:
        return {
            k: pl.Struct(build(v)) if isinstance(v, dict) else v  # type: ignore[misc]
            for k, v in node.items()
        }

    return build(tree)


def field_expr(path: str) -> pl.Expr:
    """The expression reading a dotted path out of a frame read with `schema_of`."""
    parts = path.split(".")
    expr = pl.col(parts[0])
    for part in parts[1:]:
        expr = expr.struct.field(part)
    return expr


def _open(path: Path, relative: str) -> IO[bytes]:
    try:
        if path.name.endswith(".gz"):
            return gzip.open(path, "rb")  # type: ignore[return-value]
        return path.open("rb")
    except OSError as exc:
        raise SourceError(f"{relative}: cannot read it ({exc.strerror}); check the file") from exc


def _chunks(handle: IO[bytes], chunk_bytes: int) -> Iterator[bytes]:
    """Whole lines, about `chunk_bytes` at a time (a seekable file is read once: the partial
    last line is read again with the next chunk rather than copied onto it)."""
    seekable = handle.seekable() and not isinstance(handle, gzip.GzipFile)
    rest = b""
    while True:
        block = handle.read(chunk_bytes)
        if not block:
            if rest:
                yield rest
            return
        if rest:
            block = rest + block
            rest = b""
        cut = block.rfind(b"\n")
        if cut < 0:
            rest = block
            continue
        if cut + 1 < len(block):
            if seekable:
                handle.seek(cut + 1 - len(block), 1)
            else:
                rest = block[cut + 1 :]
        yield block if cut + 1 == len(block) else block[: cut + 1]


def _bad_lines(chunk: bytes, first_line: int) -> list[tuple[int, str]]:
    """(line number, what is wrong) for each line of a chunk that is not a JSON object."""
    bad = []
    for n, line in enumerate(chunk.split(b"\n"), start=first_line):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            what = exc.msg if isinstance(exc, json.JSONDecodeError) else "not UTF-8 text"
            where = f" at column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
            bad.append((n, f"not valid JSON ({what}{where})"))
            continue
        if not isinstance(value, dict):
            bad.append((n, f"not a JSON object (a {type(value).__name__})"))
    return bad


def _line_numbers(chunk: bytes, first_line: int) -> list[int]:
    """The line numbers of a chunk's non-blank lines (the slow path: blank lines in it)."""
    return [n for n, line in enumerate(chunk.split(b"\n"), start=first_line) if line.strip()]


def read_json_lines(
    path: Path,
    relative: str,
    schema: dict[str, pl.DataType],
    *,
    skip_bad: bool = False,
    chunk_bytes: int = CHUNK_BYTES,
    typed: dict[str, pl.DataType] | None = None,
) -> Iterator[Chunk]:
    """The file's objects, chunk by chunk, with `source_file` and `source_row` (its line).

    Memory holds one chunk of whole lines at a time (Polars' streaming NDJSON reader reads
    ahead without bound: a 3 GB file took 3.6 GB however slowly its batches were used). With
    `typed` (the same fields as `schema`, some typed), a chunk is read by it when every value
    has its type, and by `schema` (text) otherwise.

    Raises:
        SourceError: a line that is not a JSON object (unless `skip_bad`), as `file:line: ...`.
    """
    with _open(path, relative) as handle:
        line = 1
        try:
            for chunk in _chunks(handle, chunk_bytes):
                lines_in_chunk = chunk.count(b"\n") + (0 if chunk.endswith(b"\n") else 1)
                read = _typed_chunk(chunk, line, lines_in_chunk, relative, typed)
                if read is None:
                    read = _read_chunk(chunk, line, lines_in_chunk, relative, schema, skip_bad)
                yield read
                line += lines_in_chunk
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise SourceError(f"{relative}: cannot read it ({exc}); re-export the file") from exc


def _typed_chunk(
    chunk: bytes, first: int, lines: int, relative: str, typed: dict[str, pl.DataType] | None
) -> Chunk | None:
    """The chunk read by the typed schema, or None when a value is not of its type (or a line
    is not an object: the text read finds and names it)."""
    if typed is None:
        return None
    try:
        frame = pl.read_ndjson(io.BytesIO(chunk), schema=typed)
    except (pl.exceptions.PolarsError, ValueError):
        return None
    return Chunk(_with_lineage(frame, chunk, first, lines, None, relative))


def _with_lineage(
    frame: pl.DataFrame,
    chunk: bytes,
    first: int,
    lines: int,
    numbers: list[int] | None,
    relative: str,
) -> pl.DataFrame:
    """`frame` with `source_file` and `source_row`: `numbers`, else consecutive lines from
    `first`, unless the chunk's blank lines (which Polars skips) make them count the lines."""
    if numbers is None and frame.height != lines:
        numbers = _line_numbers(chunk, first)
    rows = (
        pl.Series("source_row", numbers, dtype=pl.Int64)
        if numbers is not None
        else pl.int_range(first, first + frame.height, dtype=pl.Int64, eager=True).alias(
            "source_row"
        )
    )
    return frame.with_columns(rows, source_file=pl.lit(relative))


def _read_chunk(
    chunk: bytes,
    first: int,
    lines: int,
    relative: str,
    schema: dict[str, pl.DataType],
    skip_bad: bool,
) -> Chunk:
    rejects = empty_rejects()
    body, numbers = chunk, None
    try:
        frame = pl.read_ndjson(io.BytesIO(body), schema=schema)
    except (pl.exceptions.PolarsError, ValueError) as exc:
        bad = _bad_lines(chunk, first)
        if not bad:
            last = first + lines - 1
            raise SourceError(
                f"{relative}: lines {first}-{last} cannot be read "
                f"({str(exc).splitlines()[0]}); check the file"
            ) from exc
        if not skip_bad:
            n, what = bad[0]
            more = f"; {len(bad) - 1} more bad line(s) near it" if len(bad) > 1 else ""
            raise SourceError(
                f"{relative}:{n}: {what}{more}; fix or remove the line and load again (nothing "
                'was loaded), or set on_reject = "skip" to load the other lines'
            ) from exc
        rejects = pl.DataFrame(
            {
                "source_file": [relative] * len(bad),
                "source_row": [n for n, _ in bad],
                "column": ["(line)"] * len(bad),
                "value": [None] * len(bad),
                "reason": [what for _, what in bad],
            },
            schema=REJECT_COLUMNS,
        )
        skipped = {n for n, _ in bad}
        every = chunk.split(b"\n")
        kept = [(n, ln) for n, ln in enumerate(every, start=first) if n not in skipped]
        body = b"\n".join(ln for _, ln in kept if ln.strip()) + b"\n"
        numbers = [n for n, ln in kept if ln.strip()]
        frame = pl.read_ndjson(io.BytesIO(body), schema=schema)
    return Chunk(_with_lineage(frame, chunk, first, lines, numbers, relative), rejects)


__all__ = ["SUFFIXES", "Chunk", "field_expr", "read_json_lines", "schema_of"]
