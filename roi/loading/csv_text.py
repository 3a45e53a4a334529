"""CSV files read exactly as written: every field as text, the file's shape checked first.

A CSV that is cut off (a download or copy that stopped mid-row), a row with fewer or more
fields than the header, a header naming a column twice, a broken gzip stream or text that is not
UTF-8 is an error naming the file and the row, never a silently shorter or shifted row. Polars
alone pads a short row with nulls, so the field count of every record is checked here first, on
the raw bytes (quote-aware, vectorised with numpy, a block at a time).
"""

from __future__ import annotations

import csv
import gzip
import io
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from roi.errors import SourceError

BLOCK = 1 << 25  # bytes checked per numpy pass: bounds the checker's memory to a few hundred MB
NEWLINE = 10
CARRIAGE_RETURN = 13


def read_bytes(path: Path, relative: str) -> bytes:
    """The file's bytes, gunzipped when it is gzip; read errors name the real cause.

    Raises:
        SourceError: the file is missing, unreadable, or a broken gzip stream.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise SourceError(f"{relative}: no such file; check the path") from exc
    except IsADirectoryError as exc:
        raise SourceError(
            f"{relative}: is a folder, not a file; name a file or use a folder "
            "path in the connector"
        ) from exc
    except PermissionError as exc:
        raise SourceError(f"{relative}: permission denied; make the file readable") from exc
    except OSError as exc:
        raise SourceError(f"{relative}: cannot read the file ({exc.strerror or exc})") from exc
    if raw[:2] != b"\x1f\x8b":
        if path.name.endswith(".gz"):
            raise SourceError(
                f"{relative}: not a gzip file although its name ends in .gz; re-download it, or "
                "rename it without .gz if it is plain text"
            )
        return raw
    try:
        return gzip.decompress(raw)
    except EOFError as exc:
        raise SourceError(
            f"{relative}: the gzip stream is cut off (the download or copy stopped early); "
            "re-download the file"
        ) from exc
    except (gzip.BadGzipFile, zlib.error, OSError) as exc:
        raise SourceError(f"{relative}: corrupt gzip data ({exc}); re-download the file") from exc


def _record_fields(data: bytes, separator: int, quote: int | None) -> tuple[np.ndarray, bool]:
    """Fields per record (quote-aware), and whether the data ends with a line break.

    A record ends at a line break outside quotes; a final record without a line break counts.
    Blank records come back as 0 fields. Works on the positions of quotes, separators and line
    breaks (sparse), a block at a time, so memory stays bounded and no pass is per byte in Python.
    """
    counts: list[np.ndarray] = []
    parity = 0  # quotes seen so far, mod 2 (inside a quoted field when 1)
    carry = 0  # separators seen in the record that is still open
    carry_len = 0  # bytes of that record so far
    size = len(data)
    whole = np.frombuffer(data, dtype=np.uint8)
    for start in range(0, size, BLOCK):
        arr = whole[start : start + BLOCK]
        seps = np.flatnonzero(arr == separator)
        breaks = np.flatnonzero(arr == NEWLINE)
        if quote is not None:
            quotes = np.flatnonzero(arr == quote)
            if quotes.size or parity:
                seps = seps[((np.searchsorted(quotes, seps) + parity) & 1) == 0]
                breaks = breaks[((np.searchsorted(quotes, breaks) + parity) & 1) == 0]
                parity = (parity + quotes.size) & 1
        if breaks.size:
            at_break = np.searchsorted(seps, breaks)
            per = np.diff(at_break, prepend=0)
            per[0] += carry
            # Bytes of each record before its line break.
            lengths = np.diff(breaks, prepend=-1) - 1
            lengths[0] += carry_len
            before = whole[np.maximum(start + breaks - 1, 0)]
            # A record of no bytes (or only `\r`) is a blank line: 0 fields.
            blank = (lengths == 0) | ((lengths == 1) & (before == CARRIAGE_RETURN))
            counts.append(np.where(blank, 0, per + 1))
            carry = int(seps.size - at_break[-1])
            carry_len = int(arr.size - 1 - breaks[-1])
        else:
            carry += int(seps.size)
            carry_len += int(arr.size)
    ends_with_break = size == 0 or data[-1] == NEWLINE
    if not ends_with_break:
        counts.append(np.array([carry + 1], dtype=np.int64))
    if not counts:
        return np.zeros(0, dtype=np.int64), ends_with_break
    return np.concatenate(counts), ends_with_break


def header_names(
    data: bytes, relative: str, separator: str = ",", quote: str | None = '"'
) -> list[str]:
    """The header row's names (spaces and a byte-order mark stripped); duplicates are an error.

    Raises:
        SourceError: the file is empty or its header names a column twice.
    """
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    if not body.strip():
        raise SourceError(f"{relative}: the file is empty; re-export it with its header row")
    end = body.find(b"\n")
    carriage = body.find(b"\r")
    if carriage >= 0 and (end < 0 or carriage < end - 1):
        raise SourceError(
            f"{relative} row 1: lines end with a carriage return alone (classic Mac OS line "
            "endings), which CSV readers do not split on; save the file again with Windows "
            "(CRLF) or Unix (LF) line endings"
        )
    text = body[: end if end >= 0 else len(body)].decode("utf-8", errors="replace")
    reader = csv.reader(
        io.StringIO(text.rstrip("\r")),
        delimiter=separator,
        quotechar=quote or '"',
        quoting=csv.QUOTE_MINIMAL if quote else csv.QUOTE_NONE,
    )
    header = [h.strip() for h in next(reader, [])]
    seen: dict[str, int] = {}
    for position, name in enumerate(header, 1):
        if name in seen:
            raise SourceError(
                f"{relative}: the header names column {name!r} twice (fields {seen[name]} and "
                f"{position}); remove or rename one of them"
            )
        seen[name] = position
    return header


def check_structure(
    data: bytes, relative: str, separator: str = ",", quote: str | None = '"'
) -> list[int]:
    """Check that every record has the header's number of fields and the file is whole.

    The exact check behind `read_csv_text`'s fast one. Row numbers are those a spreadsheet
    shows: the header is row 1.

    Returns the row numbers of blank lines (they hold no data).

    Raises:
        SourceError: a short or long row, a quote left open at the end, or a last row without
            its line break (a file cut off mid-row).
    """
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    counts, ends_with_break = _record_fields(
        body, ord(separator), ord(quote) if quote is not None else None
    )
    if not counts.size:
        return []
    expected = int(counts[0])
    data_counts = counts[1:]
    wrong = np.flatnonzero((data_counts != expected) & (data_counts != 0))
    last_row = len(counts)
    if quote is not None and not ends_with_break and body.count(quote.encode()) % 2 == 1:
        raise SourceError(
            f"{relative} row {last_row}: a quoted field is never closed, so the file looks cut "
            "off mid-row; re-download or re-export it"
        )
    if wrong.size:
        row = int(wrong[0]) + 2
        found = int(data_counts[wrong[0]])
        more = f"; {wrong.size - 1} more such row(s)" if wrong.size > 1 else ""
        cut = (
            " (the last row: the file looks cut off mid-row; re-download it)"
            if row == last_row and not ends_with_break
            else "; check the row's separators and quotes, or re-export the file"
        )
        raise SourceError(
            f"{relative} row {row}: {found} field(s) where the header has {expected}{cut}{more}"
        )
    # A last row without a line break is accepted when it holds every field (spreadsheets
    # and the FOCUS spec's own examples end that way); one cut short is caught above.
    return [int(i) + 2 for i in np.flatnonzero(data_counts == 0)]


def _decode_error(data: bytes, relative: str) -> SourceError:
    """Where the first byte that is not UTF-8 sits, as an error a user can act on."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return SourceError(
            f"{relative}: UTF-16 text (it starts with a UTF-16 byte-order mark); re-export the "
            "file as UTF-8 CSV (Excel: Save As, CSV UTF-8)"
        )
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        row = data.count(b"\n", 0, exc.start) + 1
        byte = data[exc.start : exc.start + 1].hex().upper()
        return SourceError(
            f"{relative} row {row}: not UTF-8 text (byte 0x{byte}); re-export the file as "
            "UTF-8 (e.g. `iconv -f latin1 -t utf-8`)"
        )
    return SourceError(f"{relative}: not UTF-8 text; re-export the file as UTF-8")


