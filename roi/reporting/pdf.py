"""The report's PDF, laid out by WeasyPrint in a process of its own.

WeasyPrint is pure Python: importing it takes half a second and laying out the sample's eleven
pages more than a second, all of it holding the interpreter lock of whichever process runs it.
In the report's own process that time adds to reading the figures and drawing the charts; in a
worker started when the report begins, the import runs on the other core meanwhile. The worker
is a plain interpreter that imports WeasyPrint only (not roi), renders one self-contained HTML
file (charts inline, nothing fetched) to a PDF and ends.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from types import TracebackType

from roi.errors import RoiError

WORKER = """
import sys
from weasyprint import HTML
job = sys.stdin.readline().rstrip("\\n")
if job:
    source, target = job.split("\\t")
    HTML(filename=source, encoding="utf-8").write_pdf(target)
"""


class PdfWorker:
    """A process that imports WeasyPrint now and writes one PDF when asked (`write`)."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[str] | None = subprocess.Popen(
            [sys.executable, "-c", WORKER],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def write(self, html: str, path: Path) -> None:
        """Lay `html` out as the PDF `path` (written whole or not at all).

        Raises:
            RoiError: WeasyPrint failed (its last line of error), or the worker is used twice.
        """
        if self.process is None:
            raise RoiError("the PDF worker writes one PDF; start another for the next")
        process, self.process = self.process, None
        tmp = path.with_name(path.name + ".tmp")
        handle, source = tempfile.mkstemp(suffix=".html", dir=path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(html)
            _, errors = process.communicate(f"{source}\t{tmp}\n")
            if process.returncode != 0 or not tmp.exists():
                last = (errors.strip().splitlines() or ["no message"])[-1]
                raise RoiError(f"could not write the PDF {path}: WeasyPrint: {last}")
            tmp.replace(path)
        finally:
            Path(source).unlink(missing_ok=True)
            tmp.unlink(missing_ok=True)

    def close(self) -> None:
        """End the worker if it was not used (its import is dropped)."""
        if self.process is not None:
            process, self.process = self.process, None
            process.communicate("")

    def __enter__(self) -> PdfWorker:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


__all__ = ["PdfWorker"]
