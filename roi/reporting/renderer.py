"""The report's renderers: two worker processes, one drawing the charts (vl-convert), one
laying out the PDF (WeasyPrint), while the report's own process reads the figures.

Both renderers hold the interpreter lock of the process they run in for long stretches:
vl-convert while it starts its JavaScript engine (half a second, on the first chart of a
process), WeasyPrint (pure Python) while it is imported (half a second) and while it lays out
the pages (more than a second for the sample's eleven). Each in its own process, started when a
report begins, the engine starts and WeasyPrint is imported on the other core while roi reads,
and the charts are drawn as their sections build them, not after WeasyPrint's import. A worker
imports `roi.charting` or WeasyPrint only (not the rest of roi); the chart worker draws the
charts it is given (specs as JSON, each with `roi.charting`, so the bytes drawing in-process
gives), the PDF worker renders one HTML file to a PDF, reading nothing but the chart PNG files
its page names (`file:` URLs only; one that cannot be read fails the PDF). The workers start
without the current folder on their module path. Jobs and their files pass through a scratch
folder; a failed job is one `Error:` with the renderer's first line of error, and the worker
goes on with the next job; a worker that ends ends the renderer. One renderer serves every
report of a command.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, NoReturn

from roi.errors import RoiError

WORKER = """
import json, os, sys
from pathlib import Path
loaded = {}
if sys.argv[1] == "pdf":
    try:
        from weasyprint import HTML
        from weasyprint.urls import URLFetcher
        loaded["HTML"] = HTML
        # The charts' PNG files only; a picture that cannot be read fails the PDF.
        loaded["fetcher"] = URLFetcher(allowed_protocols={"file"}, fail_on_errors=True)
    except BaseException as exc:  # a WeasyPrint that cannot load fails each PDF, said once each
        loaded["error"] = exc
# Both draw charts: the PDF worker is idle until the page is ready.
from roi.charting import svg_to_png, to_svg
to_svg({"data": {"values": [{"x": 1}]}, "mark": "point", "encoding": {"x": {"field": "x"}}})
def charts(job):
    folder = Path(job["folder"])
    specs = json.loads((folder / "specs.json").read_text(encoding="utf-8"))
    svgs = [to_svg(spec) for spec in specs]
    pngs = [svg_to_png(svg) for svg in svgs]
    for i, (svg, png) in enumerate(zip(svgs, pngs)):
        (folder / f"{i}.svg").write_text(svg, encoding="utf-8")
        (folder / f"{i}.png").write_bytes(png)
def pdf(job):
    if "error" in loaded:
        raise loaded["error"]
    page = loaded["HTML"](filename=job["source"], encoding="utf-8", url_fetcher=loaded["fetcher"])
    page.write_pdf(job["target"])
for line in sys.stdin:
    job = json.loads(line)
    try:
        (charts if job["kind"] == "charts" else pdf)(job)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # WeasyPrint's fatal fetch error is a BaseException
        said = []
        for part in (exc, exc.__cause__):
            if part is not None:
                lines = [l.strip() for l in str(part).splitlines() if l.strip()] or [""]
                said.append(f"{type(part).__name__}: {lines[0]}".rstrip(": "))
        print("error", " (".join(said) + ")" * (len(said) - 1), flush=True)
        continue
    print("done", flush=True)
os._exit(0)
"""


# Waits for drawings started: (each chart as SVG, each SVG as PNG).
Drawn = Callable[[], tuple[list[str], list[bytes]]]


class _Ended(Exception):
    """A worker ended; the last line it wrote to stderr (how Python ended)."""


class _Worker:
    """One worker process, doing the jobs it is sent in order."""

    def __init__(self, role: Literal["charts", "pdf"], scratch: Path) -> None:
        self._errors = (scratch / f"{role}-errors.txt").open("w+", encoding="utf-8")
        self.process: subprocess.Popen[str] | None = subprocess.Popen(
            # -P: the current folder is not put on the worker's module path.
            [sys.executable, "-P", "-c", WORKER, role],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._errors,
            text=True,
        )
        self.role = role
        self.sent = self._done = 0  # jobs sent, and jobs done (in order)

    def send(self, job: dict[str, str]) -> int:
        """Queue a job; its number."""
        assert self.process is not None and self.process.stdin is not None  # piped, running
        try:
            self.process.stdin.write(json.dumps(job) + "\n")
            self.process.stdin.flush()
        except OSError:
            raise _Ended from None
        self.sent += 1
        return self.sent - 1

    def wait(self, number: int) -> str | None:
        """Wait until job `number` is done (and those before it); the failed job's error."""
        assert self.process is not None and self.process.stdout is not None  # piped, running
        while self._done <= number:
            try:
                answer = self.process.stdout.readline()
            except OSError:
                answer = ""
            self._done += 1
            if answer.startswith("error "):  # the job failed; the worker goes on
                return answer[6:].strip()
            if answer.strip() != "done":
                raise _Ended
        return None

    def close(self, kill: bool) -> str:
        """End the worker (it ends with its input; `kill`: at once); what it wrote to stderr."""
        process, self.process = self.process, None
        if process is not None:
            if kill:
                process.kill()
            with contextlib.suppress(OSError):  # a worker that died cannot read its input
                if process.stdin is not None:
                    process.stdin.close()
            process.wait()
            if process.stdout is not None:
                process.stdout.close()
        if self._errors.closed:
            return ""
        self._errors.seek(0)
        said = self._errors.read()
        self._errors.close()
        return said