def _separators_in_values(frame: pl.DataFrame, header: list[str], separator: str) -> int:
    """Separators inside field values (quoted), which are not field boundaries."""
    in_header = sum(name.count(separator) for name in header)
    if not frame.width:
        return in_header
    counted = frame.select(
        pl.sum_horizontal(
            pl.col(c).str.count_matches(separator, literal=True).fill_null(0).sum()
            for c in frame.columns
        )
    ).item()
    return in_header + int(counted or 0)


def _gzip_error(relative: str, exc: BaseException) -> SourceError:
    text = str(exc).lower()
    if isinstance(exc, EOFError) or "end of file" in text or "ended before" in text:
        return SourceError(
            f"{relative}: the gzip stream is cut off (the download or copy stopped early); "
            "re-download the file"
        )
    return SourceError(f"{relative}: corrupt gzip data ({exc}); re-download the file")


def _head(path: Path, relative: str, gzipped: bool) -> bytes:
    """The first line of the file (decompressed), enough to read the header."""
    try:
        if gzipped:
            with gzip.open(path, "rb") as fh:
                return fh.readline(1 << 20)
        with path.open("rb") as fh:
            return fh.readline(1 << 20)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise _gzip_error(relative, exc) from exc
    except OSError:
        read_bytes(path, relative)  # names the real cause (missing, folder, permission)
        raise


@dataclass
class _Scan:
    """What one streaming pass over the (decompressed) bytes found."""

    separators: int = 0
    last_byte: bytes = b""
    error: SourceError | None = None


def _scan(path: Path, relative: str, separator: bytes, gzipped: bool, out: _Scan) -> None:
    """Count separators and note the last byte, decompressing a block at a time.

    Runs in a thread beside Polars' parse (zlib releases the GIL), so it costs little wall time.
    """
    inflate = zlib.decompressobj(31) if gzipped else None
    try:
        with path.open("rb") as fh:
            while block := fh.read(1 << 22):
                if inflate is not None:
                    block = inflate.decompress(block)
                if block:
                    out.separators += block.count(separator)
                    out.last_byte = block[-1:]
        if inflate is not None and not inflate.eof:
            out.error = _gzip_error(relative, EOFError())
    except zlib.error as exc:
        out.error = _gzip_error(relative, exc)
    except OSError as exc:
        out.error = SourceError(f"{relative}: cannot read the file ({exc})")


def read_csv_text(
    path: Path, relative: str, *, quote_char: str | None = '"', separator: str = ","
) -> pl.DataFrame:
    """Read a CSV (plain or gzip) with every column as text, after checking its shape.

    Adds `source_row` (the row a spreadsheet shows; the header is row 1). Blank lines hold no
    data and are dropped; header names are stripped of spaces and a byte-order mark.

    The shape check is cheap when the file is whole: the separators in the file must be exactly
    (rows + 1) × (columns - 1) plus those inside quoted values (Polars refuses long rows itself,
    so a short row or a blank line is the only way to fall short), and the file must end with a
    line break. Only when that fails is every record counted, to name the row (or to accept
    blank lines).

    Raises:
        SourceError: naming the file (and row) for a broken gzip stream, an empty file, a
            duplicated header name, a short or long row, a file cut off mid-row, and text that
            is not UTF-8.
    """
    try:
        with path.open("rb") as fh:
            magic = fh.read(2)
    except OSError:
        read_bytes(path, relative)  # names the real cause (missing, folder, permission)
        raise
    gzipped = magic == b"\x1f\x8b"
    if path.name.endswith(".gz") and not gzipped and magic:
        read_bytes(path, relative)  # "not a gzip file although its name ends in .gz"
    header = header_names(_head(path, relative, gzipped), relative, separator, quote_char)
    scan = _Scan()
    counter = threading.Thread(
        target=_scan, args=(path, relative, separator.encode(), gzipped, scan), daemon=True
    )
    counter.start()
    try:
        frame = pl.read_csv(
            path,
            infer_schema=False,
            quote_char=quote_char,
            separator=separator,
            new_columns=header,
        )
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError, OSError) as exc:
        counter.join()
        if scan.error is not None:
            raise scan.error from exc
        if isinstance(exc, pl.exceptions.NoDataError):
            raise SourceError(
                f"{relative}: the file is empty; re-export it with its header row"
            ) from exc
        if isinstance(exc, OSError):
            raise _gzip_error(relative, exc) from exc
        whole = read_bytes(path, relative)
        text = str(exc).splitlines()[0]
        if "utf-8" in text.lower() or "utf8" in text.lower():
            raise _decode_error(whole, relative) from exc
        check_structure(whole, relative, separator, quote_char)
        raise SourceError(
            f"{relative}: cannot parse as CSV ({text}); check that quotes are balanced"
        ) from exc
    counter.join()
    if scan.error is not None:
        raise scan.error
    frame = frame.with_columns(source_row=pl.int_range(2, pl.len() + 2, dtype=pl.Int64))
    expected = (frame.height + 1) * (len(header) - 1) + _separators_in_values(
        frame.drop("source_row"), header, separator
    )
    if scan.separators == expected and scan.last_byte == b"\n":
        return frame
    blank = check_structure(read_bytes(path, relative), relative, separator, quote_char)
    return frame.filter(~pl.col("source_row").is_in(blank)) if blank else frame