class Renderer:
    """Two worker processes, started now: one draws charts (`charts`), one writes PDFs (`pdf`).

    A WeasyPrint that cannot load (no Pango) fails each PDF, not the charts."""

    def __init__(self) -> None:
        self.scratch = Path(tempfile.mkdtemp(prefix="roi-render-"))
        self.charting = _Worker("charts", self.scratch)
        self.printing = _Worker("pdf", self.scratch)
        self._stderr: dict[str, str] = {}  # what each worker wrote to stderr, once ended
        self._unfinished: set[Path] = set()  # PDFs being written (removed if never waited for)
        self._ended = False
        self._charts = 0  # drawings started

    def _running(self, what: str) -> None:
        if self._ended:
            raise RoiError(f"could not {what}: the renderer has ended")

    def _job(self, worker: _Worker, job: dict[str, str], what: str) -> Callable[[], None]:
        """Send `job` to `worker`; the function returned waits until it is done."""
        try:
            number = worker.send(job)
        except _Ended:
            self._fail(what, worker)

        def done() -> None:
            self._running(what)
            try:
                error = worker.wait(number)
            except _Ended:
                self._fail(what, worker)
            if error is not None:
                raise RoiError(f"could not {what}: {error}")

        return done

    def _fail(self, what: str, worker: _Worker) -> NoReturn:
        """`worker` ended: the error names the last line it wrote (how Python ended)."""
        self.close(kill=True)
        said = self._stderr[worker.role]
        last = (said.strip().splitlines() or ["it ended without a message"])[-1]
        raise RoiError(f"could not {what}: the renderer ended: {last}")

    def start_charts(self, specs: list[dict[str, Any]]) -> Drawn:
        """Start drawing each Vega-Lite spec as SVG, and that SVG as PNG (scale 2); the
        function returned waits for the drawings."""
        what = "draw the report's charts"
        self._running(what)
        folder = self.scratch / f"charts-{self._charts}"
        folder.mkdir()
        (folder / "specs.json").write_text(json.dumps(specs), encoding="utf-8")
        # Every other drawing goes to the PDF worker, unless it has a PDF to lay out first.
        shared = self._charts % 2 == 1 and not self._unfinished
        self._charts += 1
        worker = self.printing if shared else self.charting
        done = self._job(worker, {"kind": "charts", "folder": str(folder)}, what)

        def drawn() -> tuple[list[str], list[bytes]]:
            done()
            svgs = [(folder / f"{i}.svg").read_text(encoding="utf-8") for i in range(len(specs))]
            pngs = [(folder / f"{i}.png").read_bytes() for i in range(len(specs))]
            shutil.rmtree(folder)
            return svgs, pngs

        return drawn

    def charts(self, specs: list[dict[str, Any]]) -> tuple[list[str], list[bytes]]:
        """Each Vega-Lite spec drawn as SVG, and that SVG as PNG (scale 2)."""
        return self.start_charts(specs)()

    def start_pdf(self, html: str, path: Path) -> Callable[[], None]:
        """Start laying `html` out as the PDF `path`; the function returned waits until it is
        written (whole or not at all)."""
        what = f"write the PDF {path} (WeasyPrint)"
        self._running(what)
        source = self.scratch / f"print-{self.printing.sent}.html"
        source.write_text(html, encoding="utf-8")
        tmp = path.with_name(path.name + ".tmp")
        try:
            done = self._job(
                self.printing, {"kind": "pdf", "source": str(source), "target": str(tmp)}, what
            )
        except BaseException:
            source.unlink(missing_ok=True)
            raise
        self._unfinished.add(tmp)

        def written() -> None:
            try:
                done()
                tmp.replace(path)
            except RoiError:
                raise
            except BaseException:  # interrupted: stop the worker before removing what it writes
                self.close(kill=True)
                raise
            finally:
                self._unfinished.discard(tmp)
                tmp.unlink(missing_ok=True)
                source.unlink(missing_ok=True)

        return written

    def pdf(self, html: str, path: Path) -> None:
        """Lay `html` out as the PDF `path` (written whole or not at all)."""
        self.start_pdf(html, path)()

    def close(self, kill: bool = False) -> None:
        """End the workers (they end with their input; `kill`: at once) and remove the
        scratch folder and the part-written PDFs no one waited for."""
        if not self._ended:
            self._ended = True
            for worker in (self.charting, self.printing):
                self._stderr[worker.role] = worker.close(kill)
        for tmp in self._unfinished:
            tmp.unlink(missing_ok=True)
        self._unfinished.clear()
        shutil.rmtree(self.scratch, ignore_errors=True)

    def __enter__(self) -> Renderer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close(kill=kind is not None)  # on an error (or Ctrl-C) its work is not wanted


__all__ = ["Renderer"]
